#!/usr/bin/env bash
# Opens JupyterLab (from .venv, with the tslab TypeScript kernel) on the notebooks folder, bound to 127.0.0.1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/node-env.sh  # Node >= 22 (the project-local Node 24 when the machine's is older)
bash scripts/setup.sh
export PATH="$root/node_modules/.bin:$PATH"
extra=()
# Jupyter refuses to start as root (containers, CI) unless told it is intended.
[ "$(id -u)" -ne 0 ] || extra+=(--allow-root)
exec .venv/bin/jupyter lab --ip 127.0.0.1 --notebook-dir "$root/notebooks" "${extra[@]}" "$@"
