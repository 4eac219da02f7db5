"""Official LiveCodeBench file formats: export a run, import an official `*_eval_all.json` as a run.

- `*_eval_all.json` (lcb_runner): a list with one object per problem: the problem fields, `output_list`, `code_list`,
  `graded_list` (bools), `pass@1` (a fraction) and `metadata` (one JSON string per sample).
- The leaderboard's per-problem performances JSON (livecodebench.github.io `performances_generation.json`):
  `{"performances": [{question_id, model, date (epoch ms), difficulty, pass@1 (PERCENT), platform}], "models":
  [{model_name, model_repr, model_style, release_date (epoch ms), link}], "date_marks": [month starts, epoch ms]}`.
  Dates here are UTC midnights (the official file uses US-local midnights; documented difference).

`infra_error` samples have no place in a bool `graded_list`: export leaves them out (counted in the return value).
Import maps official failure codes to verdicts: -1 compile_error, -2 wrong_answer, -3 time_limit, -4 runtime_error
(the official grader also reports syntax errors as -4 "Error during testing"), -5 (crash / global timeout)
runtime_error; a failure without a known code is runtime_error with the official message kept in `detail`.
Does not cover: grading itself (harness.judge), scoring (harness.scoring).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import UserError
from harness.records import DatasetSpec, RunDir, RunManifest, SampleRecord, SamplingSpec
from harness.scoring import index_problems, summarize, tally_problems

ERROR_CODE_VERDICTS = {-1: "compile_error", -2: "wrong_answer", -3: "time_limit", -4: "runtime_error",
                       -5: "runtime_error"}
VERDICT_ERROR_CODES = {"wrong_answer": (-2, "Wrong Answer"), "time_limit": (-3, "Time Limit Exceeded"),
                       "memory_limit": (-4, "Runtime Error"), "output_limit": (-4, "Runtime Error"),
                       "runtime_error": (-4, "Runtime Error"), "compile_error": (-4, "Compilation Error"),
                       "no_code": (-4, "No code extracted")}
PROBLEM_FIELDS = ("question_title", "question_content", "platform", "question_id", "contest_id", "contest_date",
                  "starter_code", "difficulty")
CUT = 300  # the official metadata cuts outputs/inputs at 300 characters


class InteropError(UserError):
    """A file that is not in the expected official shape (one-line message for the CLI)."""


def export_eval_all(run_dir, out_path, problems=None) -> dict:
    """Write the run as an official `*_eval_all.json`; returns {"n_problems", "n_samples", "n_infra_error_left_out"}."""
    run = RunDir(run_dir)
    by_qid = _samples_by_problem(run)
    index = index_problems(problems)
    out, n_samples, n_infra = [], 0, 0
    for qid in sorted(by_qid):
        recs = [r for r in by_qid[qid] if r.verdict != "infra_error"]
        n_infra += len(by_qid[qid]) - len(recs)
        if not recs:
            continue
        entry = _problem_fields(recs[0], index.get(qid))
        graded = [bool(r.passed) for r in recs]
        entry.update({
            "output_list": [r.raw_output or "" for r in recs],
            "code_list": [r.code or "" for r in recs],
            "graded_list": graded,
            "pass@1": graded.count(True) / len(graded),
            "metadata": [json.dumps(_official_metadata(r)) for r in recs],
        })
        out.append(entry)
        n_samples += len(recs)
    _write_json(out_path, out)
    return {"n_problems": len(out), "n_samples": n_samples, "n_infra_error_left_out": n_infra}


def export_performances(run_dir, out_path, *, model: str | None = None) -> dict:
    """Write the run as the official leaderboard's performances JSON (pass@1 in percent, dates in epoch ms)."""
    run = RunDir(run_dir)
    manifest = run.read_manifest()
    name = model or manifest.label or manifest.model
    by_qid = _samples_by_problem(run)
    tallies = tally_problems(r for recs in by_qid.values() for r in recs)
    perf = []
    months = set()
    for qid, t in tallies.items():
        if t.n == 0:
            continue
        raw_date = by_qid[qid][0].contest_date
        day = _parse_date(raw_date) if raw_date else None
        if day is not None:
            months.add((day.year, day.month))
        perf.append({"question_id": qid, "model": name, "date": _epoch_ms(day) if day else None,
                     "difficulty": t.difficulty,
                     "pass@1": 100.0 * t.pass_rate, "platform": t.platform})
    release = manifest.model_release_date
    models = [{"model_name": manifest.model, "model_repr": name, "model_style": manifest.prompt_style,
               "release_date": _epoch_ms(_parse_date(release)) if release else None, "link": ""}]
    marks = [_epoch_ms(datetime(y, m, 1)) for y, m in sorted(months)]
    data = {"performances": perf, "models": models, "date_marks": marks}
    _write_json(out_path, data)
    return {"n_problems": len(perf)}


