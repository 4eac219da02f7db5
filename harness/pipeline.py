"""The evaluation pipeline: problems -> prompts -> backend (streamed) -> extract -> judge -> samples.jsonl -> summary.

Generation and grading overlap: every completion is handed to the judge's worker pool the moment the backend yields
it (the pool's bounded queue is the backpressure), and each verdict is appended to `samples.jsonl` as it lands, so a
run ends shortly after its last generation and a crash loses at most the samples still in flight.
Not covered here: how a backend talks to a model, how the judge runs code, how scores are computed.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.backends.base import BackendOptions, Completion, GenerationRequest
from harness.errors import UserError
from harness.problems import DEFAULT_END_DATE, DEFAULT_RELEASE, DEFAULT_START_DATE, HUB_DATASET, Problem
from harness.records import (
    DatasetSpec,
    RunDir,
    RunManifest,
    SampleRecord,
    SamplingSpec,
    git_revision,
    manifest_differences,
    package_versions,
)
from harness.sandbox import describe as describe_sandbox
from harness.summary import RunSummary
from harness.validation import check_judge_settings, check_out_parent
from harness.verdicts import Limits, SampleResult, Verdict

DEFAULT_DATASET = HUB_DATASET
_LIMITS = Limits()  # the one place the judge's default limits live
_SAMPLING = SamplingSpec()  # the one place sampling defaults live (Qwen3 thinking mode, as NousCoder evaluated)
QWEN3_LONG_CONTEXT = 81_920  # NousCoder's evaluation length: YaRN factor 2.0 over Qwen3's 40,960 (its config.json)
QWEN3_YARN_ORIGINAL = 40_960  # Qwen3-14B's max_position_embeddings; NousCoder-14B's original_max_position_embeddings


class EvalError(UserError):
    """A user-facing problem with the requested evaluation (one line, no traceback)."""


@dataclass
class EvalConfig:
    """Everything `python -m harness.eval` can be told. None means "choose the documented default"."""

    model: str
    backend: str | None = None  # None: replay for a .jsonl/.json file, openai when base URLs are given, else vllm
    dataset: str = DEFAULT_DATASET
    release: str = DEFAULT_RELEASE
    start_date: str = DEFAULT_START_DATE
    end_date: str = DEFAULT_END_DATE
    question_ids: tuple[str, ...] | None = None  # restrict the selection to these problems (None: all of it)
    n: int = _SAMPLING.n
    temperature: float = _SAMPLING.temperature
    top_p: float = _SAMPLING.top_p
    top_k: int | None = _SAMPLING.top_k
    min_p: float | None = _SAMPLING.min_p
    max_tokens: int | None = _SAMPLING.max_tokens
    seed: int | None = _SAMPLING.seed
    max_model_len: int | None = None
    rope_scaling: str | None = None
    yarn_factor: float | None = None
    yarn_original_max: int | None = None
    prompt_style: str | None = None
    extract_mode: str = "robust"
    enable_thinking: bool | None = None
    time_limit_s: float = _LIMITS.time_limit_s
    memory_limit_mb: int = _LIMITS.memory_limit_mb
    workers: int | None = None
    sandbox: str = "local"
    out: str | None = None
    resume: bool = False
    label: str | None = None
    model_release_date: str | None = None
    backend_options: dict = field(default_factory=dict)  # base_urls, api_key, tensor_parallel_size, device, ...
    progress: bool = True


def is_qwen3_family(model: str) -> bool:
    name = model.lower()
    return "qwen3" in name or "nouscoder" in name


def resolve_defaults(cfg: EvalConfig) -> EvalConfig:
    """Fill the model-family defaults: backend, prompt style, and YaRN to 81,920 for Qwen3-class models on vLLM."""
    from harness.prompts import style_for_model

    backend = cfg.backend
    if backend is None:
        if cfg.model == "sample" or Path(cfg.model).suffix in (".jsonl", ".json"):
            backend = "replay"
        elif cfg.backend_options.get("base_urls"):
            backend = "openai"
        else:
            backend = "vllm"
    cfg = replace(cfg, backend=backend)
    if cfg.prompt_style is None:
        cfg = replace(cfg, prompt_style=style_for_model(cfg.model))
    if cfg.enable_thinking is None:
        from harness.prompts import PROMPT_STYLES

        style = PROMPT_STYLES.get(cfg.prompt_style)
        cfg = replace(cfg, enable_thinking=getattr(style, "enable_thinking", None))
    if backend in ("vllm", "openai") and is_qwen3_family(cfg.model) and cfg.max_model_len is None:
        cfg = replace(cfg, max_model_len=QWEN3_LONG_CONTEXT)
        if backend == "vllm" and cfg.rope_scaling is None:
            from harness.backends.common import checkpoint_rope_scaling

            if checkpoint_rope_scaling(cfg.model) is None:  # a checkpoint carrying its own rope scaling keeps it
                cfg = replace(cfg, rope_scaling="yarn")
    if cfg.rope_scaling == "yarn":
        cfg = replace(
            cfg,
            yarn_original_max=cfg.yarn_original_max or QWEN3_YARN_ORIGINAL,
            yarn_factor=cfg.yarn_factor or (cfg.max_model_len or QWEN3_LONG_CONTEXT) / (cfg.yarn_original_max
                                                                                     or QWEN3_YARN_ORIGINAL),
        )
    if cfg.n < 1:
        raise EvalError(f"--n must be >= 1, got {cfg.n}")
    check_judge_settings(cfg.time_limit_s, cfg.memory_limit_mb, cfg.workers)
    from harness.prompts import PROMPT_STYLES

    if cfg.prompt_style not in PROMPT_STYLES:  # checked before anything is created or loaded
        raise EvalError(f"unknown prompt style {cfg.prompt_style!r}; known: {', '.join(sorted(PROMPT_STYLES))}")
    return cfg


def sampling_of(cfg: EvalConfig) -> SamplingSpec:
    return SamplingSpec(n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p, top_k=cfg.top_k, min_p=cfg.min_p,
                        max_tokens=cfg.max_tokens, seed=cfg.seed)


def limits_of(cfg: EvalConfig) -> Limits:
    return Limits(time_limit_s=cfg.time_limit_s, memory_limit_mb=cfg.memory_limit_mb)


def backend_options_of(cfg: EvalConfig) -> BackendOptions:
    known = set(BackendOptions.__dataclass_fields__)
    opts = {k: v for k, v in cfg.backend_options.items() if k in known}
    extra = {k: v for k, v in cfg.backend_options.items() if k not in known}
    if "base_urls" in opts:
        opts["base_urls"] = tuple(opts["base_urls"])
    return BackendOptions(
        max_model_len=cfg.max_model_len, rope_scaling=cfg.rope_scaling, yarn_factor=cfg.yarn_factor,
        yarn_original_max=cfg.yarn_original_max, enable_thinking=cfg.enable_thinking, extra=extra, **opts,
    )


def build_manifest(cfg: EvalConfig, problem_set) -> RunManifest:
    generation = {"max_model_len": cfg.max_model_len, "rope_scaling": cfg.rope_scaling,
                  "yarn_factor": cfg.yarn_factor, "yarn_original_max": cfg.yarn_original_max,
                  "enable_thinking": cfg.enable_thinking}
    for key in ("extra_body", "drop_fields"):  # what the openai backend adds to or leaves out of every request
        if cfg.backend_options.get(key):
            generation[key] = cfg.backend_options[key]
    return RunManifest(
        model=cfg.model, backend=cfg.backend, sampling=sampling_of(cfg), prompt_style=cfg.prompt_style,
        extract_mode=cfg.extract_mode,
        dataset=DatasetSpec(spec=cfg.dataset, release=cfg.release, start_date=cfg.start_date, end_date=cfg.end_date,
                            content_hash=problem_set.content_hash, n_problems=len(problem_set),
                            n_with_private_tests=problem_set.n_with_private_tests,
                            question_ids=sorted(cfg.question_ids) if cfg.question_ids is not None else None),
        limits=limits_of(cfg).to_dict(), generation=generation, sandbox=cfg.sandbox,
        **describe_sandbox(cfg.sandbox),  # isolation + accounting in force: "rlimits-fallback" = without the jail
        model_release_date=cfg.model_release_date, label=cfg.label, versions=package_versions(),
        git_revision=git_revision(), model_params=estimate_params(cfg.model),
    )


def estimate_params(model: str) -> int | None:
    """Rough parameter count of a local transformers checkpoint (from config.json), so the leaderboard can keep toy
    models apart from real ones; None for hub ids, served models and replay files."""
    import json

    config = Path(model) / "config.json"
    try:
        cfg = json.loads(config.read_text(encoding="utf-8")) if config.is_file() else None
    except (OSError, ValueError):
        return None
    if not isinstance(cfg, dict):
        return None
    try:
        hidden, layers = int(cfg["hidden_size"]), int(cfg["num_hidden_layers"])
        inner, vocab = int(cfg.get("intermediate_size") or 4 * hidden), int(cfg.get("vocab_size") or 0)
    except (KeyError, TypeError, ValueError):
        return None
    return vocab * hidden + layers * (4 * hidden * hidden + 3 * hidden * inner)


def prepare_run_dir(cfg: EvalConfig, manifest: RunManifest) -> tuple[RunDir, set[tuple[str, int]], bool]:
    """Create or reopen the run directory; return it, the keys of samples already recorded, and whether it is new."""
    run = RunDir(cfg.out)
    if run.exists():
        if not cfg.resume:
            raise EvalError(f"{run.path} already holds a run: pass --resume to finish it, or choose another --out")
        diffs = manifest_differences(run.read_manifest(), manifest)
        if diffs:
            raise EvalError(f"cannot resume {run.path}: the recorded run differs in " + "; ".join(diffs))
        removed = run.repair()
        if removed:
            print(f"resume: dropped a half-written last line ({removed} bytes); that sample is redone", file=sys.stderr)
        undecided = run.drop_undecided()
        if undecided:
            print(f"resume: {undecided} infra_error sample(s) (the grader or the server failed) are redone", file=sys.stderr)
        done = {rec.key for rec in run.iter_samples()}
        return run, done, False
    if run.samples_path.exists() and run.samples_path.stat().st_size:
        raise EvalError(f"{run.path} has samples.jsonl but no manifest.json: refusing to mix runs")
    run.write_manifest(manifest)
    return run, set(), True


def build_requests(problems: list[Problem], style: str, n: int, done: set[tuple[str, int]]) -> list[GenerationRequest]:
    from harness.prompts import PROMPT_STYLES, render_messages

    requests = []
    for p in problems:
        todo = tuple(i for i in range(n) if (p.question_id, i) not in done)
        if todo:
            messages = tuple(render_messages(p, PROMPT_STYLES[style]))
            requests.append(GenerationRequest(p.question_id, todo, messages))
    return requests


def make_record(problem: Problem, comp: Completion, code: str | None, result: SampleResult) -> SampleRecord:
    return SampleRecord(
        question_id=problem.question_id, sample_idx=comp.sample_idx, difficulty=str(problem.difficulty),
        platform=str(problem.platform), contest_date=problem.contest_date.isoformat(), raw_output=comp.text,
        code=code, finish_reason=comp.finish_reason, prompt_tokens=comp.prompt_tokens,
        completion_tokens=comp.completion_tokens, skipped_reason=comp.skipped_reason, **_result_fields(result),
    )


def _result_fields(result: SampleResult) -> dict:
    d = result.to_dict()
    return {k: d[k] for k in ("verdict", "passed", "tests_run", "tests_total", "failed_test", "cpu_s", "wall_s",
                              "peak_rss_mb", "detail", "sandbox", "exec_mode", "tests")}


def generate_and_grade(cfg: EvalConfig, problems_by_id: dict[str, Problem], requests, run: RunDir, backend) -> dict:
    """Stream completions into the shared grading loop (harness.grading); each verdict is appended to samples.jsonl
    as it lands. Returns counts of what happened."""
    from tqdm import tqdm

    from harness.extract import extract_code
    from harness.grading import JudgeSettings, grade_stream

    total = sum(len(r.sample_indices) for r in requests)
    gen_bar = tqdm(total=total, desc="generate", unit="sample", disable=not cfg.progress, position=0)
    expected = {(r.question_id, i) for r in requests for i in r.sample_indices}
    seen: set[tuple[str, int]] = set()
    pending: dict[tuple[str, int], tuple[Problem, Completion, str | None]] = {}  # handed out, not yet written
    marks = {"start": time.monotonic()}

    def jobs():
        for comp in backend.generate(requests, sampling_of(cfg)):
            key = (comp.question_id, comp.sample_idx)
            if key not in expected or key in seen or comp.missing:
                continue  # never twice, never unasked; absent data is left missing (and reported), not failed
            seen.add(key)
            gen_bar.update(1)
            problem = problems_by_id[comp.question_id]
            if getattr(comp, "infra_error", None) is not None:  # the backend gave up (server errors): not graded
                pending[key] = (problem, comp, None)
                write(key, SampleResult(Verdict.INFRA_ERROR, detail=comp.infra_error))
                continue
            code = comp.code if comp.code is not None else extract_code(comp.text or "", cfg.extract_mode)
            pending[key] = (problem, comp, code)
            yield key, problem, code
        marks["generated"] = time.monotonic()

    appender, lock = run.open_appender(), threading.Lock()

    def write(key, result: SampleResult) -> None:  # from the judge's threads and, for infra errors, this one
        with lock:  # the completion is dropped once written: long outputs are not all held until the end
            appender.append(make_record(*pending.pop(key), result))

    try:
        stats = grade_stream(jobs(), write, JudgeSettings(cfg.workers, limits_of(cfg), cfg.sandbox), total=total,
                             progress=cfg.progress, desc="grade   ", position=1)
    finally:
        appender.close()
        gen_bar.close()
    if stats.errors:
        raise EvalError(f"the judge failed on {len(stats.errors)} samples (first: {stats.errors[0]!r}); "
                        "graded samples are saved: fix the cause and re-run with --resume")
    end = time.monotonic()
    return {"requested": total, "generated": len(seen), "missing": total - len(seen),
            "generation_s": round(marks["generated"] - marks["start"], 3),
            "grading_tail_s": round(end - marks["generated"], 3)}


def _replay_path(cfg: EvalConfig) -> str:
    if cfg.backend == "replay" and cfg.model == "sample":
        from harness.problems import SAMPLE_DIR

        return str(Path(SAMPLE_DIR) / "completions.jsonl")
    return cfg.model


def run_eval(cfg: EvalConfig) -> RunSummary:
    """Run (or resume) one evaluation and return its summary (also written to RUN_DIR/summary.json).

    Everything that can be refused (flags, prompt style, the problems, the backend) is checked before the run
    directory is created; a start that fails after creating it removes what it created, and nothing else."""
    from harness.scoring import summarize

    cfg = resolve_defaults(cfg)
    check_out_dir(cfg.out)
    problem_set = select_problems(cfg)
    manifest = build_manifest(cfg, problem_set)
    backend = open_backend(cfg)
    try:
        run, done, created = prepare_run_dir(cfg, manifest)
        print_settings(cfg, problem_set, len(done))
        problems_by_id = {p.question_id: p for p in problem_set.problems}
        requests = build_requests(problem_set.problems, cfg.prompt_style, cfg.n, done)
        try:
            stats = (generate_and_grade(cfg, problems_by_id, requests, run, backend) if requests
                     else {"requested": 0, "missing": 0})
        except BaseException:
            if created:
                remove_if_unused(run)
            raise
    finally:
        backend.close()
    records = [r for r in run.iter_samples() if r.question_id in problems_by_id]
    summary = summarize(records, problems=problem_set.problems)
    summary.n_missing = cfg.n * len(problem_set) - len({r.key for r in records})
    summary.n_problems_selected = len(problem_set)
    summary.run = {"model": cfg.model, "backend": cfg.backend, "out": str(run.path), **stats}
    run.write_summary(summary)
    return summary


def check_out_dir(out: str | None) -> None:
    """--out must be a run directory, a new path or an empty folder: never a file, never someone else's folder."""
    if out is None:
        raise EvalError("--out RUN_DIR is required (the run directory that records every sample)")
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise EvalError(f"--out {path} is a file; --out names a run directory (a new or empty folder)")
    check_out_parent(path)
    if path.is_dir() and not RunDir(path).exists() and any(path.iterdir()):
        raise EvalError(f"--out {path} is a folder that holds other files and no run; choose a new or empty folder")


