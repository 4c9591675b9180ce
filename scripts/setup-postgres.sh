#!/usr/bin/env bash
# Makes PostgreSQL's server binaries (initdb, pg_ctl, postgres) available for the batch-recommendation tests,
# which start a throw-away cluster of their own. Idempotent: does nothing when initdb and pg_ctl are already
# found (as test/serving/postgres.ts looks for them) on PATH or in Debian's /usr/lib/postgresql/<version>/bin.
# Exits non-zero when they are not there afterwards (scripts/test.sh makes that fatal under CI=true).
set -euo pipefail
if { command -v initdb && command -v pg_ctl; } >/dev/null 2>&1; then
  exit 0
fi
for dir in /usr/lib/postgresql/*/bin; do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
    exit 0
  fi
done
if [ "$(id -u)" != 0 ]; then
  echo "setup-postgres.sh: initdb is missing and installing PostgreSQL needs root (apt-get install postgresql)" >&2
  exit 1
fi
echo "[setup] installing Debian's postgresql (server binaries for the batch tests)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
# policy-rc.d keeps the package from starting a system-wide server; the tests run their own cluster.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.reelab
chmod +x /usr/sbin/policy-rc.d.reelab
restore=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  cp /usr/sbin/policy-rc.d.reelab /usr/sbin/policy-rc.d
  restore=1
fi
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends postgresql >/dev/null
if [ "$restore" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
rm -f /usr/sbin/policy-rc.d.reelab
ls /usr/lib/postgresql/*/bin/initdb >&2
