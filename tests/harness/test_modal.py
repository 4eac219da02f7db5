"""Modal grading offline: a fake Modal client drives the creation gate, the STARTING cap, retries and teardown; the
real runner (started locally by the fake) gives the same verdicts as the local judge; the Function body runs
through `.local()`. A live test runs only when MODAL_TOKEN_ID is set."""

from __future__ import annotations

import json
import os
import queue
import signal
import struct
import shutil
import subprocess
import tempfile
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.judge import Judge, judge_run
from harness.problems import Difficulty, Platform, Problem, load_problems, sample_reference_solutions
from harness.problems import TestCase as Case
from harness.sandbox import create_sandbox
from harness.sandbox.base import RunSpec, RunStatus
from harness.sandbox.jail import real_python
from harness.sandbox.protocol import PROTOCOL_VERSION
from harness.sandbox.modal import (
    CreationGate,
    Fleet,
    ModalInfraError,
    ModalOptions,
    ModalSandbox,
    credentials_problem,
    raw_runs_from_body,
)
from harness.verdicts import Limits, Verdict

REPO = Path(__file__).resolve().parents[2]
NO_TOKEN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("MODAL_")}


# ---------------------------------------------------------------------------------------------------- fakes
class RunnerProcess:
    """The real runner, started on this machine instead of in a container."""

    def __init__(self, argv: list[str]) -> None:
        assert argv[0] == "python" and "-c" in argv
        # A container's disk dies with it; here the runner's per-sample work dirs go to a dir removed at kill().
        self.tmp = tempfile.mkdtemp(prefix="lcb-modal-fake-")
        os.chmod(self.tmp, 0o755)
        self.proc = subprocess.Popen([real_python(), *argv[1:]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True, bufsize=0, cwd="/",
                                     env={**os.environ, "TMPDIR": self.tmp})

    def write(self, data: bytes) -> None:
        self.proc.stdin.write(data)

    def chunks(self):
        while chunk := os.read(self.proc.stdout.fileno(), 1 << 16):
            yield chunk

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        self.proc.stdin.close()
        self.proc.stdout.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class EchoProcess:
    """A canned runner speaking the framed protocol: every run prints its input back (fast, for volume tests)."""

    def __init__(self, box: FakeBox) -> None:
        self.box, self.buf, self.out = box, bytearray(), queue.SimpleQueue()

    def write(self, data: bytes) -> None:
        self.buf += data
        while len(self.buf) >= 4:
            (hlen,) = struct.unpack(">I", self.buf[:4])
            header = json.loads(self.buf[4:4 + hlen]) if len(self.buf) >= 4 + hlen else None
            size = sum(header.get("lens", [])) if header is not None else 0
            if header is None or len(self.buf) < 4 + hlen + size:
                return
            body = bytes(self.buf[4 + hlen:4 + hlen + size])
            del self.buf[:4 + hlen + size]
            self.on_frame(header, body)

    def on_frame(self, header: dict, body: bytes) -> None:
        if header["op"] == "config":
            self.box.client.mark_ready(self.box)
            self.reply({"ready": True, "protocol": PROTOCOL_VERSION})
        elif header["op"] == "run":
            self.reply({"status": "ok", "exit_code": 0, "cpu_s": 0.001, "wall_s": 0.002}, body, b"")

    def reply(self, header: dict, *bodies: bytes) -> None:
        h = json.dumps({**header, "lens": [len(b) for b in bodies]}).encode()
        self.out.put(struct.pack(">I", len(h)) + h + b"".join(bodies))

    def chunks(self):
        while (item := self.out.get()) is not None:
            yield item

    def kill(self) -> None:
        self.out.put(None)


class BrokenProcess(EchoProcess):
    """Answers the handshake, then the stream breaks on the first run (a lost connection)."""

    def on_frame(self, header: dict, body: bytes) -> None:
        if header["op"] == "run":
            self.out.put(ConnectionResetError("stream reset by peer"))
        else:
            super().on_frame(header, body)

    def chunks(self):
        while (item := self.out.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item


class SlowEchoProcess(EchoProcess):
    """Answers each run after a delay, as a runner does that stretched its backstop for a starved program."""

    DELAY_S = 0.6

    def on_frame(self, header: dict, body: bytes) -> None:
        if header["op"] == "run":
            reply = {"status": "ok", "exit_code": 0, "cpu_s": 0.001, "wall_s": self.DELAY_S}
            threading.Timer(self.DELAY_S, lambda: self.reply(reply, body, b"")).start()
        else:
            super().on_frame(header, body)


class FakeBox:
    def __init__(self, client: FakeClient, n: int) -> None:
        self.client, self.object_id, self.process, self.terminated = client, f"sb-{n}", None, False

    def start(self, argv: list[str]):
        self.process = self.client.process_kind(argv) if self.client.process_kind is RunnerProcess \
            else self.client.process_kind(self)
        return self.process

    def terminate(self) -> None:
        self.terminated = True
        self.client.mark_ready(self)  # a box terminated while starting no longer counts as starting
        if self.process is not None:
            self.process.kill()


class FakeClient:
    """Records every creation (time, resources), how many boxes are starting at once, and can fail creations."""

    def __init__(self, process_kind=EchoProcess, fail_creations: int = 0, create_delay_s: float = 0.0) -> None:
        self.process_kind, self.fail_creations, self.create_delay_s = process_kind, fail_creations, create_delay_s
        self.lock = threading.Lock()
        self.boxes: list[FakeBox] = []
        self.kwargs: list[dict] = []
        self.starting: set[int] = set()
        self.max_starting = 0
        self.attempts = 0

    def create(self, **kwargs) -> FakeBox:
        with self.lock:
            self.attempts += 1
            if self.attempts <= self.fail_creations:
                raise ModalInfraError("ResourceExhaustedError: too many sandboxes starting")
            box = FakeBox(self, len(self.boxes))
            self.boxes.append(box)
            self.kwargs.append(kwargs)
            self.starting.add(id(box))
            self.max_starting = max(self.max_starting, len(self.starting))
        time.sleep(self.create_delay_s)
        return box

    def mark_ready(self, box: FakeBox) -> None:
        with self.lock:
            self.starting.discard(id(box))


class RecordingGate(CreationGate):
    """The gate under test, keeping the admission time of every creation it let through."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.admitted: list[float] = []

    def wait_for_slot(self) -> float:
        t = super().wait_for_slot()
        self.admitted.append(t)
        return t


def max_in_any_window(times: list[float], window_s: float) -> int:
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def fake_sandbox_factory(client: FakeClient, gate: CreationGate, fleet: Fleet, options: ModalOptions,
                         sleeps: list[float] | None = None):
    record = sleeps.append if sleeps is not None else (lambda _s: None)
    return lambda: ModalSandbox(options, client=client, gate=gate, fleet=fleet, sleep=record)


def echo_problem(i: int, n_tests: int = 3) -> Problem:
    tests = tuple(Case(input=f"{i} {j}\n", output=f"{i} {j}\n") for j in range(n_tests))
    return Problem(f"echo{i:04d}", "echo", "print the input", Platform.ATCODER, "c", datetime(2025, 1, 1), "",
                   Difficulty.EASY, public_tests=tests)


# ---------------------------------------------------------------------------------------------------- tests
def test_modal_without_credentials_fails_at_once_naming_the_variables(tmp_path):
    env = {**NO_TOKEN_ENV, "HOME": str(tmp_path)}
    assert "MODAL_TOKEN_ID" in credentials_problem(env) and "MODAL_TOKEN_SECRET" in credentials_problem(env)
    (tmp_path / ".modal.toml").write_text('[default]\ntoken_id = "ak-x"\ntoken_secret = "as-y"\n')
    assert credentials_problem(env) is None  # a profile written by `modal token new` is enough
    assert credentials_problem({**env, "MODAL_TOKEN_ID": "ak-x"}).endswith("(only one of the two is set)")

    completions = tmp_path / "c.jsonl"
    completions.write_text(json.dumps({"question_id": "smp001", "code": "print(1)"}) + "\n")
    empty_home = tmp_path / "home"
    empty_home.mkdir()
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "harness.grade", "--sandbox", "modal", "--dataset", "sample",
                           "--completions", str(completions), "--out", str(tmp_path / "out.jsonl")],
                          capture_output=True, text=True, cwd=REPO, env={**NO_TOKEN_ENV, "HOME": str(empty_home)},
                          timeout=120, check=False)
    elapsed = time.monotonic() - started
    print(f"harness.grade --sandbox modal without credentials: exit {proc.returncode} after {elapsed:.1f} s")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "MODAL_TOKEN_ID" in lines[0] and "MODAL_TOKEN_SECRET" in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "out.jsonl").exists()

    # The eval fails the same way before generating anything (no run directory is made).
    proc = subprocess.run([sys.executable, "-m", "harness.eval", "--model", "sample", "--dataset", "sample",
                           "--sandbox", "modal", "--out", str(tmp_path / "run")], capture_output=True, text=True,
                          cwd=REPO, env={**NO_TOKEN_ENV, "HOME": str(empty_home)}, timeout=120, check=False)
    assert proc.returncode == 2 and "MODAL_TOKEN_ID" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()


def test_modal_registry_raises_user_error_and_sdk_stays_unimported(tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith("MODAL_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path))
    started = time.monotonic()
    with pytest.raises(UserError, match="MODAL_TOKEN_ID and MODAL_TOKEN_SECRET"):
        create_sandbox("modal")
    assert time.monotonic() - started < 1.0
    options = ModalOptions.from_env({"LCB_MODAL_CREATIONS_PER_S": "20", "LCB_MODAL_PIP": "numpy, sortedcontainers"})
    assert options.max_creations == 20 and options.pip_packages == ("numpy", "sortedcontainers")
    with pytest.raises(UserError, match="LCB_MODAL_MAX_STARTING"):
        ModalOptions.from_env({"LCB_MODAL_MAX_STARTING": "many"})
    code = "import sys, harness, harness.sandbox.modal, harness.judge; assert 'modal' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)


def test_modal_gate_default_rate_holds_in_every_window():
    now = [0.0]
    gate = CreationGate(clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    times = [gate.wait_for_slot() for _ in range(40)]
    assert max_in_any_window(times, 1.0) == 4  # Modal allows 5/s; the default stays under it
    assert times[-1] - times[0] >= 9.0  # 40 creations at 4/s need nine full windows after the first burst


def test_modal_1000_samples_never_exceed_rate_or_starting_cap():
    options = ModalOptions(max_creations=200, creation_window_s=1.0, max_starting=4)
    gate = RecordingGate(options.max_creations, options.creation_window_s, options.max_starting)
    client, fleet = FakeClient(create_delay_s=0.002), Fleet()
    problems = [echo_problem(i) for i in range(1000)]
    started = time.monotonic()
    with Judge(workers=16, sandbox=fake_sandbox_factory(client, gate, fleet, options)) as judge:
        results = list(judge.grade_many((p, "print(input())") for p in problems))
    elapsed = time.monotonic() - started
    busiest = max_in_any_window(gate.admitted, 1.0)
    print(f"1000 fake Modal samples in {elapsed:.2f} s; busiest 1-s window {busiest} creations (limit 200); "
          f"most starting at once {client.max_starting} (cap 4)")
    assert [r.verdict for r in results] == [Verdict.PASSED] * 1000
    assert all(r.tests_run == 3 for r in results)
    assert len(client.boxes) == len(gate.admitted) == 1000  # one container per sample
    assert busiest <= 200
    assert elapsed >= 4.0  # the limiter really held creation back (1000 at 200/s)
    assert 1 <= client.max_starting <= 4
    assert all(box.terminated for box in client.boxes) and fleet.live() == 0
    assert client.kwargs[0] == {"cpu": options.cpu, "timeout_s": options.sandbox_timeout_s,
                                "memory": (options.memory_request_mb, 4096 + options.memory_headroom_mb)}


def test_modal_infra_failures_are_retried_then_infra_error_never_a_fail():
    options = ModalOptions(retries=2, backoff_s=0.5, backoff_max_s=8.0)
    problem = echo_problem(7)

    # Creations that fail twice, then work: the sample is graded normally after two backoffs.
    sleeps: list[float] = []
    client, fleet = FakeClient(fail_creations=2), Fleet()
    with Judge(workers=1, sandbox=fake_sandbox_factory(client, CreationGate(100), fleet, options, sleeps)) as judge:
        (result,) = judge.grade_many([(problem, "print(input())")])
    assert result.verdict is Verdict.PASSED and client.attempts == 3
    assert len(sleeps) == 2 and 0.4 <= sleeps[0] <= 0.6 and 0.8 <= sleeps[1] <= 1.2  # doubling, with jitter

    # A stream that always breaks: retried in fresh containers, then infra_error (the judge retries once more).
    sleeps.clear()
    client, fleet = FakeClient(process_kind=BrokenProcess), Fleet()
    with Judge(workers=1, sandbox=fake_sandbox_factory(client, CreationGate(100), fleet, options, sleeps)) as judge:
        (result,) = judge.grade_many([(problem, "print(input())")])
    assert result.verdict is Verdict.INFRA_ERROR and not result.verdict.decided
    assert "stream reset by peer" in result.detail and result.failed_test is None
    assert len(client.boxes) == 2 * (options.retries + 1)
    assert all(box.terminated for box in client.boxes) and fleet.live() == 0


def test_modal_waits_for_the_runners_backstop_stretch_as_the_local_sandbox_does():
    # One protocol module decides the reply deadline for both: the runner may stretch its wall backstop up to
    # BACKSTOP_STRETCH times for a starved program, so a reply after 3 backstops is a verdict, not a lost container.
    options = ModalOptions(retries=0, reply_slack_s=0.05)
    client = FakeClient(process_kind=SlowEchoProcess)
    box = ModalSandbox(options, client=client, gate=CreationGate(100), fleet=Fleet(), sleep=lambda _s: None)
    limits = Limits(time_limit_s=0.1, wall_limit_s=0.2)  # reply after 0.6 s = 3 backstops
    with box.open_session(RunSpec("print(input())", None, limits)) as session:
        (run,) = session.run_batch(["x\n"])
    assert run.status is RunStatus.OK and run.stdout == b"x\n", run.detail


def test_modal_teardown_terminates_every_container_also_on_exceptions():
    client, fleet = FakeClient(), Fleet()
    sandbox = ModalSandbox(ModalOptions(), client=client, gate=CreationGate(100), fleet=fleet)
    spec = RunSpec("print(input())", None, Limits())
    session = sandbox.open_session(spec)
    assert [r.stdout for r in session.run_batch(["a\n", "b\n"])] == [b"a\n", b"b\n"]
    sandbox.open_session(spec).run_batch(["c\n"])  # opening a new session closes the previous one
    assert client.boxes[0].terminated and not client.boxes[1].terminated and fleet.live() == 1
    with pytest.raises(RuntimeError, match="boom"), sandbox:
        sandbox.open_session(spec).run_batch(["d\n"])
        raise RuntimeError("boom")
    assert all(box.terminated for box in client.boxes) and fleet.live() == 0

    # Sessions never closed (a crashed caller): the fleet's exit hook terminates what is left.
    leaked = [ModalSandbox(client=client, gate=CreationGate(100), fleet=fleet).open_session(spec) for _ in range(3)]
    for s in leaked:
        s.run_batch(["e\n"])
    assert fleet.live() == 3
    fleet.terminate_all()
    assert all(box.terminated for box in client.boxes) and fleet.live() == 0


def _sample_pairs():
    problems = load_problems("sample", start_date=None, end_date=None).by_id
    pairs = [(problems[qid], code) for qid, code in sorted(sample_reference_solutions().items())]
    with open(REPO / "harness" / "data" / "sample" / "completions.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    from harness.extract import extract_code

    # One completion per (problem, intended verdict), wrong answers first; two of the slow ones (they cost CPU).
    seen, slow = set(), 0
    for r in sorted(rows, key=lambda r: r["intended_verdict"] == "passed"):
        key = (r["question_id"], r["intended_verdict"])
        if key in seen or (r["intended_verdict"] == "time_limit" and slow == 2):
            continue
        seen.add(key)
        slow += r["intended_verdict"] == "time_limit"
        pairs.append((problems[r["question_id"]], r.get("code") or extract_code(r.get("raw_output"))))
    first = pairs[0][0]
    pairs += [(first, "import sys\nsys.exit(3)"), (first, "def broken(:\n  pass"), (first, None)]
    return pairs


def test_modal_verdicts_equal_the_local_judge_with_the_real_runner():
    pairs = _sample_pairs()
    limits = Limits(time_limit_s=0.5)  # the sample set's slow completions reach time_limit quickly
    with Judge(workers=2, limits=limits, sandbox="local") as judge:
        local = list(judge.grade_many(pairs))
    client, fleet = FakeClient(process_kind=RunnerProcess), Fleet()
    factory = fake_sandbox_factory(client, CreationGate(50), fleet, ModalOptions())
    with Judge(workers=2, limits=limits, sandbox=factory) as judge:
        remote = list(judge.grade_many(pairs))
    kinds = sorted({str(r.verdict) for r in local})
    print(f"{len(pairs)} samples; local verdicts {kinds}")
    assert {"passed", "wrong_answer", "runtime_error", "compile_error", "no_code"} <= set(kinds)
    assert [(str(r.verdict), r.failed_test, r.tests_run) for r in remote] == \
        [(str(r.verdict), r.failed_test, r.tests_run) for r in local]
    assert all(r.sandbox == "modal" for r in remote if r.verdict is not Verdict.NO_CODE)
    assert all(box.terminated for box in client.boxes) and fleet.live() == 0


def test_modal_function_body_through_local_equals_local_sandbox():
    modal_app = pytest.importorskip("harness.sandbox.modal_app", reason="the modal package is not installed")
    problem = load_problems("sample", start_date=None, end_date=None).problems[0]
    inputs = [t.input for t in problem.tests]
    wrong = "print(-1)"
    spec = {"code": wrong, "func_name": problem.func_name, "limits": Limits().to_dict()}
    rows = modal_app.run_tests_remote.local(spec, inputs)
    runs = raw_runs_from_body(rows)
    assert len(runs) == len(inputs)  # the body runs what it is given; the judge decides (outside) and exits early
    assert all(r.status is RunStatus.OK and r.stdout == b"-1\n" for r in runs)
    verdicts = [judge_run(r, i, problem.tests[i], False).verdict for i, r in enumerate(runs)]
    assert Verdict.WRONG_ANSWER in verdicts
    failing = modal_app.run_tests_remote.local({**spec, "code": "import os\nos._exit(4)"}, inputs)
    assert len(failing) == 1 and failing[0]["status"] == "runtime_error" and failing[0]["exit_code"] == 4


@pytest.mark.modal_live
def test_modal_live_sample_solutions_pass():
    if not os.environ.get("MODAL_TOKEN_ID"):
        print("skipped: MODAL_TOKEN_ID is not set (live Modal test)")
        pytest.skip("MODAL_TOKEN_ID is not set: live Modal grading not tested")
    pairs = _sample_pairs()[:15]
    with Judge(workers=8, sandbox="modal") as judge:
        remote = list(judge.grade_many(pairs))
    with Judge(workers=2, sandbox="local") as judge:
        local = list(judge.grade_many(pairs))
    assert [str(r.verdict) for r in remote] == [str(r.verdict) for r in local]
    assert all(r.verdict is Verdict.PASSED for r in remote)


class PatchedExec:
    """What `modal.Sandbox.exec(..., text=False)` returns, backed by a local runner: stdin.write/drain, stdout
    iteration, and the SDK's 2 MiB write-buffer limit (so the client must drain in chunks)."""

    def __init__(self, argv: list[str]) -> None:
        self.runner, self.pending = RunnerProcess(list(argv)), bytearray()
        self.stdin, self.stdout = self, self.runner.chunks()

    def write(self, data: bytes) -> None:
        if len(self.pending) + len(data) > 2 * 1024 * 1024:
            raise BufferError("Buffer size exceed limit. Call drain to flush the buffer.")
        self.pending += data

    def drain(self) -> None:
        self.runner.write(bytes(self.pending))
        self.pending.clear()


def test_modal_real_client_adapter_against_a_patched_sdk(monkeypatch):
    modal_app = pytest.importorskip("harness.sandbox.modal_app", reason="the modal package is not installed")
    import modal
    import modal.exception as mexc

    calls: list[dict] = []
    execs: list[PatchedExec] = []
    failures: list[Exception] = []

    class PatchedSandbox:
        object_id = "sb-patched"

        def exec(self, *argv, **kwargs):
            assert kwargs["text"] is False
            execs.append(PatchedExec(list(argv)))
            return execs[-1]

        def terminate(self):
            for e in execs:
                e.runner.kill()

    def create(**kwargs):
        calls.append(kwargs)
        if failures:
            raise failures.pop(0)
        return PatchedSandbox()

    monkeypatch.setenv("MODAL_TOKEN_ID", "ak-test")
    monkeypatch.setenv("MODAL_TOKEN_SECRET", "as-test")
    monkeypatch.setattr(modal.App, "lookup", staticmethod(lambda name, **kw: f"app:{name}"))
    monkeypatch.setattr(modal.Image, "build", lambda self, app=None: self)
    monkeypatch.setattr(modal.Sandbox, "create", staticmethod(create))
    modal_app._lookup_app.cache_clear()
    modal_app._built_image.cache_clear()
    try:
        fleet = Fleet()
        sandbox = ModalSandbox(ModalOptions(backoff_s=0.0), gate=CreationGate(100), fleet=fleet, sleep=lambda s: None)
        big = "x" * (3 << 20)  # larger than one stdin buffer: the client drains chunk by chunk
        with sandbox.open_session(RunSpec("import sys\nprint(len(sys.stdin.read()))", None, Limits())) as s:
            runs = s.run_batch([big, "ab"])
        assert [r.stdout for r in runs] == [f"{len(big)}\n".encode(), b"2\n"]
        assert calls[0]["block_network"] is True and calls[0]["app"] == "app:lcb-harness-grader"
        assert calls[0]["cpu"] == (1.0, 2.0) and calls[0]["memory"] == (1024, 4096 + 1024)
        assert fleet.live() == 0

        failures[:] = [mexc.InternalFailure("worker lost")]  # infrastructure: retried in a fresh sandbox
        with sandbox.open_session(RunSpec("print(7)", None, Limits())) as s:
            assert [r.stdout for r in s.run_batch([""])] == [b"7\n"]
        failures[:] = [mexc.AuthError("token revoked")]  # the user's problem: not retried
        with pytest.raises(UserError, match="Modal refused to create a sandbox: AuthError"):
            sandbox.open_session(RunSpec("print(7)", None, Limits())).run_batch([""])
        sandbox.close()
        assert fleet.live() == 0
    finally:
        modal_app._lookup_app.cache_clear()
        modal_app._built_image.cache_clear()