def select_problems(cfg: EvalConfig):
    """The problems of the run: the dataset window, restricted to --question-ids when given."""
    from harness.problems import ProblemSet, hash_problems, load_problems

    try:
        problem_set = load_problems(cfg.dataset, cfg.release, cfg.start_date, cfg.end_date)
    except UnicodeDecodeError as err:
        raise EvalError(f"--dataset {cfg.dataset}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    if cfg.question_ids is not None:
        wanted = set(cfg.question_ids)
        unknown = sorted(wanted - set(problem_set.by_id))
        if unknown:
            raise EvalError(f"--question-ids: {len(unknown)} id(s) not in the selection ({', '.join(unknown[:5])})")
        kept = [p for p in problem_set.problems if p.question_id in wanted]
        problem_set = ProblemSet(kept, hash_problems(kept), dataset=problem_set.dataset, release=cfg.release,
                                 start_date=cfg.start_date, end_date=cfg.end_date, test_store=problem_set.test_store)
    if len(problem_set) == 0:
        raise EvalError(f"no problems in {cfg.dataset} {cfg.release} {cfg.start_date}..{cfg.end_date}")
    return problem_set


def open_backend(cfg: EvalConfig):
    """The backend, built before the run directory exists (a bad model, file or missing package fails cleanly)."""
    from harness.backends import create_backend

    try:
        return create_backend(cfg.backend, _replay_path(cfg), backend_options_of(cfg))
    except UnicodeDecodeError as err:
        raise EvalError(f"--model {cfg.model}: not UTF-8 text ({err.reason} at byte {err.start})") from None


def remove_if_unused(run: RunDir) -> None:
    """Undo a start that recorded nothing: remove the manifest and empty samples file this run created."""
    if run.samples_path.exists() and run.samples_path.stat().st_size:
        return  # graded samples are kept: --resume finishes the run
    for path in (run.samples_path, run.manifest_path):
        path.unlink(missing_ok=True)
    try:
        run.path.rmdir()  # only when empty: nothing that was not ours is touched
    except OSError:
        pass


def print_settings(cfg: EvalConfig, problem_set, n_done: int) -> None:
    lines = [
        f"model        {cfg.model}  (backend {cfg.backend})",
        (f"dataset      {cfg.dataset} {cfg.release} {cfg.start_date}..{cfg.end_date}: {len(problem_set)} problems "
        f"(hash {problem_set.content_hash[:12]})"),
        (f"sampling     n={cfg.n} temperature={cfg.temperature} top_p={cfg.top_p} top_k={cfg.top_k} "
        f"max_tokens={cfg.max_tokens or 'max_model_len - prompt'} seed={cfg.seed}"),
        (f"context      max_model_len={cfg.max_model_len} rope_scaling={cfg.rope_scaling} "
        f"yarn_factor={cfg.yarn_factor} original_max={cfg.yarn_original_max}"),
        f"prompt       {cfg.prompt_style}; extraction {cfg.extract_mode}",
        (f"judge        {cfg.time_limit_s:g} s CPU / {cfg.memory_limit_mb} MiB per test; sandbox {cfg.sandbox}; "
        f"workers {cfg.workers or 'all cores'}"),
        f"out          {cfg.out}" + (f" (resuming: {n_done} samples already recorded)" if n_done else ""),
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)
