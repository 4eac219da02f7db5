"""The leaderboard table: measured runs next to published reference numbers, as a DataFrame, markdown, CSV or JSON.

Numbers in the table are percentages (run files keep fractions). Reference rows are data published by their authors,
shown for comparison and labelled "reported, not measured here"; they carry no breakdowns or intervals. A run is
flagged "possibly contaminated" when its model was released after the start of its evaluation window (release date
from the manifest's `model_release_date`, or given on the command line).

Comparable by construction: every row belongs to a problem set (column "Set": the selection's content hash, with
its release, window and size), and ranks and deltas are computed only inside a set; `to_markdown` prints one table
per set. The reference rows belong to the full v6 selection (release_v6, 2024-08-01..2025-05-01, 454 problems, all
with hidden tests) and share a table only with runs on it. Toy runs (a model under TOY_MAX_PARAMS parameters, or the
bundled `sample` problems) get their own sets, never ranked with real models. Notes say when a selection lacks hidden
tests for some problems (graded on public examples only: not comparable with official figures), when a run was
not sandboxed (manifest `isolation`; absent = unknown), and when it scored fewer problems than its selection holds.
Does not cover: computing scores (harness.scoring), plots (harness.plots), the CLI (harness.leaderboard).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from harness.errors import UserError
from harness.problems import DEFAULT_END_DATE, DEFAULT_RELEASE, DEFAULT_START_DATE
from harness.records import RunDir, RunManifest
from harness.scoring import bootstrap_method, summarize
from harness.summary import GroupScore, RunSummary

REPORTED = "reported, not measured here"
MEASURED = "measured"
IMPORTED = "official verdicts, imported"  # an official *_eval_all.json taken as is (harness.interop, no --regrade)
V6_WINDOW = f"{DEFAULT_START_DATE}..{DEFAULT_END_DATE}"
V6_PROBLEMS = 454  # release_v6 problems in the v6 window: what the published rows were measured on
TOY_MAX_PARAMS = 50_000_000  # below this a checkpoint is a toy (the repro toy has ~82k); the smallest real LLMs ~0.5B
SANDBOXED = ("bwrap", "modal", "official")  # isolation values that mean "the candidate ran jailed"
NOUSCODER_SOURCE = "Nous Research, NousCoder-14B release (https://huggingface.co/NousResearch/NousCoder-14B)"
START_MARK = "<!-- leaderboard:start -->"
END_MARK = "<!-- leaderboard:end -->"
COLUMNS = ["Set", "Rank", "Model", "Pass@1", "CI low", "CI high", "Easy", "Medium", "Hard", "n", "Problems", "Delta",
           "Window", "Source", "Reference", "Notes"]


class LeaderboardError(UserError):
    """A user-facing problem with the inputs (one line, printed by the CLI with exit status 2)."""


@dataclass(frozen=True, slots=True)
class ReferenceRow:
    """A published LiveCodeBench v6 pass@1 (percent) that this project did not measure."""

    model: str
    pass_at_1: float
    source: str
    window: str = V6_WINDOW
    release_date: str | None = None
    note: str = ""


REFERENCE_ROWS: tuple[ReferenceRow, ...] = (
    ReferenceRow("Qwen3-14B (reported)", 60.79, NOUSCODER_SOURCE, release_date="2025-04-29",
                 note="baseline of the NousCoder-14B report"),
    ReferenceRow("NousCoder-14B (reported)", 67.87, NOUSCODER_SOURCE, note="YaRN to 81,920 tokens"),
    ReferenceRow("NousCoder-14B DAPO @81,920 (reported)", 67.87, NOUSCODER_SOURCE, note="objective ablation"),
    ReferenceRow("NousCoder-14B GSPO @81,920 (reported)", 66.26, NOUSCODER_SOURCE, note="objective ablation"),
    ReferenceRow("NousCoder-14B GSPO+ @81,920 (reported)", 66.52, NOUSCODER_SOURCE, note="objective ablation"),
)


@dataclass(frozen=True, slots=True)
class ScoredRun:
    """A run directory with its manifest and its summary (recomputed from samples.jsonl, not read from disk)."""

    label: str
    run: RunDir
    manifest: RunManifest
    summary: RunSummary


def score_runs(run_dirs: Sequence, *, seed: int = 0, n_bootstrap: int = 10000) -> list[ScoredRun]:
    """Score each run; labels are the manifest label or model, with the folder name added when two collide."""
    scored = []
    for run in load_runs(run_dirs):
        try:
            manifest = run.read_manifest()
            records = list(run.iter_samples())
        except ValueError as exc:  # pydantic's ValidationError and json errors are ValueErrors
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LeaderboardError(f"{run.path}: unreadable run files ({first})") from None
        summary = summarize(records, seed=seed, n_bootstrap=n_bootstrap)
        if summary.pass_at_1 is None:
            raise LeaderboardError(f"{run.path}: no graded sample to score yet")
        scored.append([manifest.label or manifest.model, run, manifest, summary])
    names = [s[0] for s in scored]
    return [ScoredRun(f"{name} ({run.path.name})" if names.count(name) > 1 else name, run, manifest, summary)
            for name, run, manifest, summary in scored]


def build_leaderboard(run_dirs: Sequence, *, baseline: str = "Qwen3-14B (reported)",
                      release_dates: Mapping[str, str] | None = None, include_reference: bool = True,
                      seed: int = 0, n_bootstrap: int = 10000) -> pd.DataFrame:
    """One row per run (scored from its samples) plus the reference rows, ranked by pass@1 (ties share a rank)."""
    scored = score_runs(run_dirs, seed=seed, n_bootstrap=n_bootstrap)
    return leaderboard_from_scores(scored, baseline=baseline, release_dates=release_dates,
                                   include_reference=include_reference, ci_method=bootstrap_method(n_bootstrap, seed))


def leaderboard_from_scores(scored: Sequence[ScoredRun], *, baseline: str = "Qwen3-14B (reported)",
                            release_dates: Mapping[str, str] | None = None, include_reference: bool = True,
                            ci_method: str = "") -> pd.DataFrame:
    """All rows with their set; ranked by pass@1 inside each set (ties share a rank); Delta only inside the
    baseline's set. Sets are ordered: the full v6 selection first, then real runs, then toy runs."""
    rows = [_run_row(s, release_dates or {}) for s in scored]
    if include_reference:
        rows += [_reference_row(ref) for ref in REFERENCE_ROWS]
    frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "Rank"])
    if baseline not in set(frame["Model"]):
        raise LeaderboardError(f"baseline {baseline!r} is not a row of the table; pass --baseline with a model shown")
    base_row = frame.loc[frame["Model"] == baseline].iloc[0]
    same_set = frame["Set"] == base_row["Set"]
    frame["Delta"] = (frame["Pass@1"] - float(base_row["Pass@1"])).where(same_set)
    order = {name: i for i, name in enumerate(_set_order(frame["Set"]))}
    frame["_set"] = frame["Set"].map(order)
    frame = frame.sort_values(["_set", "Pass@1", "Model"], ascending=[True, False, True], kind="mergesort")
    frame = frame.drop(columns="_set").reset_index(drop=True)
    ranks = frame.groupby("Set", sort=False)["Pass@1"].rank(method="min", ascending=False).astype(int)
    frame.insert(1, "Rank", ranks)
    frame.attrs["baseline"] = baseline
    frame.attrs["ci_method"] = ci_method
    return frame


