"""implicit 0.7.3 side of bench/implicit-parity.ts: iALS from reelab's start and confidences, BPR over seeds."""

import sys
import time

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.evaluation import ranking_metrics_at_k
from implicit_common import csr, load_exchange, ranking_metrics


def main(directory):
    meta, a = load_exchange(directory)
    shape = (meta["users"], meta["items"])
    cui, train, test = csr(a, "cui", shape), csr(a, "train", shape), csr(a, "test", shape)
    threads = meta["threads"]
    p = meta["als"]

    als = AlternatingLeastSquares(
        factors=p["factors"],
        regularization=p["regularization"],
        alpha=1.0,  # cui already holds reelab's confidences 1 + alpha·1
        iterations=p["iterations"],
        use_cg=True,
        num_threads=threads,
        random_state=42,
    )
    als.cg_steps = p["cgSteps"]
    als.user_factors = a["x0"].reshape(shape[0], p["factors"]).copy()
    als.item_factors = a["y0"].reshape(shape[1], p["factors"]).copy()
    s = time.time()
    als.fit(cui, show_progress=False)
    als_seconds = time.time() - s
    out = {"ials": ranking_metrics(als, train, test)}

    b = meta["bpr"]
    runs = []
    bpr_seconds = 0.0
    own = {}
    for seed in range(meta["seeds"]):
        bpr = BayesianPersonalizedRanking(
            factors=b["factors"],
            learning_rate=b["learningRate"],
            regularization=b["regularization"],
            iterations=b["iterations"],
            num_threads=threads,
            verify_negative_samples=True,
            random_state=42 + seed,
        )
        s = time.time()
        bpr.fit(train, show_progress=False)
        bpr_seconds += (time.time() - s) / meta["seeds"]
        runs.append(ranking_metrics(bpr, train, test))
        if seed == 0:
            own["bpr"] = ranking_metrics_at_k(bpr, train, test, K=10, show_progress=False)
    own["ials"] = ranking_metrics_at_k(als, train, test, K=10, show_progress=False)
    out["bpr"] = {key: float(np.mean([r[key] for r in runs])) for key in runs[0]}
    out["seconds"] = {"ials": als_seconds, "bpr": bpr_seconds}
    out["implicitOwn"] = {m: {k: round(float(v), 5) for k, v in r.items()} for m, r in own.items()}
    print(__import__("json").dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
