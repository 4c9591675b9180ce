"""Run a command in its own process group and take the whole group down when our parent goes away.

Usage: python supervise.py -- <command> [args...]

The parent (reelab's Node process) holds our stdin open. When it exits for any reason -- including SIGKILL,
when it cannot run cleanup code -- stdin reaches EOF and we terminate the child's process group (SIGTERM, then
SIGKILL after a grace period). SIGTERM/SIGINT sent to us do the same. This is what guarantees that neither
the MLflow server nor a Jupyter kernel outlives the command that started it.
"""

import os
import signal
import subprocess
import sys
import threading

GRACE_SECONDS = 8.0


def main() -> int:
    if "--" not in sys.argv:
        print("usage: supervise.py -- command [args...]", file=sys.stderr)
        return 2
    cmd = sys.argv[sys.argv.index("--") + 1 :]
    child = subprocess.Popen(cmd, start_new_session=True, stdin=subprocess.DEVNULL)
    stopping = threading.Event()

    def stop(*_args: object) -> None:
        if stopping.is_set():
            return
        stopping.set()
        try:
            os.killpg(child.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            child.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def watch_parent() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except OSError:
            pass
        stop()

    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=stop).start())
    signal.signal(signal.SIGINT, lambda *a: threading.Thread(target=stop).start())
    threading.Thread(target=watch_parent, daemon=True).start()
    code = child.wait()
    # The group leader may be gone while helpers (workers) linger: clean them up too.
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    # os._exit: the stdin-watching daemon thread must not block interpreter shutdown.
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
