"""The one check of the judge settings a user can give (time limit, memory limit, workers), shared by every CLI.

`harness.eval`, `harness.grade` and `repro.reproduce` call `check_judge_settings` before they read or create
anything, so a value that would make every sample fail (a time limit of 0, a 1 MB memory limit, no workers) is a
one-line `error:` instead of a silent 0.00%. The default values themselves live in harness.verdicts.Limits.
Not covered: the limits' meaning (harness.verdicts), how the sandbox enforces them (harness.sandbox).
"""

from __future__ import annotations

from harness.errors import UserError

# Below this, CPython itself cannot start under RLIMIT_AS: every sample would be a memory_limit, never the model's.
MIN_MEMORY_LIMIT_MB = 64


def check_judge_settings(time_limit_s: float | None = None, memory_limit_mb: int | None = None,
                         workers: int | None = None, *,
                         names: tuple[str, str, str] = ("--time-limit", "--memory-limit-mb", "--workers")) -> None:
    """Raise UserError (one line, naming the flag or setting in `names`) for a limit or worker count no sample could
    be judged under. None means "the default" and is always fine."""
    if time_limit_s is not None and not time_limit_s > 0:  # `not >` also rejects NaN
        raise UserError(f"{names[0]} must be a positive number of CPU seconds, got {time_limit_s}")
    if memory_limit_mb is not None and memory_limit_mb < MIN_MEMORY_LIMIT_MB:
        raise UserError(f"{names[1]} must be at least {MIN_MEMORY_LIMIT_MB} (Python cannot start below that), "
                        f"got {memory_limit_mb}")
    if workers is not None and workers < 1:
        raise UserError(f"{names[2]} must be at least 1, got {workers}")


def check_out_parent(path, flag: str = "--out") -> None:
    """The nearest existing ancestor of an output path must be a folder this process can write into."""
    import os
    from pathlib import Path

    parent = Path(path).absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UserError(f"{flag} {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {path}: cannot write into {parent}")
