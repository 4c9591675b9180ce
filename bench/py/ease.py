"""Python peer of bench/ease.ts: numpy/scipy (OpenBLAS) Float64 inverses of the same EASE Gram matrix.

    .venv/bin/python bench/py/ease.py bench/out/ease/<dataset> [--threads 2] [--repeats 3] [--diag]

Reads X (binary, users x items CSR: indptr.i32, indices.i32, meta.json) written by bench/ease.ts, builds
G = X^T X + lambda I in float64 and times, under threadpoolctl's BLAS thread limit:
  inv    numpy.linalg.inv(G)                          (LU: getrf + getri)
  cho    scipy.linalg.cho_factor + cho_solve(., I)     (Cholesky + 2 triangular solves with n right-hand sides)
  potri  scipy.linalg.lapack dpotrf + dpotri           (what reelab's inverse is equivalent to)
  ease_primal / ease_dual  the whole B from X, as commonly written in numpy (dense inverse of the Gram matrix /
         Woodbury through the users x users matrix).
Prints one JSON object: {name: {"wall": s, "cpu": s}} medians (cpu = process CPU time, all threads), or with
--diag the diagonal of P from cho_solve and the max relative error of a Float32 inverse (P and B).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from threadpoolctl import threadpool_limits


def timed(f):
    c0 = time.process_time()
    t0 = time.perf_counter()
    f()
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}


def median_timing(runs):
    return {k: float(np.median([r[k] for r in runs])) for k in ("wall", "cpu")}


def ease_primal(x, lam):
    g = (x.T @ x).toarray()
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = p / (-np.diag(p))
    np.fill_diagonal(b, 0.0)
    return b


def ease_dual(x, lam):
    k = (x @ x.T).toarray()
    k[np.diag_indices_from(k)] += lam
    k = np.linalg.inv(k)
    t = np.asarray(x.T @ (k @ x.toarray()))  # X^T K X, items x items
    p = -t / lam
    p[np.diag_indices_from(p)] += 1.0 / lam
    b = p / (-np.diag(p))
    np.fill_diagonal(b, 0.0)
    return b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--diag", action="store_true")
    args = ap.parse_args()
    with open(os.path.join(args.dir, "meta.json")) as f:
        meta = json.load(f)
    indptr = np.fromfile(os.path.join(args.dir, "indptr.i32"), dtype=np.int32)
    indices = np.fromfile(os.path.join(args.dir, "indices.i32"), dtype=np.int32)
    x = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(meta["users"], meta["items"]))
    lam = float(meta["lambda"])
    g = (x.T @ x).toarray()
    g[np.diag_indices_from(g)] += lam
    n = g.shape[0]
    with threadpool_limits(limits=args.threads, user_api="blas"):
        if args.diag:
            p = la.cho_solve(la.cho_factor(g, lower=True), np.eye(n))
            # How far a Float32 inverse (e.g. a float32-only GEMM backend) would be from Float64.
            p32 = np.linalg.inv(g.astype(np.float32)).astype(np.float64)
            b64 = p / (-np.diag(p))
            b32 = p32 / (-np.diag(p32))
            np.fill_diagonal(b64, 0.0)
            np.fill_diagonal(b32, 0.0)
            print(
                json.dumps(
                    {
                        "diag": np.diag(p).tolist(),
                        "f32_p_err": float(np.abs(p32 - p).max() / np.abs(p).max()),
                        "f32_b_err": float(np.abs(b32 - b64).max() / np.abs(b64).max()),
                    }
                )
            )
            return
        out = {}
        jobs = {
            "inv": lambda: np.linalg.inv(g),
            "cho": lambda: la.cho_solve(la.cho_factor(g, lower=True), np.eye(n)),
            "potri": lambda: la.lapack.dpotri(la.lapack.dpotrf(g, lower=1)[0], lower=1),
            "ease_primal": lambda: ease_primal(x, lam),
            "ease_dual": lambda: ease_dual(x, lam),
        }
        for name, job in jobs.items():
            out[name] = median_timing([timed(job) for _ in range(args.repeats)])
            print(name, out[name], flush=True, file=sys.stderr)
    out["threads"] = args.threads
    out["n"] = n
    print(json.dumps(out))


if __name__ == "__main__":
    main()
