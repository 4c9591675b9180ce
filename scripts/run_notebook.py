"""Execute a tslab notebook headless with nbclient, optionally injecting parameters, and export it to HTML.

usage: run_notebook.py NOTEBOOK --out OUT.ipynb [--html OUT.html] [--param name=json ...] [--timeout SECONDS]
                       [--cell-timeout SECONDS]

Parameters become a code cell inserted after the cell tagged "parameters" (papermill's convention; papermill
itself has no TypeScript translator), e.g. --param dataset='"ml-100k"' gives `const dataset = "ml-100k";`
after the defaults, so the notebook's own defaults are overridden. The executed notebook keeps its outputs in
OUT (never in the source notebook). Exit code 1 and the failing cell's error on stderr when a cell fails.
"""

import argparse
import json
import os
import signal
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def inject_parameters(nb, params):
    if not params:
        return
    lines = ["// Injected parameters"]
    for name, value in params.items():
        lines.append(f"{name} = {json.dumps(value)};")
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = ["injected-parameters"]
    index = next(
        (i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])),
        None,
    )
    if index is None:
        raise SystemExit("run_notebook: the notebook has no cell tagged 'parameters' to override")
    nb.cells.insert(index + 1, cell)


_CLIENT = None


def _exit_on_signal(signum, _frame):
    # SIGTERM (the supervisor's Ctrl-C) would otherwise end Python and leave the kernel, which runs in a session
    # of its own, alive. A graceful shutdown can outlast the supervisor's grace period on a loaded machine, so
    # the kernel's process group is killed at once, then we exit.
    provisioner = getattr(getattr(_CLIENT, "km", None), "provisioner", None)
    pgid = getattr(provisioner, "pgid", None) or getattr(provisioner, "pid", None)
    if pgid:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    raise SystemExit(128 + signum)


def main() -> int:
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--out", required=True)
    ap.add_argument("--html")
    ap.add_argument("--param", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=900, help="budget for the whole notebook (s)")
    ap.add_argument("--cell-timeout", type=float, default=600)
    ap.add_argument("--kernel", default="tslab")
    args = ap.parse_args()

    params = {}
    for p in args.param:
        name, _, raw = p.partition("=")
        params[name] = json.loads(raw)

    nb = nbformat.read(args.notebook, as_version=4)
    inject_parameters(nb, params)

    workdir = os.path.dirname(os.path.abspath(args.notebook))
    client = NotebookClient(
        nb,
        timeout=args.cell_timeout,
        kernel_name=args.kernel,
        resources={"metadata": {"path": workdir}},
        allow_errors=False,
        record_timing=True,
    )
    global _CLIENT
    _CLIENT = client
    started = time.time()
    status = 0
    try:
        # nbclient has no whole-notebook budget; enforce it per cell from the time left.
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                left = args.timeout - (time.time() - started)
                if left <= 0:
                    raise CellTimeoutError.error_from_timeout_and_cell(
                        f"notebook time budget of {args.timeout:.0f} s used up", args.timeout, cell
                    )
                client.timeout = int(max(1, min(args.cell_timeout, left)))
                client.execute_cell(cell, index)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        print(f"run_notebook: {args.notebook} failed:\n{err}", file=sys.stderr)
        status = 1
    finally:
        nbformat.write(nb, args.out)
    if args.html:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(nb)
        with open(args.html, "w", encoding="utf-8") as fh:
            fh.write(body)
    print(json.dumps({"notebook": args.notebook, "out": args.out, "html": args.html, "seconds": round(time.time() - started, 2), "ok": status == 0}))
    return status


if __name__ == "__main__":
    sys.exit(main())