def _set_order(sets: pd.Series) -> list[str]:
    names = list(dict.fromkeys(sets))
    return sorted(names, key=lambda name: (name != FULL_V6_SET, name.startswith(TOY_PREFIX), name))


FULL_V6_SET = f"LiveCodeBench {DEFAULT_RELEASE}, {V6_WINDOW}, {V6_PROBLEMS} problems (the published selection)"
TOY_PREFIX = "Toy: "


def is_full_v6(manifest: RunManifest) -> bool:
    """The selection the published rows were measured on: release_v6, the v6 window, all 454 problems, none
    restricted by id, every one with hidden tests (None = not recorded, taken on trust and noted)."""
    d = manifest.dataset
    return (d.release in (DEFAULT_RELEASE, "v6") and d.start_date[:10] == DEFAULT_START_DATE
            and d.end_date[:10] == DEFAULT_END_DATE and d.n_problems == V6_PROBLEMS and not d.question_ids
            and d.n_with_private_tests in (None, d.n_problems))


def is_toy(manifest: RunManifest) -> bool:
    """A toy model (fewer than TOY_MAX_PARAMS parameters) or the bundled 15 sample problems."""
    params = manifest.model_params
    return (params is not None and params < TOY_MAX_PARAMS) or manifest.dataset.spec == "sample"


