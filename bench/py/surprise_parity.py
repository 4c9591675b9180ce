"""Surprise side of bench/rating-parity.ts: Surprise-default hyperparameters on the GroupLens folds u1..u5.

Prints one JSON object on stdout: {"algos": {name: {"rmse": [per fold], "mean": m, "fitSeconds": [...]}}}.
Usage: .venv/bin/python bench/py/surprise_parity.py --data-dir ../shared/datasets [--algos svd,baseline,svdpp,knn-baseline]
"""

import argparse
import json
import os
import sys
import time

from surprise import SVD, BaselineOnly, Dataset, KNNBaseline, Reader, SVDpp, accuracy
from surprise.model_selection import PredefinedKFold


def make(name: str, seed: int):
    if name == "svd":
        return SVD(random_state=seed)
    if name == "baseline":
        return BaselineOnly(verbose=False)
    if name == "svdpp":
        return SVDpp(random_state=seed, cache_ratings=True)
    if name == "knn-baseline":
        return KNNBaseline(sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False)
    raise SystemExit(f"unknown algo {name}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--algos", default="baseline,svd,svdpp,knn-baseline")
    ap.add_argument("--folds", default="u1,u2,u3,u4,u5")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    d = os.path.join(args.data_dir, "ml-100k")
    folds = [(os.path.join(d, f"{f}.base"), os.path.join(d, f"{f}.test")) for f in args.folds.split(",")]
    data = Dataset.load_from_folds(folds, reader=Reader("ml-100k"))
    out = {}
    for name in args.algos.split(","):
        rmses, secs = [], []
        for k, (train, test) in enumerate(PredefinedKFold().split(data)):
            algo = make(name, args.seed + k)
            t0 = time.perf_counter()
            algo.fit(train)
            secs.append(time.perf_counter() - t0)
            rmses.append(accuracy.rmse(algo.test(test), verbose=False))
            print(f"{name} fold {k + 1}: rmse {rmses[-1]:.4f} fit {secs[-1]:.2f}s", file=sys.stderr)
        out[name] = {"rmse": rmses, "mean": sum(rmses) / len(rmses), "fitSeconds": secs}
    print(json.dumps({"algos": out, "folds": args.folds.split(",")}))


if __name__ == "__main__":
    main()
