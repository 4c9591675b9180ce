#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, type-checks (strict, and as tslab compiles
# notebooks), lints, then runs the whole vitest suite including the integration tests (real MLflow server,
# notebooks executed through the tslab kernel). Extra arguments go to vitest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
echo "[test] type-checking" >&2
npx tsc -p .
node node_modules/@tslab/typescript-for-tslab/lib/tsc.js -p tsconfig.tslab.json
echo "[test] linting" >&2
npx biome check .
echo "[test] vitest" >&2
exec npx vitest run "$@"