def read_eval_all(path) -> list[dict]:
    """Load and check an official `*_eval_all.json` (a list of problem objects with code/graded lists)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InteropError(f"{path}: no such file") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InteropError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(data, list):
        raise InteropError(f"{path}: expected a JSON list of problems (an official *_eval_all.json)")
    for i, item in enumerate(data):
        if not isinstance(item, dict) or "question_id" not in item or "code_list" not in item:
            raise InteropError(f"{path}: entry {i} lacks question_id/code_list; is this an official *_eval_all.json?")
    return data


def eval_all_rows(entries: object, path) -> list[dict]:
    """One row per code of an official eval_all / custom-output list: `question_id`, `sample_idx`, `code` (when the
    entry has a code_list), `raw_output`, and when present `official_graded` / `official_metadata` (decoded).
    The one reader of that shape for harness.grade and import_eval_all."""
    if not isinstance(entries, list):
        raise InteropError(f"{path}: expected a JSON list of problems (an official *_eval_all.json)")
    rows = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "question_id" not in entry or not (
                isinstance(entry.get("code_list"), list) or isinstance(entry.get("output_list"), list)):
            raise InteropError(f"{path}: entry {i} lacks question_id and code_list/output_list")
        codes, outputs = entry.get("code_list"), entry.get("output_list") or []
        graded, metadata = entry.get("graded_list") or [], entry.get("metadata") or []
        for j in range(len(codes) if isinstance(codes, list) else len(outputs)):
            row: dict = {"question_id": entry["question_id"], "sample_idx": j}
            if isinstance(codes, list):
                row["code"] = codes[j]
            if j < len(outputs):
                row["raw_output"] = outputs[j]
            if j < len(graded):
                row["official_graded"] = graded[j]
            if j < len(metadata):
                row["official_metadata"] = _decode_json_text(metadata[j])
            rows.append(row)
    return rows


def _decode_json_text(value: object) -> object:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def import_eval_all(path, out_dir, *, model: str, regrade: bool = False, problems=None,
                    start_date: str | None = None, end_date: str | None = None, limits=None) -> RunDir:
    """Turn an official `*_eval_all.json` into a run directory (manifest, samples.jsonl, summary.json).

    Keeps the official verdicts, or with `regrade=True` grades every code again with harness.judge (needs
    `problems`, the selection holding the tests). `start_date`/`end_date` (YYYY-MM-DD, both ends inclusive, a bare date
    meaning its midnight as in load_problems) keep only problems whose contest_date falls in the window."""
    entries = [e for e in read_eval_all(path) if _in_window(e.get("contest_date", ""), start_date, end_date)]
    if regrade and problems is None:
        raise InteropError("--regrade needs the problems (with their tests): pass --dataset")
    run = RunDir(out_dir)
    if run.samples_path.exists() and run.samples_path.stat().st_size > 0:
        raise InteropError(f"{out_dir} already holds samples; choose a new --out directory")
    records = _regraded_records(entries, problems, limits) if regrade else _official_records(entries)
    dates = sorted(e.get("contest_date", "")[:10] for e in entries if e.get("contest_date"))
    manifest = RunManifest(
        model=model, backend="official-import", prompt_style="unknown", extract_mode="official",
        sampling=SamplingSpec(n=max((len(e["code_list"]) for e in entries), default=0)),
        dataset=DatasetSpec(spec=str(path), start_date=start_date or (dates[0] if dates else ""),
                            end_date=end_date or (dates[-1] if dates else ""), n_problems=len(entries),
                            **problem_set_identity(entries, problems)),
        limits=dict(limits.to_dict()) if limits is not None else {"source": "official grader"},
        generation={"imported_from": str(path), "regraded": regrade},
    )
    run.write_manifest(manifest)
    _write_samples(run, records)
    run.write_summary(summarize(run.iter_samples(), problems=None))
    return run


def _official_records(entries: list[dict]) -> list[SampleRecord]:
    for e in entries:
        if len(e.get("graded_list") or []) != len(e["code_list"]):
            raise InteropError(f"{e['question_id']}: graded_list has {len(e.get('graded_list') or [])} entries for "
                               f"{len(e['code_list'])} codes; use --regrade to grade it")
    by_qid = {e["question_id"]: e for e in entries}
    records = []
    for row in eval_all_rows(entries, "eval_all"):
        e = by_qid[row["question_id"]]
        verdict, detail, code_num = _official_verdict(row["official_graded"], row.get("official_metadata"))
        records.append(SampleRecord(
            question_id=row["question_id"], sample_idx=row["sample_idx"], difficulty=e.get("difficulty", ""),
            platform=e.get("platform", ""), contest_date=e.get("contest_date", ""),
            raw_output=row.get("raw_output"), code=row.get("code"), verdict=verdict, passed=verdict == "passed",
            detail=detail, sandbox="official", official_error_code=code_num))
    return records


def _regraded_records(entries: list[dict], problems, limits) -> list[SampleRecord]:
    """Every code graded again by this project's judge, through the shared loop (harness.grading)."""
    from harness.grading import JudgeSettings, grade_stream
    from harness.verdicts import Limits

    index = index_problems(problems)
    by_qid = {e["question_id"]: e for e in entries}
    rows = eval_all_rows(entries, "eval_all")
    for row in rows:
        if row["question_id"] not in index:
            raise InteropError(f"{row['question_id']}: not in the given problems; pass the dataset it came from")
    results: dict[int, object] = {}
    stats = grade_stream(((i, index[row["question_id"]], row.get("code")) for i, row in enumerate(rows)),
                         results.__setitem__, JudgeSettings(limits=limits or Limits()), total=len(rows),
                         progress=False)
    if stats.errors:
        raise InteropError(f"the judge failed on {len(stats.errors)} samples (first: {stats.errors[0]!r})")
    records = []
    for i, row in enumerate(rows):
        e = by_qid[row["question_id"]]
        records.append(SampleRecord(
            question_id=row["question_id"], sample_idx=row["sample_idx"], difficulty=e.get("difficulty", ""),
            platform=e.get("platform", ""), contest_date=e.get("contest_date", ""),
            raw_output=row.get("raw_output"), code=row.get("code"), **results[i].to_dict()))
    return records


