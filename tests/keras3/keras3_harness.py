"""Run programs under the real Keras 3 in the venvs made by tests/keras3/setup.sh.

Every program runs in its own process (forked by the env's `bootstrap.py --serve` server, which
imported Keras and its backend once) and its own temporary directory, with the backend set in
the environment. The bootstrap records what the program raised, the warnings it emitted and its
`RESULT` global (plain numbers and lists), so a test can assert the documented failure or
compare numbers with another backend.

Runs are queued as soon as the test session is collected (conftest.py), one thread per env, so
the envs work in parallel; a test only waits for its own run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock

HERE = Path(__file__).resolve().parent
BOOTSTRAP = HERE / "bootstrap.py"
CACHE = Path(os.environ.get("KERASFIX_TEST_CACHE", Path.home() / ".cache" / "kerasfix-tests"))
VENVS = CACHE / "venvs"
CHECKED_TOML = HERE.parents[1] / "rules" / "data" / "checked.toml"
# Importing TensorFlow or torch on a loaded two-core machine can take a minute by itself.
TIMEOUT_SECONDS = float(os.environ.get("KERASFIX_KERAS3_TIMEOUT", "420"))


@dataclass(frozen=True)
class Env:
    """A venv of setup.sh and the Keras backend a program runs with in it."""

    name: str
    venv: str
    backend: str
    keras: str
    # More of the program's environment (TF_USE_LEGACY_KERAS for tf-keras).
    environ: tuple[tuple[str, str], ...] = ()

    @property
    def python(self) -> Path:
        return VENVS / self.venv / "bin" / "python"


ENVS = {
    env.name: env
    for env in (
        Env("jax", "jax", "jax", "3.15.1"),
        Env("tensorflow", "tensorflow", "tensorflow", "3.15.1"),
        Env("torch", "torch", "torch", "3.15.1"),
        # TensorFlow installed, JAX or PyTorch backend: code that still calls TF ops in a Keras 3
        # model, run on the backend that breaks it.
        Env("tf-jax", "tensorflow", "jax", "3.15.1"),
        Env("tf-torch", "tensorflow", "torch", "3.15.1"),
        Env("keras3.0-jax", "keras305", "jax", "3.0.5"),
        Env("keras3.0-torch", "keras305", "torch", "3.0.5"),
        Env("keras3.0-tensorflow", "keras305tf", "tensorflow", "3.0.5"),
        Env("nnx", "nnx", "jax", "3.15.1"),
        # Keras 2: TensorFlow's `tf.keras` is tf-keras 2.21 here, as it was Keras 2 before Keras 3.
        Env("tf-keras", "tensorflow", "tensorflow", "2.21", (("TF_USE_LEGACY_KERAS", "1"),)),
    )
}


@dataclass
class Result:
    """What one program did."""

    env: Env
    returncode: int
    error: str | None = None
    message: str = ""
    traceback: str = ""
    warnings: list[str] = field(default_factory=list)
    result: object = None
    stdout: str = ""
    stderr: str = ""

    def describe(self) -> str:
        return (
            f"[{self.env.name}: keras {self.env.keras}, backend {self.env.backend}] "
            f"exit {self.returncode}, error {self.error}: {self.message[:500]}\n"
            f"--- traceback\n{self.traceback[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"
        )

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.error is None


# What each venv's server imports before it forks a program: the slow part of every program.
PRELOAD = {
    "jax": ("numpy", "jax", "keras"),
    "tensorflow": ("numpy", "tensorflow", "jax", "keras"),
    "torch": ("numpy", "torch", "keras"),
    "keras305": ("numpy", "jax", "keras"),
    "keras305tf": ("numpy", "tensorflow", "keras"),
    "nnx": ("numpy", "jax", "flax.nnx", "keras"),
    # By env name where it differs from its venv's.
    "tf-keras": ("numpy", "tensorflow", "tf_keras"),
}


def missing_venv(env: Env) -> str | None:
    if env.python.exists():
        return None
    return f"{env.python} is missing: run tests/keras3/setup.sh (tests/run_all.sh does)"


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


class Server:
    """One `bootstrap.py --serve` process of an env: runs one program at a time."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self._lock = Lock()
        self._process: subprocess.Popen | None = None
        # Made when the first program runs, so that importing the harness leaves nothing behind.
        self._home: Path | None = None

    def _start(self) -> subprocess.Popen:
        if self._home is None:
            self._home = Path(tempfile.mkdtemp(prefix=f"kerasfix-k3-{self.env.name}-"))
        environ = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self._home),
            "KERAS_HOME": str(self._home / ".keras"),
            "KERAS_BACKEND": self.env.backend,
            "JAX_PLATFORMS": "cpu",
            "CUDA_VISIBLE_DEVICES": "",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            **dict(self.env.environ),
        }
        with open(self._home / "server.log", "a", encoding="utf-8") as log:
            return subprocess.Popen(
                [str(self.env.python), str(BOOTSTRAP), "--serve", *PRELOAD.get(self.env.name, PRELOAD[self.env.venv])],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=environ,
            )

    def run(self, source: str, files: dict[str, str]) -> Result:
        with self._lock, tempfile.TemporaryDirectory(prefix="kerasfix-k3-") as tmp:
            work = Path(tmp)
            (work / "program.py").write_text(source, encoding="utf-8")
            for name, text in files.items():
                (work / name).write_text(text, encoding="utf-8")
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()
            request = {"program": "program.py", "outcome": "outcome.json", "cwd": tmp,
                       "timeout": TIMEOUT_SECONDS}
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            answer = self._process.stdout.readline()
            stdout, stderr = _read(work / "stdout.txt"), _read(work / "stderr.txt")
            if not answer:
                self._process = None
                log = _read(self._home / "server.log")[-3000:]
                return Result(self.env, -1, "ServerDied", log, stdout=stdout, stderr=stderr)
            status = json.loads(answer)["status"]
            if status is None:
                return Result(self.env, -1, "Timeout", f"no answer in {TIMEOUT_SECONDS:.0f} s",
                              stdout=stdout, stderr=stderr)
            outcome_text = _read(work / "outcome.json")
            outcome = json.loads(outcome_text) if outcome_text else {}
            return Result(
                self.env,
                status,
                outcome.get("error", None if outcome else "NoOutcome"),
                outcome.get("message", ""),
                outcome.get("traceback", ""),
                outcome.get("warnings", []),
                outcome.get("result"),
                stdout,
                stderr,
            )

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None


