"""implicit's ranking_metrics_at_k on the factors and train/test CSR written by bench/ranking.ts.

Usage: .venv/bin/python bench/py/ranking.py --data bench/out/ranking [--threads 1,2] [--repeats 3]
Prints one JSON list on stdout: per (threads, BLAS threads) the run times (after one warm-up), the number of
users evaluated and implicit's metric values.

With --serve it loads the data once, then for each stdin line "<threads> <blas threads>" runs
ranking_metrics_at_k once and prints one JSON line {"seconds", "users", "metrics"} (bench/ranking.ts uses
this to interleave the two sides' runs, so a busy machine loads both alike).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits


def load(data: str):
    meta = json.load(open(os.path.join(data, "meta.json")))
    nu, ni, f = meta["users"], meta["items"], meta["factors"]

    def arr(name, dtype):
        return np.fromfile(os.path.join(data, name), dtype=dtype)

    uf = arr("user_factors.f32", "<f4").reshape(nu, f)
    itf = arr("item_factors.f32", "<f4").reshape(ni, f)

    def csr(prefix):
        indptr = arr(f"{prefix}_indptr.i32", "<i4")
        indices = arr(f"{prefix}_indices.i32", "<i4")
        return sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(nu, ni))

    return meta, uf, itf, csr("train"), csr("test")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()

    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.evaluation import ranking_metrics_at_k

    meta, uf, itf, train, test = load(args.data)
    k = meta["k"]
    users = int(np.count_nonzero(np.diff(test.indptr)))

    def model_for(threads):
        model = AlternatingLeastSquares(factors=meta["factors"], num_threads=threads, random_state=0)
        model.user_factors = np.ascontiguousarray(uf)
        model.item_factors = np.ascontiguousarray(itf)
        return model

    if args.serve:
        print(json.dumps({"ready": True, "users": users}), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            threads, blas = (int(x) for x in line.split())
            model = model_for(threads)
            with threadpool_limits(limits=blas, user_api="blas"):
                t0 = time.perf_counter()
                c0 = time.process_time()
                metrics = ranking_metrics_at_k(model, train, test, K=k, show_progress=False, num_threads=threads)
                cpu = time.process_time() - c0
                dt = time.perf_counter() - t0
            out = {
                "seconds": dt,
                "cpuSeconds": cpu,
                "users": users,
                "metrics": {key: float(v) for key, v in metrics.items()},
            }
            print(json.dumps(out), flush=True)
        return

    results = []
    for threads in [int(t) for t in args.threads.split(",")]:
        # implicit recommends one BLAS thread with its own threads; also try BLAS threads = threads
        for blas in sorted({1, threads}):
            model = model_for(threads)
            seconds = []
            metrics = None
            with threadpool_limits(limits=blas, user_api="blas"):
                for rep in range(args.repeats + 1):
                    t0 = time.perf_counter()
                    metrics = ranking_metrics_at_k(
                        model, train, test, K=k, show_progress=False, num_threads=threads
                    )
                    dt = time.perf_counter() - t0
                    print(
                        f"implicit threads={threads} blas={blas} run {rep}: {dt:.2f} s, {users / dt:.0f} users/s",
                        file=sys.stderr,
                    )
                    if rep > 0:
                        seconds.append(dt)
            results.append(
                {
                    "threads": threads,
                    "blas": blas,
                    "seconds": seconds,
                    "users": users,
                    "metrics": {key: float(v) for key, v in metrics.items()},
                }
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
