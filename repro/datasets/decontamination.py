"""Decontamination of the training rows against the evaluation problems (LiveCodeBench v6) by statement n-grams.

A row is contaminated when a large share of its statement's word 13-grams (normalised text, repro.datasets.text)
appears in one evaluation statement: `containment = |G(row) & G(eval)| / |G(row)|` >= `threshold` (0.5). A copy
with edits (renamed variables, reworded sentences, added lines) keeps most 13-grams; two different problems
share almost none. The report lists every row at or above `report_floor` (0.2) with its closest evaluation
problem, containment and Jaccard, so borderline cases can be read; flagged rows are dropped. Written next to the
dataset as decontamination.json and decontamination.md.

Does not cover: the date cutoff and exact statement hashes (repro.data.decontaminate), deduplication
(repro.datasets.curation).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from repro.datasets.text import word_ngrams

NGRAM = 13
THRESHOLD = 0.5
REPORT_FLOOR = 0.2


def overlaps(rows: Iterable[dict], eval_problems: Iterable[Any], n: int = NGRAM,
             floor: float = REPORT_FLOOR) -> list[dict]:
    """For each row whose best containment is >= floor: {id, eval_id, containment, jaccard}, best first."""
    evals = list(eval_problems)
    eval_grams = [word_ngrams(p.question_content, n) for p in evals]
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for k, grams in enumerate(eval_grams):
        for g in grams:
            index[g].append(k)
    found = []
    for row in rows:
        grams = word_ngrams(row["question_content"], n)
        if not grams:
            continue
        shared = Counter(k for g in grams for k in index.get(g, ()))
        if not shared:
            continue
        k, count = shared.most_common(1)[0]
        containment = count / len(grams)
        if containment >= floor:
            found.append({"id": row["id"], "eval_id": evals[k].question_id, "containment": round(containment, 4),
                          "jaccard": round(count / len(grams | eval_grams[k]), 4)})
    return sorted(found, key=lambda o: -o["containment"])


def decontaminate_ngrams(rows: list[dict], eval_problems: Iterable[Any], *, n: int = NGRAM,
                         threshold: float = THRESHOLD, floor: float = REPORT_FLOOR) -> tuple[list[dict], dict]:
    """(rows kept, report): rows at or above `threshold` are dropped; the report says what and why."""
    evals = list(eval_problems)
    found = overlaps(rows, evals, n, min(floor, threshold))
    flagged = {o["id"] for o in found if o["containment"] >= threshold}
    kept = [r for r in rows if r["id"] not in flagged]
    report = {
        "ngram": n, "threshold": threshold, "report_floor": floor, "rows_checked": len(rows),
        "eval_problems": len(evals), "flagged": len(flagged), "kept": len(kept),
        "overlaps": found,
    }
    return kept, report


def write_report(report: dict, out_dir: str | Path, title: str = "Decontamination against the evaluation set"
                 ) -> tuple[Path, Path]:
    """decontamination.json (everything) and decontamination.md (a summary and the worst overlaps)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "decontamination.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"# {title}", "",
        (f"{report['rows_checked']} training rows checked against {report['eval_problems']} evaluation problems "
         f"by word {report['ngram']}-gram containment (share of a row's {report['ngram']}-grams found in one "
         f"evaluation statement). Dropped at >= {report['threshold']}: **{report['flagged']}**; kept: "
         f"{report['kept']}. Rows listed below: containment >= {report['report_floor']}."), "",
        "| training row | closest evaluation problem | containment | Jaccard | dropped |", "|---|---|---:|---:|---|",
    ]
    for o in report["overlaps"][:50]:
        lines.append(f"| {o['id']} | {o['eval_id']} | {o['containment']:.3f} | {o['jaccard']:.3f} | "
                     f"{'yes' if o['containment'] >= report['threshold'] else 'no'} |")
    if not report["overlaps"]:
        lines.append("| (none) | | | | |")
    md_path = out / "decontamination.md"
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return json_path, md_path
