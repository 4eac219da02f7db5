"""The judge's vocabulary: verdicts, resource limits and per-test / per-sample results.

These are plain data shared by the judge, the sandboxes, the records and the RL reward. Nothing here runs code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    """Outcome of grading one sample (or one test). Strings are what files store."""

    PASSED = "passed"
    WRONG_ANSWER = "wrong_answer"
    TIME_LIMIT = "time_limit"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    RUNTIME_ERROR = "runtime_error"
    COMPILE_ERROR = "compile_error"
    NO_CODE = "no_code"
    # The grader itself could not decide (sandbox failed to start, worker died, remote outage).
    # Never a pass and never a fail: RL gives no reward, eval retries then reports it.
    INFRA_ERROR = "infra_error"

    @property
    def decided(self) -> bool:
        return self is not Verdict.INFRA_ERROR


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits for one test of one sample.

    time_limit_s: CPU seconds per test; decides `time_limit` (6 s is the official LiveCodeBench value, the
        NousCoder RL reward uses 15 s).
    wall_limit_s: wall-clock backstop per test enforced from outside the jail; None means
        max(2 * time_limit_s, time_limit_s + 2) so a sleeping program cannot hang the judge.
    memory_limit_mb: address-space limit (RLIMIT_AS) of the candidate; exceeding it is `memory_limit`.
    output_limit_mb: bytes of stdout+stderr read per test before the program is killed with `output_limit`.
    """

    time_limit_s: float = 6.0
    memory_limit_mb: int = 4096
    output_limit_mb: int = 64
    wall_limit_s: float | None = None

    @property
    def wall_backstop_s(self) -> float:
        if self.wall_limit_s is not None:
            return self.wall_limit_s
        return max(2.0 * self.time_limit_s, self.time_limit_s + 2.0)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class TestOutcome:
    """What happened on one test: verdict, resources, and truncated diagnostics (never the expected output)."""

    index: int  # index into problem.tests (public first, then private)
    verdict: Verdict
    cpu_s: float = 0.0
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    detail: str = ""
    stdout_head: str = ""
    stderr_head: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["verdict"] = str(self.verdict)
        return d


@dataclass(slots=True)
class SampleResult:
    """The judge's decision on one sample (one piece of code against all tests of one problem)."""

    verdict: Verdict
    tests_run: int = 0
    tests_total: int = 0
    failed_test: int | None = None  # index into problem.tests of the first failing test, or None
    cpu_s: float = 0.0  # summed over tests run
    wall_s: float = 0.0  # wall time of the whole sample, judge overhead included
    peak_rss_mb: float = 0.0  # max over tests run
    detail: str = ""
    sandbox: str = ""  # which isolation was used, e.g. "bwrap" or "rlimits-fallback"
    tests: list[TestOutcome] = field(default_factory=list)
    # how the code ran (harness/program.py): "function" (a stdin program's body in a function, as officially),
    # "module" (as __main__, when wrapping would change its meaning), "call" (LeetCode), "" (nothing ran)
    exec_mode: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED

    def to_dict(self) -> dict:
        return {
            "verdict": str(self.verdict),
            "passed": self.passed,
            "tests_run": self.tests_run,
            "tests_total": self.tests_total,
            "failed_test": self.failed_test,
            "cpu_s": round(self.cpu_s, 6),
            "wall_s": round(self.wall_s, 6),
            "peak_rss_mb": round(self.peak_rss_mb, 3),
            "detail": self.detail,
            "sandbox": self.sandbox,
            "tests": [t.to_dict() for t in self.tests],
            "exec_mode": self.exec_mode,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "SampleResult":
        tests = [TestOutcome(**{**t, "verdict": Verdict(t["verdict"])}) for t in d.get("tests", [])]
        return cls(
            verdict=Verdict(d["verdict"]),
            tests_run=d.get("tests_run", 0),
            tests_total=d.get("tests_total", 0),
            failed_test=d.get("failed_test"),
            cpu_s=d.get("cpu_s", 0.0),
            wall_s=d.get("wall_s", 0.0),
            peak_rss_mb=d.get("peak_rss_mb", 0.0),
            detail=d.get("detail", ""),
            sandbox=d.get("sandbox", ""),
            tests=tests,
            exec_mode=d.get("exec_mode", ""),
        )
