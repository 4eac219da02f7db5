"""`python -m harness.eval --model M`: evaluate a model on LiveCodeBench v6 and record everything.

Thin entry point: parse flags, call harness.pipeline.run_eval, print the summary. See README for examples.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from harness.backends.openai_protocol import parse_extra_body
from harness.errors import EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR, UserError
from harness.pipeline import DEFAULT_DATASET, EvalConfig, run_eval
from harness.problems import DEFAULT_END_DATE, DEFAULT_RELEASE, DEFAULT_START_DATE
from harness.records import SamplingSpec
from harness.sandbox import preflight
from harness.summary import RunSummary
from harness.verdicts import Limits

DEFAULTS, LIMITS = SamplingSpec(), Limits()

__all__ = ["EvalConfig", "build_parser", "main", "run_eval"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness.eval", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True,
                   help="hub id or local path (vllm/hf), served model name (openai), or a JSONL/eval_all file "
                        "(replay; 'sample' = the bundled sample completions)")
    p.add_argument("--backend", choices=["vllm", "openai", "hf", "replay"],
                   help="default: replay for a .jsonl/.json model, openai when --base-url is given, else vllm")
    p.add_argument("--dataset", default=DEFAULT_DATASET,
                   help="hub id, local .jsonl/.json/.parquet file or folder of shards, or 'sample'")
    p.add_argument("--release", default=DEFAULT_RELEASE, help="release_v1..release_v6, v1..v6 or vX_vY")
    p.add_argument("--start-date", default=DEFAULT_START_DATE, help="first contest date, inclusive")
    p.add_argument("--end-date", default=DEFAULT_END_DATE, help="last contest date, inclusive")
    p.add_argument("--question-ids", default=None, metavar="ID,ID...|@FILE",
                   help="score only these problems of the window (comma-separated, or @FILE with one id a line); "
                        "the summary is then over this selection")
    g = p.add_argument_group("sampling (defaults: Qwen3 thinking mode, as NousCoder evaluated)")
    g.add_argument("--n", type=int, default=DEFAULTS.n, help="samples per problem (16 for the headline figure)")
    g.add_argument("--temperature", type=float, default=DEFAULTS.temperature)
    g.add_argument("--top-p", type=float, default=DEFAULTS.top_p)
    g.add_argument("--top-k", type=int, default=DEFAULTS.top_k, help="-1 disables")
    g.add_argument("--min-p", type=float, default=None)
    g.add_argument("--max-tokens", type=int, default=None, help="default: max_model_len minus the prompt's tokens")
    g.add_argument("--seed", type=int, default=DEFAULTS.seed)
    g = p.add_argument_group("context (default for Qwen3/NousCoder on vllm: 81,920 with YaRN 2.0 over 40,960 as "
                             "NousCoder-14B's config.json; none when the checkpoint carries rope scaling)")
    g.add_argument("--max-model-len", type=int, default=None)
    g.add_argument("--rope-scaling", choices=["yarn", "none"], default=None)
    g.add_argument("--yarn-factor", type=float, default=None)
    g.add_argument("--yarn-original-max", type=int, default=None)
    g = p.add_argument_group("prompting and extraction")
    g.add_argument("--prompt-style", default=None, help="default chosen by model family (see harness.prompts)")
    g.add_argument("--extract-mode", default="robust", choices=["robust", "lcb", "raw"])
    g.add_argument("--enable-thinking", dest="enable_thinking", action="store_true", default=None)
    g.add_argument("--disable-thinking", dest="enable_thinking", action="store_false")
    g = p.add_argument_group("judge")
    g.add_argument("--time-limit", type=float, default=LIMITS.time_limit_s, help="CPU seconds per test (official: 6)")
    g.add_argument("--memory-limit-mb", type=int, default=LIMITS.memory_limit_mb)
    g.add_argument("--workers", type=int, default=None, help="grading workers (default: number of cores)")
    g.add_argument("--sandbox", choices=["local", "modal"], default="local")
    g = p.add_argument_group("backend options")
    g.add_argument("--base-url", action="append", default=None,
                   help="OpenAI-compatible endpoint; repeat (or comma-separate) for a fleet. Env: OPENAI_BASE_URL")
    g.add_argument("--api-key", default=None, help="env: OPENAI_API_KEY")
    g.add_argument("--concurrency", type=int, default=None, help="openai: requests in flight")
    g.add_argument("--tensor-parallel-size", type=int, default=None)
    g.add_argument("--dtype", default=None)
    g.add_argument("--gpu-memory-utilization", type=float, default=None)
    g.add_argument("--device", default=None, help="hf: cpu, cuda, ...")
    g.add_argument("--batch-size", type=int, default=None, help="hf: prompts per generate call")
    g.add_argument("--backend-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="extra backend option, e.g. rate=20 for replay (completions per second)")
    g.add_argument("--extra-body", default=None, metavar="JSON",
                   help="openai: a JSON object of fields added to every request, e.g. '{\"repetition_penalty\": 1.05}'"
                        " (recorded in the manifest)")
    g = p.add_argument_group("run")
    g.add_argument("--out", required=True, help="run directory (manifest.json, samples.jsonl, summary.json)")
    g.add_argument("--resume", action="store_true", help="finish a run in --out without redoing recorded samples")
    g.add_argument("--label", default=None, help="display name on the leaderboard")
    g.add_argument("--model-release-date", default=None, help="YYYY-MM-DD, for the contamination flag")
    g.add_argument("--no-progress", action="store_true")
    return p


def config_from_args(args: argparse.Namespace) -> EvalConfig:
    base_urls = []
    for item in args.base_url or ([os.environ["OPENAI_BASE_URL"]] if os.environ.get("OPENAI_BASE_URL") else []):
        base_urls += [u.strip() for u in item.split(",") if u.strip()]
    options = {"base_urls": base_urls, "api_key": args.api_key, "concurrency": args.concurrency,
               "tensor_parallel_size": args.tensor_parallel_size, "dtype": args.dtype,
               "gpu_memory_utilization": args.gpu_memory_utilization, "device": args.device,
               "batch_size": args.batch_size}
    for item in args.backend_opt:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--backend-opt expects KEY=VALUE, got {item!r}")
        options[key.strip()] = _parse_scalar(value.strip())
    if args.extra_body is not None:
        if args.backend not in (None, "openai"):
            raise UserError(f"--extra-body is sent to OpenAI-compatible servers only, not to --backend {args.backend}")
        options["extra_body"] = args.extra_body
    if "extra_body" in options:  # validated here: bad JSON is one error line, and the manifest records the object
        options["extra_body"] = parse_extra_body(options["extra_body"])
    return EvalConfig(
        model=args.model, backend=args.backend, dataset=args.dataset, release=args.release,
        start_date=args.start_date, end_date=args.end_date, question_ids=parse_question_ids(args.question_ids),
        n=args.n, temperature=args.temperature,
        top_p=args.top_p, top_k=None if args.top_k is not None and args.top_k < 0 else args.top_k,
        min_p=args.min_p, max_tokens=args.max_tokens, seed=args.seed, max_model_len=args.max_model_len,
        rope_scaling=None if args.rope_scaling == "none" else args.rope_scaling, yarn_factor=args.yarn_factor,
        yarn_original_max=args.yarn_original_max, prompt_style=args.prompt_style, extract_mode=args.extract_mode,
        enable_thinking=args.enable_thinking, time_limit_s=args.time_limit, memory_limit_mb=args.memory_limit_mb,
        workers=args.workers, sandbox=args.sandbox, out=args.out, resume=args.resume, label=args.label,
        model_release_date=args.model_release_date,
        backend_options={k: v for k, v in options.items() if v not in (None, [])},
        progress=not args.no_progress,
    )


def parse_question_ids(value: str | None) -> tuple[str, ...] | None:
    """`a,b,c` or `@FILE` (one id a line) -> the ids; None when the flag is absent."""
    if value is None:
        return None
    if value.startswith("@"):
        path = value[1:]
        try:
            with open(path, encoding="utf-8") as f:
                value = f.read().replace("\n", ",")
        except (OSError, UnicodeDecodeError) as err:
            raise UserError(f"--question-ids {path}: cannot read it as UTF-8 text ({err})") from None
    ids = tuple(dict.fromkeys(x.strip() for x in value.split(",") if x.strip()))
    if not ids:
        raise UserError("--question-ids names no problem")
    return ids


def _parse_scalar(value: str):
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(value.lower(), value)


def headline(summary: RunSummary) -> str:
    """pass@1 with its interval, over how many problems of the selection; loud when some are not scored."""
    selected = summary.n_problems_selected or summary.n_problems
    ci = summary.ci95
    head = f"pass@1 {100 * summary.pass_at_1:.2f}%"
    if ci.low is not None and ci.high is not None:
        head += f"  (95% CI {100 * ci.low:.2f}..{100 * ci.high:.2f}, {ci.method})"
    if summary.n_problems < selected:
        head += f"  over {summary.n_problems} OF {selected} PROBLEMS only"
    else:
        head += f"  over {summary.n_problems} problems"
    return head + f", {summary.n_samples} samples"


def format_summary(summary: RunSummary) -> str:
    """A short human-readable summary: headline with interval, pass@k, difficulty breakdown, verdicts, and what is
    incomplete (infra errors, missing samples) with what to do about it."""
    from tabulate import tabulate

    reasons = summary.incomplete_reasons()
    warning = [(f"INCOMPLETE: {'; '.join(reasons)}. This is not a score over the whole selection: re-run with "
                "--resume to fill the gaps")] if reasons else []
    if summary.pass_at_1 is None:
        return "\n".join(warning + [f"no sample could be scored (verdicts: {summary.verdict_counts})"])
    rows = [[f"pass@{k}", f"{100 * v:.2f}"] for k, v in summary.pass_at_k.items()]
    rows += [[name, f"{100 * d.pass_at_1:.2f}  ({d.n_problems} problems)"] for name, d in summary.by_difficulty.items()]
    verdicts = ", ".join(f"{k} {v}" for k, v in sorted(summary.verdict_counts.items()))
    return "\n".join([headline(summary), tabulate(rows, tablefmt="plain"), f"verdicts: {verdicts}", *warning])


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 complete; 2 bad input (one `error:` line); 3 finished but incomplete (infra_error or missing
    samples: the headline says so); 130 interrupted (graded samples kept, --resume finishes)."""
    args = build_parser().parse_args(argv)
    try:
        preflight(args.sandbox)  # before any generation: a grader that cannot start would waste it
        summary = run_eval(config_from_args(args))
    except KeyboardInterrupt:
        print("interrupted: every graded sample is saved; re-run with --resume to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(format_summary(summary))
    print(json.dumps({"pass@1": summary.pass_at_1, "n_problems": summary.n_problems,
                      "n_problems_selected": summary.n_problems_selected, "n_samples": summary.n_samples,
                      "n_infra_error": summary.n_infra_error, "n_missing": summary.n_missing}))
    return EXIT_INCOMPLETE if summary.incomplete_reasons() else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
