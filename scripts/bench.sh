#!/usr/bin/env bash
# Runs the benchmarks side by side with the Python peers (by hand, not in CI: the 32M-scale ones take a while),
# then assembles bench/results.md from bench/results/*.md. Run on a quiet machine: results are medians and
# ratios, but a loaded machine still distorts them.
#   npm run bench                 everything
#   npm run bench -- rating load  only these topics (load ranking rating implicit ease tf serve ensemble)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/node-env.sh  # Node >= 22 (the project-local Node 24 when the machine's is older)
bash scripts/setup.sh --bench
export REELAB_DATA_DIR="${REELAB_DATA_DIR:-$root/data}"
topics=("$@")
[ ${#topics[@]} -gt 0 ] || topics=(load ranking rating implicit ease tf serve ensemble)
run() { echo "[bench] $*" >&2; npx tsx "$@"; }
for t in "${topics[@]}"; do
  case "$t" in
    load) run bench/load.ts ;;
    ranking) run bench/ranking.ts ;;
    rating) run bench/rating-parity.ts && run bench/rating-speed.ts && run bench/rating-curves.ts ;;
    implicit)
      run bench/implicit-parity.ts && run bench/implicit-models.ts && run bench/implicit-speed.ts &&
        run bench/implicit-speed.ts --dataset synthetic:32000000 && run bench/implicit-scale.ts ;;
    ease) run bench/ease.ts ;;
    tf) run bench/tf-backends.ts ;;
    serve) run bench/serve-cold-start.ts && run bench/serve.ts ;;
    ensemble) run bench/ensemble.ts ;;
    *) echo "bench.sh: unknown topic $t" >&2; exit 2 ;;
  esac
done
npx tsx scripts/assemble-bench-results.ts
