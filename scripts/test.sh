#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, type-checks (strict, and as tslab compiles
# notebooks), lints, then runs the whole vitest suite including the integration tests (real MLflow server,
# notebooks executed through the tslab kernel). Extra arguments go to vitest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
# System pieces some integration tests need (headless Chromium, PostgreSQL server binaries); installed from
# Debian when missing and we are root. Without them those tests skip with a visible reason — except in CI,
# where the browser test fails instead.
bash scripts/setup-chromium.sh || echo "[test] warning: no Chromium; the browser tests will not run here" >&2
bash scripts/setup-postgres.sh || echo "[test] warning: no PostgreSQL server binaries; the PostgreSQL batch test will skip" >&2
echo "[test] type-checking" >&2
npx tsc -p .
node node_modules/@tslab/typescript-for-tslab/lib/tsc.js -p tsconfig.tslab.json
echo "[test] linting" >&2
npx biome check .
echo "[test] vitest" >&2
exec npx vitest run "$@"
