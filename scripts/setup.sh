#!/usr/bin/env bash
# Installs everything reelab needs, idempotently: npm packages, the Python tooling venv (.venv) with pinned
# versions, and the tslab Jupyter kernel registered inside that venv. A second run does nothing.
#   scripts/setup.sh          tooling (JupyterLab, nbclient, MLflow server, Plotly renderer)
#   scripts/setup.sh --bench  also the Python peers for benchmarks (Surprise, implicit, pandas/pyarrow)
# Environment: REELAB_TF=none skips the native TensorFlow build; REELAB_SETUP_SKIP_PYTHON=1 skips the Python venv,
# the tslab kernel registration and TensorFlow (npm packages only: what test/cli/fresh-clone.test.ts runs).
set -euo pipefail
venv=".venv"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# Node >= 22 first on PATH (a project-local Node 24 in .tools/node24 when the machine's node is older), so that
# npm ci, install scripts and native builds run under it.
source scripts/node-env.sh
skip_python="${REELAB_SETUP_SKIP_PYTHON:-0}"
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --bench) want_bench=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
say() { printf '[setup] %s\n' "$*" >&2; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
# pip prints a warning per package for this machine's optional local indexes; keep its output readable.
pip_install() {
  local log
  log=$(mktemp)
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >"$log" 2>&1; then
    grep -v "is ignored: it is neither" "$log" >&2
    rm -f "$log"
    say "pip install failed"
    exit 1
  fi
  rm -f "$log"
}

# 1. Node packages, exactly as the committed lock says (npm ci never rewrites package-lock.json, so a fresh clone
#    stays clean), when package.json, the lock or the Node ABI changed since the last install.
node_stamp="node_modules/.reelab-lock-hash"
node_want="$(hash_of package.json package-lock.json) node-abi=$(node -p process.versions.modules)"
if [ ! -f "$node_stamp" ] || [ "$(cat "$node_stamp")" != "$node_want" ]; then
  say "installing npm packages (npm ci, node $(node --version))"
  npm ci --no-audit --no-fund 2>&1 | { grep -v 'Unknown user config "nodedir"' || true; } >&2
  echo "$node_want" > "$node_stamp"
fi

# `npx reelab …` runs this checkout's CLI (npm does not link a package's own bin into its node_modules).
ln -sfn ../../bin/reelab.js node_modules/.bin/reelab
# npm puts node_modules/.bin first on PATH for `npm run …` and `npx`: with the project-local Node 24 in use, a
# `node` there makes scripts and bin shebangs (#!/usr/bin/env node) run on it too.
if [ -n "${REELAB_NODE_DIR:-}" ]; then
  ln -sfn ../../.tools/node24/bin/node node_modules/.bin/node
elif [ -L node_modules/.bin/node ]; then
  rm -f node_modules/.bin/node
fi
# The CLI's compiled lib/ (.build/, git-ignored; bin/reelab.js runs it only while it matches lib/, else tsx).
if ! node -e 'process.exit(require("./bin/reelab.js").buildIsFresh() ? 0 : 1)'; then
  say "compiling lib/ into .build/ for the CLI"
  node -e 'require("./bin/reelab.js").buildLib()' || say "warning: compiling lib/ failed; the CLI runs through tsx"
fi

if [ "$skip_python" = 1 ]; then
  say "ready: node $(node --version) (npm packages only: REELAB_SETUP_SKIP_PYTHON=1 skipped .venv, the kernel and TensorFlow)"
  exit 0
fi

# 2. Python venv with pinned tooling.
python_bin="${REELAB_PYTHON:-python3}"
py_stamp="$venv/.reelab-requirements-hash"
req_hash=$(hash_of requirements.txt constraints.txt)
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv with $($python_bin --version 2>&1)"
  "$python_bin" -m venv "$venv"
fi
if [ ! -f "$py_stamp" ] || [ "$(cat "$py_stamp")" != "$req_hash" ]; then
  say "installing Python tooling into $venv (pinned; first time takes a few minutes)"
  pip_install -r requirements.txt -c constraints.txt
  echo "$req_hash" > "$py_stamp"
fi

# 3. Benchmark peers (only on request: they compile and are not needed by the workbench itself).
if [ "$want_bench" = 1 ]; then
  bench_stamp="$venv/.reelab-bench-hash"
  bench_hash=$(hash_of requirements-bench.txt constraints.txt)
  if [ ! -f "$bench_stamp" ] || [ "$(cat "$bench_stamp")" != "$bench_hash" ]; then
    say "installing benchmark peers (Surprise, implicit, pandas, pyarrow) into $venv"
    pip_install -r requirements-bench.txt -c constraints-bench.txt
    echo "$bench_hash" > "$bench_stamp"
  fi
fi

# 4. tslab kernel inside the venv, started through scripts/tslab-kernel.sh (project root as cwd, this
#    checkout's tslab; no global PATH needed).
tslab_bin="$root/scripts/tslab-kernel.sh"
kernel_dir="$venv/share/jupyter/kernels/tslab"
if [ ! -f "$kernel_dir/kernel.json" ] || ! grep -qF "\"$tslab_bin\"" "$kernel_dir/kernel.json"; then
  say "registering the tslab kernel inside $venv"
  PATH="$root/node_modules/.bin:$PATH" "$root/node_modules/.bin/tslab" install --python="$venv/bin/python" --sys-prefix >/dev/null
  "$venv/bin/python" - "$kernel_dir/kernel.json" "$tslab_bin" <<'PY'
import json, sys
path, tslab = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
spec["argv"][0] = tslab
json.dump(spec, open(path, "w"), indent=1)
PY
  rm -rf "$venv/share/jupyter/kernels/jslab"
fi
# 5. Native TensorFlow for tfjs-node (the hybrid network, dense scoring): built offline from the pinned
#    tensorflow-cpu wheel (~600 MB, about a minute the first time). REELAB_TF=none skips it; models then fall
#    back to the wasm or cpu backend.
if [ "${REELAB_TF:-native}" != "none" ]; then
  bash scripts/setup-tf.sh
fi
say "ready: node $(node --version), $("$venv/bin/python" --version), mlflow $("$venv/bin/python" -c 'import mlflow; print(mlflow.__version__)' 2>/dev/null)"
