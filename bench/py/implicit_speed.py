"""implicit 0.7.3 side of bench/implicit-speed.ts: median seconds per epoch of ALS (CG) and BPR."""

import json
import sys
import time

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit_common import csr, load_exchange


def main(directory):
    meta, a = load_exchange(directory)
    shape = (meta["users"], meta["items"])
    threads = meta["threads"]
    out = {}
    runs = {"ials": [], "bpr": []}
    for _ in range(meta.get("repeats", 1)):
        once(meta, a, shape, threads, runs)
    for m in meta["models"]:
        out[m] = float(np.median(runs[m]))
    print(json.dumps(out))


def once(meta, a, shape, threads, runs):
    if "ials" in meta["models"]:
        p = meta["als"]
        cui = csr(a, "cui", shape)
        als = AlternatingLeastSquares(
            factors=p["factors"],
            regularization=p["regularization"],
            alpha=1.0,  # cui holds the confidences already
            iterations=p["iterations"],
            use_cg=True,
            num_threads=threads,
            random_state=42,
        )
        als.cg_steps = p["cgSteps"]
        epochs = []
        als.fit(cui, show_progress=False, callback=lambda it, elapsed, loss: epochs.append(elapsed))
        runs["ials"].append(float(np.median(epochs)))
    if "bpr" in meta["models"]:
        b = meta["bpr"]
        train = csr(a, "train", shape)
        bpr = BayesianPersonalizedRanking(
            factors=b["factors"],
            learning_rate=b["learningRate"],
            regularization=b["regularization"],
            iterations=b["iterations"],
            num_threads=threads,
            verify_negative_samples=True,
            random_state=42,
        )
        # implicit's BPR has no per-epoch callback: time the whole fit (one-off setup included).
        s = time.time()
        bpr.fit(train, show_progress=False)
        runs["bpr"].append((time.time() - s) / b["iterations"])


if __name__ == "__main__":
    main(sys.argv[1])
