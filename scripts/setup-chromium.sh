#!/usr/bin/env bash
# Installs Debian's Chromium for the headless browser tests (driven by playwright-core; the tests find the
# browser as lib/viz/chromium.ts does: REELAB_CHROMIUM, else chromium / chromium-browser / google-chrome /
# google-chrome-stable on PATH). Idempotent: does nothing when such a browser is already there.
# Exits non-zero when no browser is there afterwards (scripts/test.sh makes that fatal under CI=true).
set -euo pipefail
if [ -n "${REELAB_CHROMIUM:-}" ]; then
  if [ -f "$REELAB_CHROMIUM" ] && [ -x "$REELAB_CHROMIUM" ]; then
    exit 0
  fi
  echo "setup-chromium.sh: REELAB_CHROMIUM=$REELAB_CHROMIUM is not an executable file" >&2
  exit 1
fi
for name in chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$name" >/dev/null 2>&1; then
    exit 0
  fi
done
if [ "$(id -u)" != 0 ]; then
  echo "setup-chromium.sh: /usr/bin/chromium is missing and installing it needs root (apt-get install chromium)" >&2
  exit 1
fi
echo "[setup] installing Debian's chromium (headless browser tests)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version >&2
