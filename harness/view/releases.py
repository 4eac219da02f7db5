"""Model release dates drawn on the leaderboard's contest-date slider (the contamination flag).

A run's release date comes, in this order, from `--release-date MODEL=DATE` (as in `harness.leaderboard`), the
run manifest's `model_release_date`, then the small table below matched on the model name or label. Each table
entry cites where its date comes from; a model the table does not know shows as "release date unknown" (never a
guess). NousCoder-14B is deliberately absent: its model card names no release date (REFERENCE §4).
Does not cover: the flag itself (computed in the browser from the slider window, and in harness.report for the
markdown table).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KnownRelease:
    """Models whose name contains `pattern` (case-insensitive) were released on `date` (YYYY-MM-DD)."""

    pattern: str
    date: str
    source: str


QWEN3_BLOG = "Qwen team, 'Qwen3: Think Deeper, Act Faster', https://qwenlm.github.io/blog/qwen3/ (2025-04-29)"
QWEN25_BLOG = "Qwen team, 'Qwen2.5: A Party of Foundation Models!', https://qwenlm.github.io/blog/qwen2.5/ (2024-09-19)"
QWEN2_BLOG = "Qwen team, 'Hello Qwen2', https://qwenlm.github.io/blog/qwen2/ (2024-06-07)"
R1_NEWS = "DeepSeek, 'DeepSeek-R1 Release', https://api-docs.deepseek.com/news/news250120 (2025-01-20)"

# Most specific patterns first: the first match wins.
KNOWN_RELEASES: tuple[KnownRelease, ...] = (
    KnownRelease("deepseek-r1", "2025-01-20", R1_NEWS),
    KnownRelease("qwen3", "2025-04-29", QWEN3_BLOG),
    KnownRelease("qwen2.5", "2024-09-19", QWEN25_BLOG),
    KnownRelease("qwen2-", "2024-06-07", QWEN2_BLOG),
)
UNKNOWN = "release date unknown (not in harness/view/releases.py, no --release-date, none in the manifest)"


@dataclass(frozen=True, slots=True)
class Release:
    date: str | None
    source: str


def release_of(names: tuple[str, ...], manifest_date: str | None, given: Mapping[str, str]) -> Release:
    """The release date for a run known by `names` (label, model); see the module docstring for the order."""
    for name in names:
        if name and name in given:
            return Release(given[name][:10], f"--release-date {name}={given[name]}")
    if manifest_date:
        return Release(manifest_date[:10], "run manifest (model_release_date)")
    for name in names:
        known = known_release(name)
        if known is not None:
            return Release(known.date, known.source)
    return Release(None, UNKNOWN)


def known_release(name: str) -> KnownRelease | None:
    """The table entry for a model name, e.g. 'Qwen/Qwen3-14B' -> Qwen3 (NousCoder-14B is not Qwen3: unknown)."""
    low = (name or "").lower()
    if "nouscoder" in low:  # a Qwen3 fine-tune, released later: the base model's date would be wrong
        return None
    return next((k for k in KNOWN_RELEASES if k.pattern in low), None)
