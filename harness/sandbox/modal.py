"""Grading on Modal: the same trusted runner (runner/) and the same judge rules, one Modal Sandbox per sample.

`ModalSandbox` implements harness/sandbox/base.py's Sandbox. Each session (one sample) creates ONE Modal Sandbox
(gVisor container, `block_network=True`, a hard CPU and memory limit, a lifetime timeout), execs the runner inside it
(`python -I -S -B -c <runner source>`, so the image needs nothing of this project) and speaks the same framed protocol
as the local sandbox over the exec's stdin/stdout: config, then the sample's code once, then one `run` frame per test.
The judge (harness/judge.py) orders the tests hardest first, exits early, and compares outputs here, on the caller's
side: expected outputs never leave this process. Closing the session terminates the container.

At scale the failures are Modal's creation rate (5 sandboxes/s by default) and sandboxes stuck while starting, so
every creation in this process passes one `CreationGate`: a sliding-window rate limit (default 4 per second: no
1-second window ever holds more) and a cap on sandboxes still starting (created, runner not yet answering; default 32).
Infrastructure failures (a Modal exception, a lost stream, no reply long after the wall backstop) are retried in a
fresh container with exponential backoff; when the retries are spent the run is `infra_error`, never a fail. Every
live container is registered with a process-wide `Fleet` that terminates what is left at interpreter exit.

Credentials: MODAL_TOKEN_ID + MODAL_TOKEN_SECRET, or a profile in ~/.modal.toml (`modal token new`); without them
`ModalSandbox()` raises UserError at once. The Modal SDK is imported only by harness/sandbox/modal_app.py (the real
client and the Modal Function variant), so tests inject a fake client and run offline.

Not covered here: verdicts and comparison (judge.py), the runner itself (runner/), the local jail (jail.py).
"""

from __future__ import annotations

import atexit
import functools
import os
import random
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from harness.errors import UserError
from harness.program import OFFICIAL_PRELUDE
from harness.sandbox import protocol
from harness.sandbox.base import RawRun, RunSpec, RunStatus
from harness.sandbox.jail import CANDIDATE_ENV
from harness.sandbox.runner import runner_source
from harness.verdicts import Limits

CREDENTIALS_MESSAGE = (
    "Modal grading needs credentials: set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET (create a token with "
    "`modal token new`, which also writes ~/.modal.toml), or use --sandbox local"
)
CANDIDATE_UID_BASE = 1_800_000_000  # below jail.UID_BASE, so a fake run on this host never shares a local jail's uid


@dataclass(frozen=True, slots=True)
class ModalOptions:
    """How sandboxes are made and driven. CPU in physical cores and memory in MiB, each (request, hard limit);
    the memory limit is the candidate's own limit plus `memory_headroom_mb` for the runner and the container."""

    app_name: str = "lcb-harness-grader"
    python_version: str = f"{sys.version_info.major}.{sys.version_info.minor}"  # same language rules as local
    pip_packages: tuple[str, ...] = ("numpy",)  # what candidates may import beyond the stdlib (local: the venv)
    cpu: tuple[float, float] = (1.0, 2.0)
    memory_request_mb: int = 1024  # billed: max(request, use), so request little and cap hard
    memory_headroom_mb: int = 1024
    sandbox_timeout_s: int = 1800  # lifetime cap of one container (a safety net; sessions terminate it)
    max_creations: int = 4  # creations allowed in any window of `creation_window_s` (Modal's default limit: 5/s)
    creation_window_s: float = 1.0
    max_starting: int = 32  # containers created whose runner has not answered yet
    retries: int = 3  # infrastructure failures retried per sample, each in a fresh container
    backoff_s: float = 1.0  # first retry delay; doubles each time, with jitter, up to backoff_max_s
    backoff_max_s: float = 30.0
    start_timeout_s: float = 180.0  # create + image pull + runner handshake
    reply_slack_s: float = 30.0  # on top of the runner's own wall backstop before a run counts as lost


    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ModalOptions:
        """Defaults, overridden by LCB_MODAL_* variables (the CLIs create sandboxes by name, without arguments)."""
        env = os.environ if environ is None else environ
        changes: dict = {}
        for var, field, cast in _ENV_FIELDS:
            if env.get(var, "").strip():
                try:
                    changes[field] = cast(env[var].strip())
                except ValueError:
                    raise UserError(f"{var}={env[var]!r} is not valid: expected {cast.__name__}") from None
        try:
            return cls(**changes)._checked()
        except ValueError as err:
            raise UserError(str(err)) from None

    def _checked(self) -> ModalOptions:
        if self.max_creations < 1 or self.max_starting < 1 or self.retries < 0:
            raise ValueError("LCB_MODAL_CREATIONS_PER_S and LCB_MODAL_MAX_STARTING must be >= 1, "
                             "LCB_MODAL_RETRIES >= 0")
        return self


