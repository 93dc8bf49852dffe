#!/usr/bin/env bash
# Install everything and open the dashboard on the embedded demo (no account, no network beyond pip).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -r requirements.txt
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec python3 -m streamlit run app.py "$@"
