"""The contract between the judge and a sandbox: run untrusted code on test inputs, return raw bytes.

A sandbox never sees expected outputs and never decides pass/fail. It runs one sample's code on the inputs it is
given (a batch at a time, so a remote sandbox can do "small first batch, then the rest") and reports, per input,
what came out plus resource usage and a coarse status. The judge (harness/judge.py) compares outside.

Implementations: `local` (harness/sandbox/jail.py + pool.py: bubblewrap or an rlimits fallback) and `modal`
(harness/sandbox/modal.py). Not covered here: output comparison, verdict policy, scheduling across samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from harness.verdicts import Limits


class RunStatus(StrEnum):
    """What the sandbox observed for one input; the judge maps it to a Verdict."""

    OK = "ok"  # exited normally (exit code 0 / function returned); output still to be compared
    TIME_LIMIT = "time_limit"  # CPU limit or wall backstop hit
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    RUNTIME_ERROR = "runtime_error"  # non-zero exit, signal, exception, unserialisable return value
    COMPILE_ERROR = "compile_error"  # the code does not compile / define what is needed
    INFRA_ERROR = "infra_error"  # the sandbox itself failed; not the candidate's fault


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One sample: the code and how to call it. func_name None = stdin program run as __main__.

    prelude: judge-trusted code run before `code` in the same `__main__` namespace (e.g. the official
    LiveCodeBench import prelude). A sandbox may run it once and give every test a copy of the resulting
    namespace (and recursion limit) instead of re-running it; the effect must be that of running it first, as
    its own block (the code keeps its own line numbers and `from __future__` imports). Empty = none. Only for a
    sandbox whose `supports_prelude` is true (the judge inlines the prelude in the code for any other).
    """

    code: str
    func_name: str | None
    limits: Limits
    prelude: str = ""


@dataclass(slots=True)
class RawRun:
    """What came out of one test run. `stdout` for stdin programs; `returned` (JSON text) for function calls."""

    status: RunStatus
    stdout: bytes = b""
    stderr: bytes = b""  # truncated diagnostics
    returned: str | None = None
    exit_code: int | None = None
    signal: int | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    detail: str = ""


class SandboxSession(Protocol):
    """State for one sample. Fresh: nothing of a previous sample is visible. Close kills and removes everything."""

    def run_batch(self, inputs: list[str]) -> list[RawRun]:
        """Run the sample on each input in order; stop early after the first run whose status is not OK
        (the returned list is then shorter than `inputs`)."""
        ...

    def close(self) -> None: ...


class Sandbox(Protocol):
    name: str  # e.g. "bwrap", "rlimits-fallback", "modal"
    # Optional `supports_prelude: bool` (default False): the sandbox honours RunSpec.prelude.

    def open_session(self, spec: RunSpec) -> SandboxSession: ...

    def close(self) -> None: ...
