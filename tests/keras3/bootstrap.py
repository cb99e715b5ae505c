"""Run programs as `__main__` and write what happened as JSON.

Runs inside the Keras 3 venvs, so it uses the standard library only.

    python bootstrap.py PROGRAM OUTCOME_JSON     run one program
    python bootstrap.py --serve MODULE...        import MODULEs once, then for each request
                                                 line on stdin fork a child that runs it

Importing Keras with its backend (and TensorFlow or torch) costs 5-25 s, far more than most
programs; the server pays it once per venv. Each program still gets its own process (a fork
taken before anything ran), its own working directory and its own Keras state. A request is
`{"program": ..., "outcome": ..., "cwd": ..., "timeout": ...}`; the answer is
`{"status": exit status or null on timeout}`.
"""

import json
import os
import runpy
import signal
import sys
import time
import traceback
import warnings


def plain(value):
    """`RESULT` as JSON: arrays and scalars of any backend become lists and floats."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "tolist"):
        return value.tolist()
    try:
        import numpy

        return numpy.asarray(value).tolist()
    except Exception:  # noqa: BLE001 - anything else is recorded by its text
        return repr(value)


def run(program, outcome_path):
    outcome = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            namespace = runpy.run_path(program, run_name="__main__")
            outcome["result"] = plain(namespace.get("RESULT"))
        except BaseException as error:  # noqa: BLE001 - SystemExit and all are outcomes too
            outcome["error"] = type(error).__name__
            outcome["message"] = str(error)
            outcome["traceback"] = traceback.format_exc()
    outcome["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
    with open(outcome_path, "w", encoding="utf-8") as out:
        json.dump(outcome, out)


def run_in_child(request):
    """Fork, run the program in the child with its output in files, wait with a deadline."""
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(request["cwd"])
            for fd, name in ((1, "stdout.txt"), (2, "stderr.txt")):
                target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(target, fd)
            sys.path.insert(0, request["cwd"])
            run(request["program"], request["outcome"])
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(0)
    deadline = time.monotonic() + request["timeout"]
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def serve(modules):
    for module in modules:
        try:
            __import__(module)
        except ImportError:
            pass  # not in this venv: the programs that need it fail on their own
    out = sys.stdout
    for line in sys.stdin:
        status = run_in_child(json.loads(line))
        out.write(json.dumps({"status": status}) + "\n")
        out.flush()


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve(sys.argv[2:])
    else:
        sys.path.insert(0, ".")
        run(sys.argv[1], sys.argv[2])