def _official_verdict(graded, raw_meta) -> tuple[str, str, int | None]:
    meta = _decode_meta(raw_meta)
    if graded is True:
        return "passed", "", None
    code = meta.get("error_code")
    message = str(meta.get("error_message", ""))[:CUT]
    verdict = ERROR_CODE_VERDICTS.get(code, "runtime_error")
    if code not in ERROR_CODE_VERDICTS:
        message = f"official failure without a known error_code ({code!r}) {message}".strip()
    return verdict, message, code if isinstance(code, int) else None


def _official_metadata(rec: SampleRecord) -> dict:
    if rec.passed:
        return {"execution time": rec.wall_s}
    code, message = VERDICT_ERROR_CODES.get(rec.verdict, (-4, "Runtime Error"))
    meta = {"error_code": code, "error_message": message}
    if rec.detail:
        meta["detail"] = rec.detail[:CUT]
    return meta


def _decode_meta(raw) -> dict:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw.strip():
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def _problem_fields(rec: SampleRecord, problem) -> dict:
    if problem is None:
        base = {f: "" for f in PROBLEM_FIELDS}
        base.update(question_id=rec.question_id, platform=rec.platform, difficulty=rec.difficulty,
                    contest_date=rec.contest_date)
        return base
    return {"question_title": problem.question_title, "question_content": problem.question_content,
            "platform": str(problem.platform), "question_id": problem.question_id, "contest_id": problem.contest_id,
            "contest_date": problem.contest_date.isoformat(), "starter_code": problem.starter_code,
            "difficulty": str(problem.difficulty)}


def _samples_by_problem(run: RunDir) -> dict[str, list[SampleRecord]]:
    latest = {(r.question_id, r.sample_idx): r for r in run.iter_samples()}
    grouped: dict[str, list[SampleRecord]] = {}
    for key in sorted(latest):
        grouped.setdefault(key[0], []).append(latest[key])
    return grouped


def _in_window(contest_date: str, start: str | None, end: str | None) -> bool:
    """Naive datetimes, both ends inclusive, a bare date meaning its midnight (the official reading, as in
    harness.problems.load_problems)."""
    if start is None and end is None:
        return True
    when = _parse_date(contest_date)
    return (start is None or _parse_date(start) <= when) and (end is None or when <= _parse_date(end))


def _parse_date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except (TypeError, ValueError):
        raise InteropError(f"not an ISO date: {text!r} (expected YYYY-MM-DD or an ISO datetime)") from None


def _epoch_ms(day: datetime) -> int:
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int(midnight.timestamp() * 1000)


def problem_set_identity(entries: list[dict], problems=None) -> dict:
    """The imported run's problem set, so the leaderboard ranks it with runs on the same problems: with the
    problems (--dataset) covering every entry, their content hash, release and hidden-test count (equal to an eval's
    on the same selection); without, a hash of the question ids (imports of the same problems share it)."""
    ids = sorted({str(e["question_id"]) for e in entries})
    index = index_problems(problems)
    if ids and all(q in index for q in ids):
        from harness.problems import hash_problems

        chosen = [index[q] for q in ids]
        return {"content_hash": hash_problems(chosen), "release": str(getattr(problems, "release", "unknown")),
                "n_with_private_tests": sum(1 for p in chosen if p.has_private_tests)}
    return {"content_hash": hashlib.sha256("\n".join(["question_ids"] + ids).encode()).hexdigest(),
            "release": "unknown"}


def _write_samples(run: RunDir, records: list[SampleRecord]) -> None:
    """One write and one fsync for the whole file (a fresh import, not a live run that must survive a kill)."""
    tmp = run.samples_path.with_suffix(".jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(rec.model_dump_json() + "\n" for rec in records)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, run.samples_path)


def _write_json(path, data) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