def set_name(manifest: RunManifest) -> str:
    """The problem set a run is ranked in: equal names only for equal content hashes (and toy-ness)."""
    if is_full_v6(manifest) and not is_toy(manifest):
        return FULL_V6_SET
    d = manifest.dataset
    window = f"{d.start_date[:10]}..{d.end_date[:10]}" if d.start_date or d.end_date else "no window"
    name = f"{d.release}, {window}, {d.n_problems} problems (hash {d.content_hash[:12]})"
    return TOY_PREFIX + name if is_toy(manifest) else name


def load_runs(run_dirs: Sequence) -> list[RunDir]:
    runs = [RunDir(p) for p in run_dirs]
    for run in runs:
        if not run.exists():
            raise LeaderboardError(f"{run.path}: not a run directory (no manifest.json); pass the --out of an eval")
    return runs


def to_markdown(frame: pd.DataFrame, *, plot_links: Sequence[tuple[str, str]] = ()) -> str:
    """The markdown block for RESULTS.md: table, how to read it, and links to the plots."""
    baseline = frame.attrs.get("baseline", "baseline")
    table = pd.DataFrame({
        "Rank": frame["Rank"],
        "Model": frame["Model"],
        "Pass@1 [95% CI]": [_pass_cell(*r) for r in frame[["Pass@1", "CI low", "CI high"]].itertuples(
            index=False, name=None)],
        "Easy": frame["Easy"].map(_pct), "Medium": frame["Medium"].map(_pct), "Hard": frame["Hard"].map(_pct),
        "n": frame["n"].fillna(""), "Problems": frame["Problems"].map(_count),
        f"Δ vs {baseline}": [("baseline" if m == baseline else "" if math.isnan(d) else f"{d:+.2f}")
                             for m, d in zip(frame["Model"], frame["Delta"])],
        "Window": frame["Window"], "Source": frame["Source"], "Notes": frame["Notes"].fillna(""),
    })
    lines = []
    for name in dict.fromkeys(frame["Set"]):
        rows = (frame["Set"] == name).to_numpy()
        caption = "not comparable with real models: ranked apart" if name.startswith(TOY_PREFIX) else (
            "ranked together: same problems" if name == FULL_V6_SET else
            "not the published selection: not comparable with the reported rows")
        lines += [f"**{name}** ({caption})", "",
                  tabulate(table[rows], headers="keys", tablefmt="github", showindex=False, disable_numparse=True), ""]
    lines.append(f"One table per problem set: ranks and Δ only compare runs on the same problems. "
                 f"Pass@1 in percent (mean over problems of passed/decided samples); interval: "
                 f"{frame.attrs.get('ci_method', 'bootstrap over problems')}, percentile. n = decided samples per "
                 f"problem (min-max); infra_error samples are excluded. Rows marked \"{REPORTED}\" are numbers "
                 f"published by their authors, shown for comparison only")
    sources = sorted({r for r, src in zip(frame["Reference"], frame["Source"]) if src == REPORTED})
    lines[-1] += f" (source: {'; '.join(sources)})." if sources else "."
    for title, link in plot_links:
        lines.append("")
        lines.append(f"![{title}]({link})")
    return "\n".join(lines) + "\n"


def to_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False)


def to_json(frame: pd.DataFrame) -> str:
    return frame.to_json(orient="records", indent=2, force_ascii=False) + "\n"


def update_section(document: str, block: str) -> str:
    """Replace the text between the leaderboard markers (appending a new section when there is none)."""
    starts, ends = document.count(START_MARK), document.count(END_MARK)
    if starts == 0 and ends == 0:
        sep = "" if document.endswith("\n") or not document else "\n"
        return f"{document}{sep}\n{START_MARK}\n{block}{END_MARK}\n"
    if starts != 1 or ends != 1 or document.index(START_MARK) > document.index(END_MARK):
        raise LeaderboardError(f"expected exactly one {START_MARK} before one {END_MARK}; fix the markers by hand")
    head, rest = document.split(START_MARK, 1)
    _, tail = rest.split(END_MARK, 1)
    return f"{head}{START_MARK}\n{block}{END_MARK}{tail}"


