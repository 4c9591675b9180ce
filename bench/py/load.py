"""Peer of bench/load.ts: pandas read_csv(engine='pyarrow') of an ml-32m-format ratings.csv, in a child process.

Usage: .venv/bin/python bench/py/load.py <ratings.csv> [repeats]
Prints one JSON line per repeat: {"seconds", "maxRssBytes", "rssAfterBytes", "rssBeforeBytes", "rows"}.
Each repeat runs in a fresh interpreter so peak RSS is that of one load.
"""

import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import numpy as np
import pandas as pd


def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize()


before = rss()
t = time.perf_counter()
df = pd.read_csv(
    sys.argv[1],
    engine='pyarrow',
    dtype={'userId': np.int32, 'movieId': np.int32, 'rating': np.float32, 'timestamp': np.int32},
)
seconds = time.perf_counter() - t
print(json.dumps({
    'seconds': seconds,
    'maxRssBytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    'rssAfterBytes': rss(),
    'rssBeforeBytes': before,
    'rows': len(df),
}))
"""


def main() -> None:
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    for _ in range(repeats):
        out = subprocess.run([sys.executable, '-c', CHILD, path], check=True, capture_output=True, text=True)
        print(out.stdout.strip(), flush=True)


if __name__ == '__main__':
    main()
