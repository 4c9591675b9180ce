#!/usr/bin/env bash
# Installs everything reelab needs, idempotently: npm packages, the Python tooling venv (.venv) with pinned
# versions, and the tslab Jupyter kernel registered inside that venv. A second run does nothing.
#   scripts/setup.sh          tooling (JupyterLab, nbclient, MLflow server, Plotly renderer)
#   scripts/setup.sh --bench  also the Python peers for benchmarks (Surprise, implicit, pandas/pyarrow)
set -euo pipefail
venv=".venv"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
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

# 1. Node packages (when package.json or the lock changed since the last install; npm ci rejects
# locks that omit other platforms' optional packages, which npm 11 writes here).
node_stamp="node_modules/.reelab-lock-hash"
if [ ! -f "$node_stamp" ] || [ "$(cat "$node_stamp")" != "$(hash_of package.json package-lock.json)" ]; then
  say "installing npm packages"
  npm install --no-audit --no-fund 2>&1 | grep -v 'Unknown user config "nodedir"' >&2
  hash_of package.json package-lock.json > "$node_stamp"
fi

# `npx reelab …` runs this checkout's CLI (npm does not link a package's own bin into its node_modules).
ln -sfn ../../bin/reelab.js node_modules/.bin/reelab

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
