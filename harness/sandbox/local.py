"""The local sandbox: one warm runner (runner/, jailed by jail.py) per LocalSandbox, spoken to over pipes.

`LocalSandbox` implements harness/sandbox/base.py's Sandbox. It starts its runner lazily, keeps it warm across
samples (no jail or interpreter start per sample or per test), and restarts it when it dies. A LocalSandbox
and its sessions are used from ONE thread at a time (a worker pool gives each worker thread its own
LocalSandbox); a second thread entering a busy sandbox gets a RuntimeError rather than a corrupted channel.

Trust: everything inside the jail, runner included, is in the candidate's reach. This side believes only the
bytes that come back, and enforces the wall-clock backstop itself: if no reply arrives in time, the whole jail
(its process group, and in the root fallback every process of the candidate uid) is killed, the run is
`time_limit`, and a fresh runner starts for the next run. A runner that dies or breaks the channel while
candidate code runs is the candidate's doing (`runtime_error`); `infra_error` is kept for failures with no
candidate code running (the runner cannot start or answer its handshake).

Protocol with the runner: harness/sandbox/protocol.py (one module for local and Modal). The reply deadline
covers the runner's backstop stretched as far as the runner may stretch it. `name` says the isolation and the
accounting in force (e.g. "bwrap+cgroup-v1"; see jail.py), and goes into every result's `sandbox` field.

Not covered here: verdicts and output comparison (judge.py), scheduling (pool.py), the jail itself (jail.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import shutil
import signal
import tempfile
import threading
import time

from harness.sandbox import protocol
from harness.sandbox.base import RawRun, RunSpec, RunStatus
from harness.sandbox.jail import (
    Isolation,
    JailOptions,
    RunnerLaunch,
    accounting,
    choose_isolation,
    kill_candidate_uid,
    launch_runner,
    real_python,
)

START_TIMEOUT_S = 30.0
END_TIMEOUT_S = 15.0
REPLY_SLACK_S = 2.0  # on top of the runner's own wall backstop, before this side kills the jail
INPUT_RATE_BPS = 20e6  # generous transfer allowance for big inputs


class ChannelBroken(Exception):
    """The runner closed the channel, died, or sent something that is not a frame."""


class ChannelTimeout(Exception):
    """No complete reply before the deadline."""


class _Channel:
    """protocol.py frames over the runner's stdin/stdout, with deadlines on both directions."""

    def __init__(self, wfd: int, rfd: int) -> None:
        self.wfd, self.rfd = wfd, rfd
        os.set_blocking(wfd, False)
        os.set_blocking(rfd, False)
        self.frames = protocol.FrameBuffer()

    def send(self, parts: list[bytes], deadline: float) -> None:
        for part in parts:
            data = memoryview(part)
            while data:
                self._wait(self.wfd, select.POLLOUT, deadline)
                try:
                    data = data[os.write(self.wfd, data):]
                except BlockingIOError:
                    continue
                except OSError as exc:
                    raise ChannelBroken(f"write: {exc}") from exc

    def recv(self, deadline: float) -> tuple[dict, list[bytes]]:
        try:
            while (need := self.frames.needed()) > 0:
                self._wait(self.rfd, select.POLLIN, deadline)
                try:
                    chunk = os.read(self.rfd, max(1 << 16, need))
                except BlockingIOError:
                    continue
                except OSError as exc:
                    raise ChannelBroken(f"read: {exc}") from exc
                if not chunk:
                    raise ChannelBroken("runner closed the channel")
                self.frames.feed(chunk)
            frame = self.frames.next_frame()
        except protocol.ProtocolError as exc:
            raise ChannelBroken(str(exc)) from exc
        assert frame is not None
        return frame

    @staticmethod
    def _wait(fd: int, event: int, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ChannelTimeout()
        p = select.poll()
        p.register(fd, event)
        if not p.poll(left * 1000):
            raise ChannelTimeout()


class LocalSandbox:
    """A warm jailed runner for one worker. `name` says which isolation is in force ("bwrap" or
    "rlimits-fallback"). Use from one thread at a time."""

    supports_prelude = True  # RunSpec.prelude runs once per runner; each test gets the resulting names

    def __init__(self, options: JailOptions | None = None, *, isolation: str | None = None) -> None:
        opts = options or JailOptions()
        if isolation is not None:
            opts = dataclasses.replace(opts, isolation=isolation)
        self.options = opts
        self.python = real_python(opts.python)
        iso, self.fallback_reason = choose_isolation(opts, self.python)
        self.isolation: Isolation = iso
        self.accounting: str = accounting(opts)  # "cgroup-v1", "cgroup-v2" or "rusage"
        self.name: str = f"{iso}+{self.accounting}"
        self.namespaces: list[str] = []  # what the runner got (its ready frame), once started
        self._launch: RunnerLaunch | None = None
        self._chan: _Channel | None = None
        self._stderr = None
        self._busy = threading.Lock()
        self._session: LocalSession | None = None
        self.restarts = 0

    @property
    def candidate_uid(self) -> int | None:
        """The uid candidate code runs as (unique to the current runner), or None if it shares the judge's."""
        return self._launch.candidate_uid if self._launch is not None else None

    @property
    def jail_pid(self) -> int | None:
        """Host pid of the jail's outermost process (bwrap, or the runner in the fallback), if one runs."""
        return self._launch.proc.pid if self._launch is not None else None

    # ---- runner lifecycle
    def _ensure_runner(self) -> _Channel:
        if self._launch is not None and self._launch.proc.poll() is None and self._chan is not None:
            return self._chan
        self._kill_runner()
        self._stderr = tempfile.TemporaryFile()
        launch = launch_runner(self.options, self.isolation, self._stderr)
        self._launch = launch
        chan = _Channel(launch.proc.stdin.fileno(), launch.proc.stdout.fileno())
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            chan.send(protocol.encode(launch.config), deadline)
            hello, _ = chan.recv(deadline)
        except (ChannelBroken, ChannelTimeout) as exc:
            tail = self._stderr_tail()
            self._kill_runner()
            raise RunnerStartError(f"runner did not start ({type(exc).__name__}): {tail}") from exc
        if problem := protocol.check_ready(hello):
            self._kill_runner()
            raise RunnerStartError(problem)
        self.namespaces = list(hello.get("namespaces") or [])
        self._chan = chan
        return chan

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.seek(0)
            return self._stderr.read()[-600:].decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def _kill_runner(self) -> None:
        """Kill the whole jail (its process group) and anything its candidate uid left; forget the runner."""
        launch, self._launch, self._chan = self._launch, None, None
        if launch is None:
            return
        proc = launch.proc
        if proc.poll() is None:
            self.restarts += 1
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - nothing more we can do than try
            pass
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        if launch.cgroup is not None:  # everything the candidate left, frozen or not
            launch.cgroup.remove()
        if launch.isolation is Isolation.RLIMITS and launch.candidate_uid is not None:
            kill_candidate_uid(launch.candidate_uid)
        if launch.scratch:
            with contextlib.suppress(OSError, RecursionError):
                shutil.rmtree(launch.scratch, ignore_errors=True)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # ---- the Sandbox protocol
    def open_session(self, spec: RunSpec) -> "LocalSession":
        if self._session is not None:
            self._session.close()
        self._session = LocalSession(self, spec)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        if self._chan is not None:
            try:
                self._chan.send(protocol.op_frame("exit"), time.monotonic() + 2)
                self._launch.proc.wait(timeout=END_TIMEOUT_S)
            except Exception:  # noqa: BLE001 - the kill below covers every failure
                pass
        self._kill_runner()

    def __enter__(self) -> "LocalSandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._kill_runner()
        except Exception:  # noqa: BLE001
            pass


class RunnerStartError(RuntimeError):
    """The runner could not be started or did not answer its handshake: an infra error."""


class LocalSession:
    """One sample on a LocalSandbox's runner. Fresh state: the runner killed and wiped the previous sample."""

    def __init__(self, sandbox: LocalSandbox, spec: RunSpec) -> None:
        self.sb, self.spec = sandbox, spec
        self._sent_sample = False
        self._closed = False

    def run_batch(self, inputs: list[str]) -> list[RawRun]:
        if self._closed:
            raise RuntimeError("session is closed")
        if not self.sb._busy.acquire(blocking=False):
            raise RuntimeError("LocalSandbox used from two threads at once; give each worker its own sandbox")
        try:
            out: list[RawRun] = []
            for text in inputs:
                run = self._run_one(text.encode("utf-8", "surrogateescape"))
                out.append(run)
                if run.status is not RunStatus.OK:
                    break
            return out
        finally:
            self.sb._busy.release()

    def _run_one(self, data: bytes) -> RawRun:
        try:
            chan = self.sb._ensure_runner()
        except (RunnerStartError, OSError) as exc:
            self._sent_sample = False
            return RawRun(status=RunStatus.INFRA_ERROR, detail=str(exc)[:1000])
        t0 = time.monotonic()
        deadline = t0 + protocol.reply_deadline_s(self.spec.limits, len(data), REPLY_SLACK_S, INPUT_RATE_BPS)
        if self.spec.func_name:  # a LeetCode module may (re)load first, with a budget of its own
            deadline += protocol.BACKSTOP_STRETCH * self.spec.limits.wall_backstop_s
        try:
            if not self._sent_sample:
                deadline += 1.0 + len(self.spec.code) / 1e6  # compiling (~1 MB/s and more) and sending the code
                chan.send(protocol.sample_frame(self.spec), deadline)
                self._sent_sample = True
            chan.send(protocol.run_frame(data), deadline)
            header, bodies = chan.recv(deadline)
        except ChannelTimeout:
            self._lose_runner()
            return RawRun(status=RunStatus.TIME_LIMIT, wall_s=time.monotonic() - t0,
                          detail="no reply from the jail before the wall backstop; jail killed")
        except ChannelBroken as exc:
            self._lose_runner()
            return RawRun(status=RunStatus.RUNTIME_ERROR, wall_s=time.monotonic() - t0,
                          detail=f"the jail died while the candidate ran ({exc})")
        if header.get("unclean"):  # something of this test survived the runner's cleanup: start afresh
            self._lose_runner()
        return protocol.parse_run_reply(header, bodies)

    def _lose_runner(self) -> None:
        self.sb._kill_runner()
        self._sent_sample = False  # a new runner needs the sample again

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.sb._session is self:
            self.sb._session = None
        if not self._sent_sample or self.sb._chan is None:
            return
        try:
            self.sb._chan.send(protocol.op_frame("end"), time.monotonic() + END_TIMEOUT_S)
            reply, _ = self.sb._chan.recv(time.monotonic() + END_TIMEOUT_S)
            if not reply.get("clean"):
                self.sb._kill_runner()  # something survived the sweep: start afresh
        except (ChannelBroken, ChannelTimeout):
            self.sb._kill_runner()

    def __enter__(self) -> "LocalSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def create_local_sandbox(options: JailOptions | None = None, *, isolation: str | None = None) -> LocalSandbox:
    return LocalSandbox(options, isolation=isolation)
