#!/usr/bin/env bash
# The main job (`npm start`): installs what is missing, starts MLflow if needed, runs the quickstart experiment
# on the data it finds, executes the quickstart notebook and prints where the MLflow UI and the outputs are.
# Extra arguments go to `reelab quickstart` (e.g. --data-dir DIR, --no-serve, --json).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/node-env.sh  # Node >= 22 (the project-local Node 24 when the machine's is older)
bash scripts/setup.sh
exec node bin/reelab.js quickstart "$@"
