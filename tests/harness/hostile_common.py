"""Shared pieces of the hostile suites (test_hostile.py: whole-sample accounting, nothing carried over, verdict
classes; test_hostile_classic.py: the attacks of REFERENCE.md section 7): the sandbox fixture under bubblewrap and
the rlimits fallback, and helpers that look at what a sample left behind. Not a test module itself."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness.sandbox import jail as jail_mod
from harness.sandbox.base import RunSpec
from harness.sandbox.jail import JailOptions
from harness.sandbox.local import LocalSandbox
from harness.verdicts import Limits

LIM = Limits(time_limit_s=1.0, memory_limit_mb=256, output_limit_mb=4, wall_limit_s=1.5)
NPROC = 32
ROOT = os.geteuid() == 0
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
SECRET_ENV = "HF_TOKEN"


@pytest.fixture(scope="module", params=["bwrap", "rlimits"])
def sb(request):
    if request.param == "bwrap":
        ok, why = jail_mod.bwrap_works(jail_mod.real_python())
        if not ok:
            pytest.skip(f"bubblewrap does not work on this machine: {why}")
    # A token in the judge's environment must not reach the candidate.
    os.environ[SECRET_ENV] = "hf_secret_token_value"
    try:
        box = LocalSandbox(JailOptions(isolation=request.param, max_processes=NPROC, tmp_size_mb=8))
        run(box, "print(1)", [""])  # start the runner while the token is set
    finally:
        os.environ.pop(SECRET_ENV, None)
    yield box
    box.close()


def run(sb, code, inputs, func_name=None, limits=LIM):
    with sb.open_session(RunSpec(code, func_name, limits)) as s:
        return s.run_batch(inputs)


def fallback(sb) -> bool:
    return sb.isolation == "rlimits-fallback"


def candidate_processes(sb) -> list[int]:
    """Host pids running as the candidate uid (unique to this sandbox's runner)."""
    uid = sb.candidate_uid
    assert uid is not None, "needs a separate candidate uid (judge running as root)"
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                status = Path(f"/proc/{name}/status").read_text()
            except OSError:
                continue
            line = next(ln for ln in status.splitlines() if ln.startswith("Uid:"))
            if int(line.split()[1]) == uid and "\nState:\tZ" not in status:  # zombies are dead already
                pids.append(int(name))
    return pids


def assert_nothing_left(sb):
    if sb.candidate_uid is None:
        return
    deadline = time.monotonic() + 2
    while candidate_processes(sb) and time.monotonic() < deadline:
        time.sleep(0.02)  # reaped by the runner; the kernel may take a moment to drop /proc entries
    assert candidate_processes(sb) == []
