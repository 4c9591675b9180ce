"""Surprise side of bench/rating-speed.ts: fit wall and CPU time (median of N) and test RMSE on a train/test pair.

Usage: .venv/bin/python bench/py/surprise_speed.py --train T.tsv --test S.tsv --scale 0.5,5
           [--algos svd,svdpp,knn-baseline] [--repeats 3] [--factors 100] [--epochs 20]
Files: "user<TAB>item<TAB>rating" lines. Prints one JSON object on stdout.
"""

import argparse
import json
import statistics
import sys
import time

from surprise import SVD, Dataset, KNNBaseline, Reader, SVDpp, accuracy
from surprise.model_selection import PredefinedKFold


def make(name: str, args):
    if name == "svd":
        return SVD(n_factors=args.factors, n_epochs=args.epochs, random_state=0)
    if name == "svdpp":
        return SVDpp(n_factors=args.svdpp_factors, n_epochs=args.epochs, random_state=0, cache_ratings=True)
    if name == "knn-baseline":
        return KNNBaseline(sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False)
    raise SystemExit(f"unknown algo {name}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--scale", default="1,5")
    ap.add_argument("--algos", default="svd,svdpp,knn-baseline")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--factors", type=int, default=100)
    ap.add_argument("--svdpp-factors", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args()
    lo, hi = (float(x) for x in args.scale.split(","))
    reader = Reader(line_format="user item rating", sep="\t", rating_scale=(lo, hi))
    data = Dataset.load_from_folds([(args.train, args.test)], reader=reader)
    train, test = next(PredefinedKFold().split(data))
    out = {}
    for name in args.algos.split(","):
        secs, cpu, rmse = [], [], None
        for _ in range(args.repeats):
            algo = make(name, args)
            t0 = time.perf_counter()
            c0 = time.process_time()
            algo.fit(train)
            cpu.append(time.process_time() - c0)
            secs.append(time.perf_counter() - t0)
            rmse = accuracy.rmse(algo.test(test), verbose=False)
        print(
            f"surprise {name}: wall {[round(s, 3) for s in secs]} cpu {[round(s, 3) for s in cpu]} rmse {rmse:.4f}",
            file=sys.stderr,
        )
        out[name] = {
            "seconds": secs,
            "median": statistics.median(secs),
            "cpu": cpu,
            "cpuMedian": statistics.median(cpu),
            "rmse": rmse,
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