class Runner:
    """Runs each distinct (env, program) once per session; the envs work in parallel."""

    def __init__(self) -> None:
        self._servers = {name: Server(env) for name, env in ENVS.items()}
        self._pool = ThreadPoolExecutor(max_workers=len(ENVS))
        self._runs: dict[tuple[str, str, tuple], Future[Result]] = {}
        self._lock = Lock()

    def submit(self, env_name: str, source: str, files: dict[str, str] | None = None) -> Future[Result]:
        key = (env_name, source, tuple(sorted((files or {}).items())))
        with self._lock:
            if key not in self._runs:
                self._runs[key] = self._pool.submit(self._servers[env_name].run, source, files or {})
            return self._runs[key]

    def run(self, env_name: str, source: str, files: dict[str, str] | None = None) -> Result:
        problem = missing_venv(ENVS[env_name])
        if problem:
            raise AssertionError(problem)
        return self.submit(env_name, source, files).result()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        for server in self._servers.values():
            server.stop()


def kerasfix_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kerasfix.server", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def render_checked(outcomes: dict[tuple[str, str], list[bool]]) -> str:
    proven: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"keras": set(), "backends": set()})
    for (rule, env_name), passed in sorted(outcomes.items()):
        if passed and all(passed):
            env = ENVS[env_name]
            proven[rule]["keras"].add(env.keras)
            proven[rule]["backends"].add(env.backend)
    lines = [
        "# Where each rule's claim and fix were proven against the real Keras 3.",
        "# Generated by tests/keras3 (KERASFIX_RECORD_CHECKED=1 tests/run_all.sh tests/keras3);",
        "# do not edit by hand. Read by rules/engine/checked.py for `kerasfix rule` and hover.",
    ]
    version_key = lambda v: tuple(int(p) for p in v.split("."))  # noqa: E731
    for rule in sorted(proven):
        keras = ", ".join(f'"{v}"' for v in sorted(proven[rule]["keras"], key=version_key, reverse=True))
        backends = ", ".join(f'"{b}"' for b in sorted(proven[rule]["backends"]))
        lines += ["", f"[rule.{rule}]", f"keras = [{keras}]", f"backends = [{backends}]"]
    return "\n".join(lines) + "\n"


RUNNER = Runner()
