"""Shared helpers of the implicit benchmark peers: read the arrays reelab wrote, rank, score."""

import json
import os

import numpy as np
import scipy.sparse as sp


def load_exchange(directory):
    with open(os.path.join(directory, "meta.json")) as f:
        meta = json.load(f)
    arrays = {
        name: np.fromfile(os.path.join(directory, f"{name}.bin"), dtype=spec["dtype"])
        for name, spec in meta["files"].items()
    }
    return meta, arrays


def csr(arrays, prefix, shape):
    return sp.csr_matrix(
        (arrays[f"{prefix}_values"], arrays[f"{prefix}_indices"], arrays[f"{prefix}_indptr"]), shape=shape
    )


def ranking_metrics(model, train, test, k=10):
    """Same definitions as bench/implicit-common.ts: P = hits/K, R = hits/|test|, implicit's NDCG and MAP."""
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    ids, _ = model.recommend(users, train[users], N=k, filter_already_liked_items=True)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    p = r = ndcg = ap_sum = 0.0
    for row, u in enumerate(users):
        relevant = set(test.indices[test.indptr[u] : test.indptr[u + 1]].tolist())
        n = len(relevant)
        hits = 0
        dcg = ap = 0.0
        for j, item in enumerate(ids[row][:k]):
            if item in relevant:
                hits += 1
                dcg += discount[j]
                ap += hits / (j + 1)
        p += hits / k
        r += hits / n
        ndcg += dcg / discount[: min(k, n)].sum()
        ap_sum += ap / min(k, n)
    m = len(users)
    return {"precision@10": p / m, "recall@10": r / m, "ndcg@10": ndcg / m, "map@10": ap_sum / m, "users": m}
