"""The typed summary of a run (`summary.json`): what harness.scoring computes and every reader uses.

Fields are attributes (`summary.pass_at_1`, `summary.ci95.low`, `summary.by_month["2024-09"].n_problems`); the file
keeps the published JSON keys (`pass@1`, `pass@k`, ...) through aliases. `schema_version` is written with every
summary and checked on read: a file from a newer harness is refused in one line instead of being half-understood.
`GradeSummary` adds what `harness.grade` reports about its run (throughput, the per-line pass rate).
Not covered: how the numbers are computed (harness.scoring) or displayed (harness.eval, harness.report).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import UserError

SUMMARY_SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class Interval(_Model):
    """A 95% interval (fractions) and how it was computed; None bounds when nothing was scored."""

    low: float | None = None
    high: float | None = None
    method: str = ""


class GroupScore(_Model):
    """pass@1 over one group of problems (a difficulty, platform or month) with its size and interval."""

    pass_at_1: float = Field(alias="pass@1")
    n_problems: int
    ci95: Interval | None = None


class Errata(_Model):
    problems: dict[str, dict[str, int]] = Field(default_factory=dict)
    note: str = ""
    pass_at_1_excluding_errata: float | None = Field(None, alias="pass@1_excluding_errata")
    n_problems_excluding_errata: int = 0


class RunSummary(_Model):
    """Everything summary.json carries; fractions in [0, 1]; None where there is nothing to score."""

    schema_version: int = SUMMARY_SCHEMA_VERSION
    pass_at_1: float | None = Field(alias="pass@1")
    pass_at_k: dict[str, float] = Field(default_factory=dict, alias="pass@k")
    pass_at_k_note: str = Field("", alias="pass@k_note")
    n_problems: int = 0
    n_problems_unscored: int = 0
    n_samples: int = 0
    n_min: int = 0
    n_max: int = 0
    n_infra_error: int = 0
    infra_error_note: str = ""
    verdict_counts: dict[str, int] = Field(default_factory=dict)
    by_difficulty: dict[str, GroupScore] = Field(default_factory=dict)
    by_platform: dict[str, GroupScore] = Field(default_factory=dict)
    by_month: dict[str, GroupScore] = Field(default_factory=dict)
    ci95: Interval = Field(default_factory=Interval)
    errata: Errata = Field(default_factory=Errata)
    n_problems_missing: int | None = None  # problems of the selection with no record at all (when known)
    n_missing: int = 0  # requested samples never produced (eval)
    n_problems_selected: int | None = None  # problems in the run's selection (eval)
    run: dict[str, Any] | None = None  # what the eval did: model, backend, out, timings

    def incomplete_reasons(self) -> list[str]:
        """Why the score is not over every sample of the selection (empty: it is)."""
        reasons = []
        if self.n_infra_error:
            reasons.append(f"{self.n_infra_error} infra_error samples (the grader could not decide)")
        if self.n_missing:
            reasons.append(f"{self.n_missing} samples missing (never produced)")
        return reasons

    def __getitem__(self, key: str) -> Any:
        """JSON-key reading (`summary["pass@1"]`) for callers outside this package not yet moved to attributes
        (harness/view, repro). Code in harness/ uses the attributes."""
        return self.as_dict()[key]

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)

    def as_dict(self) -> dict:
        """The JSON shape (published keys), for writers of other formats."""
        return self.model_dump(mode="json", by_alias=True)


class GradeSummary(RunSummary):
    """harness.grade's summary: the run's scores plus the per-line pass rate and throughput."""

    n_lines: int = 0
    passed: int = 0
    pass_rate: float = 0.0
    tests_run: int = 0
    tests_total: int = 0
    wall_s: float = 0.0
    samples_per_s: float | None = None
    workers: int | None = None


def read_summary(path: str | Path, kind: type[RunSummary] = RunSummary) -> RunSummary:
    """Load a summary file; UserError (one line) when it is unreadable, malformed or from a newer harness."""
    import json

    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: not a readable summary ({err})") from None
    version = data.get("schema_version", 1) if isinstance(data, dict) else None
    if not isinstance(version, int) or version > SUMMARY_SCHEMA_VERSION:
        raise UserError(f"{path}: summary schema version {version!r} is newer than this harness reads "
                        f"({SUMMARY_SCHEMA_VERSION}); upgrade lcb-harness or re-score the run")
    try:
        return kind.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise UserError(f"{path}: malformed summary ({'.'.join(map(str, first['loc']))}: {first['msg']})") from None