def relative_link(target: Path, document: Path) -> str:
    return Path(os.path.relpath(target.resolve(), document.resolve().parent)).as_posix()


def _run_row(scored: ScoredRun, release_dates: Mapping[str, str]) -> dict:
    manifest, summary = scored.manifest, scored.summary
    window = f"{manifest.dataset.start_date}..{manifest.dataset.end_date}"
    release = release_date_of(scored, release_dates)
    diff = summary.by_difficulty
    n_min, n_max = summary.n_min, summary.n_max
    return {
        "Set": set_name(manifest), "Model": scored.label, "Pass@1": 100 * summary.pass_at_1,
        "CI low": 100 * summary.ci95.low, "CI high": 100 * summary.ci95.high,
        "Easy": _diff(diff, "easy"), "Medium": _diff(diff, "medium"), "Hard": _diff(diff, "hard"),
        "n": str(n_min) if n_min == n_max else f"{n_min}-{n_max}", "Problems": summary.n_problems,
        "Delta": math.nan, "Window": window, "Source": _source(manifest),
        "Reference": str(scored.run.path.name),
        "Notes": "; ".join(n for n in (_contamination_note(release, manifest.dataset.start_date),
                                       *comparability_notes(manifest, summary)) if n),
    }


def comparability_notes(manifest: RunManifest, summary: RunSummary) -> list[str]:
    """What makes this run's figure not comparable with another's: missing hidden tests, no sandbox, partial."""
    d, notes = manifest.dataset, []
    if d.n_with_private_tests is not None and d.n_with_private_tests < d.n_problems:
        notes.append(f"PUBLIC TESTS ONLY for {d.n_problems - d.n_with_private_tests} of {d.n_problems} problems "
                     "(no hidden tests: scores run high, not comparable with official figures)")
    elif d.n_with_private_tests is None and manifest.backend != "official-import":
        notes.append("hidden tests not recorded")
    isolation = getattr(manifest, "isolation", None)
    if manifest.backend == "official-import" and not manifest.generation.get("regraded"):
        pass  # graded by the official grader, not here
    elif isolation is None:
        notes.append("isolation unknown")
    elif not any(word in str(isolation) for word in SANDBOXED):
        notes.append(f"UNSANDBOXED ({isolation})")
    if summary.n_problems < d.n_problems:
        notes.append(f"incomplete: {summary.n_problems} of {d.n_problems} problems scored")
    return notes


def _source(manifest: RunManifest) -> str:
    imported = manifest.backend == "official-import" and not manifest.generation.get("regraded")
    return IMPORTED if imported else MEASURED


def release_date_of(scored: ScoredRun, release_dates: Mapping[str, str]) -> str | None:
    """The model's release date: a --release-date for its label or model name first, then the manifest's."""
    manifest = scored.manifest
    return (release_dates.get(scored.label) or release_dates.get(manifest.label or "")
            or release_dates.get(manifest.model) or manifest.model_release_date)


def _reference_row(ref: ReferenceRow) -> dict:
    notes = "; ".join(n for n in (ref.note, _contamination_note(ref.release_date, ref.window[:10])) if n)
    return {"Set": FULL_V6_SET, "Model": ref.model, "Pass@1": ref.pass_at_1, "CI low": math.nan, "CI high": math.nan,
            "Easy": math.nan, "Medium": math.nan, "Hard": math.nan, "n": None, "Problems": V6_PROBLEMS, "Delta": math.nan,
            "Window": ref.window, "Source": REPORTED, "Reference": ref.source, "Notes": notes}


def _contamination_note(release: str | None, window_start: str) -> str:
    if release and window_start and release[:10] > window_start[:10]:
        return f"possibly contaminated: released {release[:10]}, after the window start {window_start[:10]}"
    return ""


def _diff(by_difficulty: Mapping[str, GroupScore], key: str) -> float:
    return 100 * by_difficulty[key].pass_at_1 if key in by_difficulty else math.nan


def _pct(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"


def _count(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(int(value))


def _pass_cell(value: float, ci_low: float, ci_high: float) -> str:
    cell = f"{value:.2f}"
    if not (math.isnan(ci_low) or math.isnan(ci_high)):
        cell += f" [{ci_low:.2f}, {ci_high:.2f}]"
    return cell
