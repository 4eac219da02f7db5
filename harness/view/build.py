"""Write the static site: the page assets (copied from harness/view/assets), `data/index.js` (everything the
leaderboard, run and compare pages need) and one `data/<run>/p<problem>.js` per run and problem with the sample
details, loaded by the sample page on demand. Data files are scripts (`LCB.setIndex(...)`, `LCB.loaded(...)`)
because browsers refuse fetch() of local files opened from file://.

The prompt, a test's input and its expected output are not in samples.jsonl; they are shown when the run's problems
can be loaded (`--dataset`, or the embedded sample set for runs made on it) and match the run's content hash, and the
page says they are not recorded otherwise.
Does not cover: scoring (harness.scoring), the page logic (assets/*.js), the CLI (harness.view.__main__).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from harness import report
from harness.errors import UserError
from harness.scoring import bootstrap_method
from harness.view import collect

MARKER = ".lcb-view"  # a folder holding it was written by this command and may be rewritten by it
HEAD_CHARS = 2000  # of a failing test's input and expected output kept in the sample files
ASSETS = ("index.html", "style.css", "core.js", "stats.js", "leaderboard.js", "runpage.js", "sample.js",
          "compare.js")
NOT_RECORDED = ("not recorded in samples.jsonl (it lives in the dataset: pass --dataset SPEC with the run's "
                "problems to show it)")


class ViewError(UserError):
    """Bad input for the viewer (one line, exit 2)."""


@dataclass(frozen=True, slots=True)
class SiteInfo:
    path: Path
    n_runs: int
    n_problems: int
    n_detail_files: int
    notes: tuple[str, ...]


def build_site(run_dirs: Sequence, out: Path, *, dataset: str | None = None, release_dates: Mapping[str, str] | None = None,
               seed: int = 0, n_bootstrap: int = 10000) -> SiteInfo:
    """Score the runs, write the site under `out` (refusing a non-empty folder it did not write) and say what it did."""
    out = Path(out)
    _check_out(out)
    runs = collect.load_run_data(run_dirs, release_dates=release_dates or {}, seed=seed, n_bootstrap=n_bootstrap)
    problems_by_run, notes = {}, []
    cache: dict = {}
    for run in runs:
        problems_by_run[run.id], note = _problems_for(run, dataset, cache)
        if note:
            notes.append(f"{run.scored.label}: {note}")
    problems = collect.union_problems(runs, problems_by_run)
    index = _index_payload(runs, problems, seed=seed, n_bootstrap=n_bootstrap)
    data = out / "data"
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    (out / MARKER).write_text("written by python -m harness.view\n", encoding="utf-8")
    assets = resources.files("harness.view") / "assets"
    for name in ASSETS:
        (out / name).write_bytes((assets / name).read_bytes())
    _write_script(data / "index.js", "LCB.setIndex(", index)
    n_files = 0
    position = {p.question_id: i for i, p in enumerate(problems)}
    for run in runs:
        (data / run.id).mkdir()
        for qid, recs in collect.full_records_by_problem(run.scored.run).items():  # one run in memory at a time
            if qid not in position:  # recorded after the first read (a run still going): in the next build
                continue
            payload = _detail_payload(run, recs, problems_by_run[run.id].get(qid) if problems_by_run[run.id] else None)
            key = f"{run.id}/p{position[qid]}"
            _write_script(data / f"{key}.js", f"LCB.loaded({json.dumps(key)}, ", payload)
            n_files += 1
    return SiteInfo(out, len(runs), len(problems), n_files, tuple(notes))


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ViewError(f"--out {out} is a file; give a folder for the site")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ViewError(f"--out {out} is a non-empty folder this command did not write; give a new or empty folder")


def _problems_for(run: collect.RunData, dataset: str | None, cache: dict) -> tuple[dict | None, str]:
    """The run's problems (question_id -> Problem) when they can be loaded and are the run's own, else a note."""
    d = run.manifest.dataset
    spec = dataset or (d.spec if d.spec == "sample" else None)  # the embedded set needs no download
    if spec is None:
        return None, ""
    from harness.problems import hash_problems, load_problems  # lazy: may read large files

    key = (spec, d.release, d.start_date, d.end_date)
    if key not in cache:
        cache[key] = load_problems(spec, d.release, d.start_date or None, d.end_date or None)
    problem_set = cache[key]
    wanted = d.model_dump().get("question_ids")
    chosen = [p for p in problem_set if not wanted or p.question_id in set(wanted)]
    digest = hash_problems(chosen) if wanted else problem_set.content_hash
    if digest != d.content_hash:
        return None, (f"--dataset {spec} is not the problem set this run was made on (content hash differs): "
                      "prompts and tests not shown")
    return {p.question_id: p for p in chosen}, ""


def _index_payload(runs: list[collect.RunData], problems: list[collect.ProblemInfo], *, seed: int,
                   n_bootstrap: int) -> dict:
    position = {p.question_id: i for i, p in enumerate(problems)}
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "bootstrap": {"seed": seed, "n": n_bootstrap, "level": 0.95, "method": bootstrap_method(n_bootstrap, seed)},
        "verdict_codes": collect.VERDICT_CODES,
        "problems": [[p.question_id, p.date, p.difficulty, p.platform, p.title] for p in problems],
        "runs": [_run_payload(run, position, seed=seed, n_bootstrap=n_bootstrap) for run in runs],
        "groups": _groups(runs),
        "reported": collect.reference_rows(),
        "pairs": collect.pair_comparisons(runs, seed=seed, n_bootstrap=n_bootstrap),
    }


def _run_payload(run: collect.RunData, position: Mapping[str, int], *, seed: int, n_bootstrap: int) -> dict:
    m, s = run.manifest, collect.summary_fields(run.scored.summary)
    cells = sorted((position[q], *cell) for q, cell in run.cells.items())
    return {
        "id": run.id, "label": run.scored.label, "model": m.model, "dir": run.scored.run.path.name,
        "backend": m.backend, "source": report_source(m), "group": run.group, "full_v6": collect.is_full_v6(m),
        "prompt_style": m.prompt_style, "extract_mode": m.extract_mode, "sandbox": m.sandbox,
        "window": [m.dataset.start_date[:10], m.dataset.end_date[:10]], "dataset": m.dataset.spec,
        "release": run.release.date, "release_source": run.release.source,
        "pass1": s["pass@1"], "ci": [s["ci95"]["low"], s["ci95"]["high"]], "n_problems": s["n_problems"],
        "n_infra_error": s["n_infra_error"], "notes": _notes(run), "by_month": collect.by_month(run, seed=seed, n_bootstrap=n_bootstrap),
        # parallel arrays: problem position, decided samples, passing samples, verdict letters by sample index
        "p": [c[0] for c in cells], "n": [c[1] for c in cells], "c": [c[2] for c in cells],
        "v": [c[3] for c in cells],
    }


def report_source(manifest) -> str:
    """As the markdown leaderboard labels a run (harness.report's words)."""
    imported = manifest.backend == "official-import" and not manifest.generation.get("regraded")
    return report.IMPORTED if imported else report.MEASURED


def _notes(run: collect.RunData) -> list[str]:
    """harness.report's comparability notes (public tests only, unsandboxed, incomplete), when it has them."""
    notes = getattr(report, "comparability_notes", None)
    return list(notes(run.manifest, run.scored.summary)) if notes else []


def _groups(runs: list[collect.RunData]) -> list[dict]:
    groups: dict[str, dict] = {}
    for run in runs:
        g = groups.setdefault(run.group, {"key": run.group, "label": run.group, "runs": [],
                                          "full_v6": collect.is_full_v6(run.manifest)})
        g["runs"].append(run.id)
    return sorted(groups.values(), key=lambda g: (not g["full_v6"], g["label"].startswith("Toy"), g["label"]))


def _detail_payload(run: collect.RunData, recs, problem) -> dict:
    samples = [rec.model_dump(mode="json") for rec in recs]
    failing = sorted({i for s in samples for i in _failed_indexes(s)})
    payload: dict = {"samples": samples, "prompt": None, "tests": None, "not_recorded": NOT_RECORDED}
    if problem is not None:
        from harness.prompts import render_messages

        try:
            payload["prompt"] = render_messages(problem, run.manifest.prompt_style)
        except (KeyError, ValueError, UserError) as exc:
            payload["prompt_note"] = f"prompt style {run.manifest.prompt_style!r} cannot be rendered: {exc}"
        tests = problem.tests
        payload["tests"] = {str(i): {"input": tests[i].input[:HEAD_CHARS], "input_chars": len(tests[i].input),
                                     "expected": tests[i].output[:HEAD_CHARS], "expected_chars": len(tests[i].output),
                                     "public": i < len(problem.public_tests)}
                            for i in failing if 0 <= i < len(tests)}
        payload["functional"] = problem.is_functional
    return payload


def _failed_indexes(sample: dict) -> list[int]:
    out = [sample["failed_test"]] if sample.get("failed_test") is not None else []
    out += [t["index"] for t in sample.get("tests", []) if t.get("verdict") != "passed" and "index" in t]
    return out


def _write_script(path: Path, opener: str, payload) -> None:
    # ASCII-only JSON is a valid JS literal whatever charset the browser assumes for the script
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    path.write_text(f"{opener}{text});\n", encoding="ascii")