def _packages(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


_ENV_FIELDS = (
    ("LCB_MODAL_APP", "app_name", str),
    ("LCB_MODAL_CREATIONS_PER_S", "max_creations", int),  # raise it when Modal raised your workspace's limit
    ("LCB_MODAL_MAX_STARTING", "max_starting", int),
    ("LCB_MODAL_RETRIES", "retries", int),
    ("LCB_MODAL_PIP", "pip_packages", _packages),  # comma-separated; "" keeps the default
)


class ModalInfraError(RuntimeError):
    """A failure of Modal or of the connection to it, not of the candidate: retried, then `infra_error`."""


# ---------------------------------------------------------------------------------------------------- credentials
def credentials_problem(environ: dict[str, str] | None = None) -> str | None:
    """Why Modal cannot authenticate from here (None when a token is configured). Reads env vars and the config
    file only; no network."""
    env = os.environ if environ is None else environ
    if env.get("MODAL_TOKEN_ID") and env.get("MODAL_TOKEN_SECRET"):
        return None
    if env.get("MODAL_TOKEN_ID") or env.get("MODAL_TOKEN_SECRET"):
        return CREDENTIALS_MESSAGE + " (only one of the two is set)"
    path = Path(env.get("MODAL_CONFIG_PATH") or Path(env.get("HOME") or Path.home()) / ".modal.toml")
    try:
        import tomllib

        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return CREDENTIALS_MESSAGE
    if any(isinstance(p, dict) and p.get("token_id") and p.get("token_secret") for p in profiles.values()):
        return None
    return CREDENTIALS_MESSAGE


def require_credentials() -> None:
    problem = credentials_problem()
    if problem:
        raise UserError(problem)


# ---------------------------------------------------------------------------------------------------- creation gate
class CreationGate:
    """Process-wide admission for new containers: at most `max_creations` in any window of `window_s` seconds
    (a sliding log, so the bound holds for every window, not only aligned ones) and at most `max_starting`
    containers between their creation and their runner's first answer."""

    def __init__(self, max_creations: int = 4, window_s: float = 1.0, max_starting: int = 32, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        if max_creations < 1 or window_s <= 0 or max_starting < 1:
            raise ValueError("max_creations and max_starting must be >= 1 and window_s > 0")
        self.max_creations, self.window_s = max_creations, window_s
        self._clock, self._sleep = clock, sleep
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self._starting = threading.BoundedSemaphore(max_starting)

    def wait_for_slot(self) -> float:
        """Block until a creation is allowed, record it, and return its time."""
        while True:
            with self._lock:
                now = self._clock()
                while self._recent and now - self._recent[0] >= self.window_s:
                    self._recent.popleft()
                if len(self._recent) < self.max_creations:
                    self._recent.append(now)
                    return now
                wait = self._recent[0] + self.window_s - now
            self._sleep(max(wait, 1e-4))

    @contextmanager
    def starting(self) -> Iterator[None]:
        """Hold one STARTING place (released when the block ends); the creation itself is rate-limited inside."""
        self._starting.acquire()
        try:
            self.wait_for_slot()
            yield
        finally:
            self._starting.release()


class Fleet:
    """Every live container of this process, so none outlives it: terminated at exit (atexit) or on demand."""

    def __init__(self) -> None:
        self._live: dict[int, RemoteBox] = {}
        self._lock = threading.Lock()
        self._hooked = False

    def add(self, box: RemoteBox) -> None:
        with self._lock:
            self._live[id(box)] = box
            if not self._hooked:
                atexit.register(self.terminate_all)
                self._hooked = True

    def discard(self, box: RemoteBox) -> None:
        with self._lock:
            self._live.pop(id(box), None)

    def live(self) -> int:
        with self._lock:
            return len(self._live)

    def terminate_all(self) -> None:
        with self._lock:
            boxes, self._live = list(self._live.values()), {}
        for box in boxes:
            _terminate_quietly(box)


@functools.cache
def default_gate(max_creations: int = 4, window_s: float = 1.0, max_starting: int = 32) -> CreationGate:
    """One gate per process and setting: Modal's creation limit is per workspace, so every worker shares it."""
    return CreationGate(max_creations, window_s, max_starting)


@functools.cache
def default_fleet() -> Fleet:
    return Fleet()


# ---------------------------------------------------------------------------------------------------- the client seam
class RemoteProcess(Protocol):
    """A process running in a container: stdin bytes in, stdout chunks out."""

    def write(self, data: bytes) -> None: ...

    def chunks(self) -> Iterator[bytes]: ...


class RemoteBox(Protocol):
    """One container. `start` runs a command in it; `terminate` ends it (idempotent)."""

    object_id: str

    def start(self, argv: list[str]) -> RemoteProcess: ...

    def terminate(self) -> None: ...


class RemoteClient(Protocol):
    """Makes containers (harness.sandbox.modal_app.ModalClient for real; tests pass a fake)."""

    def create(self, *, cpu: tuple[float, float], memory: tuple[int, int], timeout_s: int) -> RemoteBox: ...


def _terminate_quietly(box: RemoteBox) -> None:
    try:
        box.terminate()
    except Exception:  # noqa: BLE001 - a container that cannot be reached is gone or will time out
        pass


def runner_argv() -> list[str]:
    """The command run in the container: the very runner the local jail uses, passed as source."""
    return ["python", "-I", "-S", "-B", "-c", runner_source()]


def runner_config(python_version: str) -> dict:
    """The runner's config frame inside a container: no bubblewrap there (gVisor is the jail); candidates run as a
    non-root uid unique to the container, in a fresh work dir, with the same rlimits and environment as locally."""
    return {
        "op": "config",
        "uid": CANDIDATE_UID_BASE + random.randrange(100_000_000),
        "library_paths": [f"/usr/local/lib/python{python_version}/site-packages"],
        "workdir": None,  # a fresh judge-owned dir per sample (the container's disk dies with it)
        "wipe": [],
        "namespaces": True,  # per-sample PID + IPC namespaces where gVisor grants them
        "fallback_ns": None,  # gVisor is the outer jail
        "cgroup": None,  # accounting: getrusage + a scan of the live tree (jail.py); gVisor caps the container
        "file_size": 64 << 20,
        "open_files": 256,
        "max_processes": 128,
        "env": dict(CANDIDATE_ENV),
        "preludes": [OFFICIAL_PRELUDE],  # run once as the container's runner starts (RunSpec.prelude)
    }


class _StreamChannel:
    """protocol.py frames over a remote process; a reader thread drains stdout so every receive has a deadline."""

    def __init__(self, proc: RemoteProcess) -> None:
        self.proc = proc
        self._frames = protocol.FrameBuffer()
        self._cond = threading.Condition()
        self._ended: str | None = None  # why the stream ended: "eof" or an error description
        threading.Thread(target=self._pump, name="modal-stdout", daemon=True).start()

    def _pump(self) -> None:
        try:
            for chunk in self.proc.chunks():
                with self._cond:
                    self._frames.feed(chunk)
                    self._cond.notify_all()
            reason = "eof"
        except Exception as err:  # noqa: BLE001 - reported to the waiting session as an infrastructure failure
            reason = f"{type(err).__name__}: {err}"
        with self._cond:
            self._ended = reason
            self._cond.notify_all()

    def send(self, parts: list[bytes]) -> None:
        try:
            self.proc.write(b"".join(parts))
        except Exception as err:  # noqa: BLE001
            raise ModalInfraError(f"writing to the container failed: {type(err).__name__}: {err}") from err

    def recv(self, deadline: float) -> tuple[dict, list[bytes]]:
        with self._cond:
            try:
                while self._frames.needed():
                    if self._ended is not None:
                        raise ModalInfraError(f"the container's stream ended ({self._ended})")
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise ModalInfraError("no reply from the container before the deadline")
                    self._cond.wait(left)
                frame = self._frames.next_frame()
            except protocol.ProtocolError as err:
                raise ModalInfraError(f"unreadable frame from the container: {err}") from err
        assert frame is not None
        return frame


# ---------------------------------------------------------------------------------------------------- the sandbox
class ModalSandbox:
    """Sandbox protocol on Modal: a session per sample, one container per session. One thread at a time (a Judge
    gives each worker its own); many ModalSandboxes share the process-wide gate and fleet."""

    name = "modal"
    supports_prelude = True  # the same runner as locally: RunSpec.prelude runs once per container

    def __init__(self, options: ModalOptions | None = None, *, client: RemoteClient | None = None,
                 gate: CreationGate | None = None, fleet: Fleet | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.options = opts = options or ModalOptions.from_env()
        if client is None:
            require_credentials()  # before importing the SDK: the one-line answer comes first
            try:
                from harness.sandbox.modal_app import ModalClient
            except ImportError as err:
                raise UserError(f"Modal grading needs the modal package ({err}): pip install "
                                "'lcb-harness[modal]'") from None
            client = ModalClient(opts)
        self.client = client
        self.gate = gate or default_gate(opts.max_creations, opts.creation_window_s, opts.max_starting)
        self.fleet = fleet or default_fleet()
        self.sleep = sleep
        self._session: ModalSession | None = None

    def open_session(self, spec: RunSpec) -> ModalSession:
        if self._session is not None:
            self._session.close()
        self._session = ModalSession(self, spec)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> ModalSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ModalSession:
    """One sample in one container (created on the first run). Tests already run stay valid when the container is
    lost: the next attempt resumes with the input that did not get an answer."""

    def __init__(self, sandbox: ModalSandbox, spec: RunSpec) -> None:
        self.sb, self.spec = sandbox, spec
        self._box: RemoteBox | None = None
        self._chan: _StreamChannel | None = None
        self._failures = 0
        self._closed = False

    def run_batch(self, inputs: list[str]) -> list[RawRun]:
        if self._closed:
            raise RuntimeError("session is closed")
        out: list[RawRun] = []
        while len(out) < len(inputs):
            try:
                chan = self._ensure_started()
                for text in inputs[len(out):]:
                    run = self._run_one(chan, text.encode("utf-8", "surrogateescape"))
                    out.append(run)
                    if run.status is not RunStatus.OK:
                        return out
            except ModalInfraError as err:
                self._discard()
                self._failures += 1
                if self._failures > self.sb.options.retries:
                    out.append(RawRun(status=RunStatus.INFRA_ERROR,
                                      detail=f"Modal failed {self._failures} times; last: {err}"[:1000]))
                    return out
                self.sb.sleep(self._backoff(self._failures))
        return out

    def _backoff(self, failures: int) -> float:
        opts = self.sb.options
        return min(opts.backoff_max_s, opts.backoff_s * 2 ** (failures - 1)) * random.uniform(0.8, 1.2)

    def _ensure_started(self) -> _StreamChannel:
        if self._chan is not None:
            return self._chan
        opts, limits = self.sb.options, self.spec.limits
        deadline = time.monotonic() + opts.start_timeout_s
        with self.sb.gate.starting():
            try:
                box = self.sb.client.create(cpu=opts.cpu, timeout_s=opts.sandbox_timeout_s, memory=(
                    opts.memory_request_mb, limits.memory_limit_mb + opts.memory_headroom_mb))
            except (UserError, ModalInfraError):
                raise
            except Exception as err:  # noqa: BLE001 - the client names what it could not do
                raise ModalInfraError(f"creating a sandbox failed: {type(err).__name__}: {err}") from err
            self._box = box
            self.sb.fleet.add(box)
            try:
                chan = _StreamChannel(box.start(runner_argv()))
            except Exception as err:  # noqa: BLE001
                raise ModalInfraError(f"starting the runner failed: {type(err).__name__}: {err}") from err
            chan.send(protocol.encode(runner_config(opts.python_version)))
            hello, _ = chan.recv(deadline)
            if problem := protocol.check_ready(hello):
                raise ModalInfraError(problem)
            chan.send(protocol.sample_frame(self.spec))
        self._chan = chan
        return chan

    def _run_one(self, chan: _StreamChannel, data: bytes) -> RawRun:
        limits: Limits = self.spec.limits
        chan.send(protocol.run_frame(data))
        wait = protocol.reply_deadline_s(limits, len(data), self.sb.options.reply_slack_s, 5e6)
        if self.spec.func_name:  # a LeetCode module may (re)load first, with a budget of its own
            wait += protocol.BACKSTOP_STRETCH * limits.wall_backstop_s
        return protocol.parse_run_reply(*chan.recv(time.monotonic() + wait))

    def _discard(self) -> None:
        box, self._box, self._chan = self._box, None, None
        if box is not None:
            _terminate_quietly(box)
            self.sb.fleet.discard(box)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._discard()

    def __enter__(self) -> ModalSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------------- function body
def run_tests_body(spec: dict, inputs: list[str]) -> list[dict]:
    """The Modal Function variant's body (modal_app.run_tests_remote): inside the container, run the sample on the
    inputs with the local sandbox (the same runner; bubblewrap if the container allows it, else the rlimits
    fallback, gVisor being the outer jail) and return the raw runs, early exit included. No expected outputs."""
    from dataclasses import asdict

    from harness.sandbox.local import LocalSandbox

    limits = Limits(**spec["limits"])
    with LocalSandbox() as sandbox, sandbox.open_session(RunSpec(spec["code"], spec.get("func_name"), limits)) as s:
        runs = s.run_batch(list(inputs))
    return [{**asdict(r), "status": r.status.value} for r in runs]


def raw_runs_from_body(rows: list[dict]) -> list[RawRun]:
    """The inverse of run_tests_body's encoding."""
    return [RawRun(**{**row, "status": RunStatus(row["status"])}) for row in rows]


def create_modal_sandbox(options: ModalOptions | None = None, **kwargs) -> ModalSandbox:
    return ModalSandbox(options, **kwargs)
