"""A synthetic LiveCodeBench release in the official encoding, at the hub's real sizes (for benchmarks/full_size.py).

Six shards `test.jsonl .. test6.jsonl` of official-schema rows (every field a string; `private_test_cases` is
base64(zlib(pickle(json string))), the hub's layering). `n_window` problems fall in the v6 window (2024-08-01 ..
2025-05-01) with distinct hidden tests averaging `mean_bytes` (inputs + outputs) each: sizes log-normal, a few
problems with one input of `max_single` bytes, about one in seven with 50-80 tests, LeetCode rows (function call,
`metadata.func_name`) in the official share (167 of 454). Every test is an "echo": the expected output equals the
input (stdin) or the argument (function call), so trivial programs pass every test. `n_outside` rows lie before the
window with blobs of the same sizes (a few reused: the loader must read past them but never decodes them).

Text is drawn from a small pool of ~1 kB chunks of numbers so that it compresses like the real data (decoded /
base64 ~5x, as test6.jsonl's 134 MB for ~0.7 GB decoded); zlib level 1 keeps generation fast (decoding level-1
streams is no faster than level 6, so decode figures are not flattered).

Does not cover: measuring anything (benchmarks/full_size.py).
"""

from __future__ import annotations

import base64
import json
import math
import pickle
import random
import zlib
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

N_SHARDS = 6
WINDOW_START, WINDOW_DAYS = datetime(2024, 8, 1), 272  # 2024-08-01 .. 2025-04-30
FUNCTIONAL_SHARE = 167 / 454
STDIN_ECHO = "import sys\nsys.stdout.write(sys.stdin.read())\n"
FUNC_NAME = "echo"
FUNC_ECHO = f"class Solution:\n    def {FUNC_NAME}(self, nums):\n        return nums\n"
SPEC_FILE = "spec.json"
GENERATOR_VERSION = 2  # bump when the generated data changes: a --work folder made by another version is rebuilt


@dataclass(frozen=True)
class SetSpec:
    n_window: int = 454
    n_outside: int = 601  # release_v6 holds 1055 rows
    mean_bytes: int = 4_000_000  # hidden tests (inputs + outputs) per problem, on average
    max_single: int = 10_000_000  # the largest single input (its output is as large)
    seed: int = 0

    def scaled(self, scale: float) -> SetSpec:
        return SetSpec(self.n_window, self.n_outside, max(200, int(self.mean_bytes * scale)),
                       max(100, int(self.max_single * scale)), self.seed)


def qid(index: int) -> str:
    return f"syn{index:04d}"


def is_functional(index: int) -> bool:
    return math.floor((index + 1) * FUNCTIONAL_SHARE) > math.floor(index * FUNCTIONAL_SHARE)


def problem_totals(spec: SetSpec) -> list[int]:
    """Bytes of hidden tests per in-window problem: log-normal, mean `mean_bytes`, every 50th holding one max-size
    input (the others shrink so the mean holds)."""
    rnd = random.Random(spec.seed)
    weights = [min(rnd.lognormvariate(0.0, 0.9), 12.0) for _ in range(spec.n_window)]
    big = {i for i in range(spec.n_window) if i % 50 == 3}
    totals = [spec.mean_bytes * w for w in weights]
    for i in big:
        totals[i] = max(totals[i], 2.3 * spec.max_single)
    rest = spec.n_window * spec.mean_bytes - sum(totals[i] for i in big)
    small = sum(t for i, t in enumerate(totals) if i not in big) or 1.0
    return [int(t if i in big else max(200.0, t * max(rest, 0.0) / small)) for i, t in enumerate(totals)]


def _chunk_pool(rnd: random.Random, functional: bool) -> list[str]:
    vocab = [str(rnd.randint(1, 10 ** rnd.randint(1, 9))) for _ in range(1000)]
    pool = []
    for _ in range(16):
        toks = rnd.choices(vocab, k=200)
        if functional:
            pool.append(", ".join(toks) + ", ")
        else:
            pool.append("\n".join(" ".join(toks[i:i + 10]) for i in range(0, len(toks), 10)) + "\n")
    return pool


def _text(rnd: random.Random, pool: list[str], size: int, functional: bool) -> str:
    body = "".join(rnd.choices(pool, k=max(1, size // len(pool[0]))))[: max(1, size - 2)]
    if functional:
        return "[" + body.rstrip(", ") + "]" if body.strip(", ") else "[]"
    return body if body.endswith("\n") else body + "\n"


def hidden_tests(index: int, spec: SetSpec, total: int) -> list[dict]:
    """The hidden tests of in-window problem `index` (deterministic)."""
    rnd = random.Random(spec.seed * 1_000_003 + index)
    functional = is_functional(index)
    n = rnd.randint(50, 80) if index % 7 == 0 else rnd.randint(8, 40)
    half = total // 2  # the output repeats the input
    big = index % 50 == 3 and index < spec.n_window  # one input of max_single bytes
    weights = [rnd.expovariate(1.0) for _ in range(n - big)]
    scale = max(0, half - big * spec.max_single) / sum(weights)
    sizes = [spec.max_single] * big + [max(8, min(int(w * scale), spec.max_single)) for w in weights]
    pool = _chunk_pool(rnd, functional)
    kind = "functional" if functional else "stdin"
    tests = []
    for size in sizes:
        text = _text(rnd, pool, size, functional)
        tests.append({"input": text, "output": text, "testtype": kind})
    return tests


def encode(tests: list[dict], level: int = 1) -> str:
    """The hub's layering: base64(zlib(pickle(json string)))."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)), level)).decode("ascii")


def _row(index: int, date: datetime, tests: list[dict], blob: str) -> dict:
    functional = is_functional(index)
    public = [{"input": t["input"][:40], "output": t["output"][:40], "testtype": t["testtype"]} for t in tests[:2]]
    if functional:
        public = [{"input": "[1, 2, 3]", "output": "[1, 2, 3]", "testtype": "functional"}]
    return {
        "question_title": f"Synthetic echo {index}",
        "question_content": ("Print the input unchanged. " * 80).strip(),
        "platform": "leetcode" if functional else "atcoder",
        "question_id": qid(index),
        "contest_id": f"syn{index // 7:03d}",
        "contest_date": date.isoformat(),
        "starter_code": f"class Solution:\n    def {FUNC_NAME}(self, nums: List[int]) -> List[int]:\n        "
        if functional else "",
        "difficulty": ("easy", "medium", "hard")[index % 3],
        "public_test_cases": json.dumps(public),
        "private_test_cases": blob,
        "metadata": json.dumps({"func_name": FUNC_NAME} if functional else {}),
    }


def _window_row(args: tuple[int, SetSpec, int]) -> tuple[int, str, int]:
    index, spec, total = args
    tests = hidden_tests(index, spec, total)
    date = WINDOW_START + timedelta(days=index * WINDOW_DAYS // max(1, spec.n_window), hours=12)
    line = json.dumps(_row(index, date, tests, encode(tests)))
    return index, line, sum(len(t["input"]) + len(t["output"]) for t in tests)


def _outside_rows(spec: SetSpec, totals: list[int]) -> list[tuple[int, str]]:
    """Rows before the window: blobs of the mean size, only a few distinct ones (never decoded)."""
    blobs = [encode(hidden_tests(spec.n_window + 1 + 7 * k, spec, spec.mean_bytes)) for k in range(4)]
    rows = []
    for k in range(spec.n_outside):
        index = spec.n_window + k
        date = datetime(2023, 5, 1) + timedelta(days=k % 400)
        row = _row(index, date, [], blobs[k % len(blobs)] if blobs else "[]")
        rows.append((index, json.dumps(row)))
    return rows


def generate(folder: Path, spec: SetSpec, jobs: int = 2) -> dict:
    """Write the six shards into `folder` (reused when `folder/spec.json` says the same spec); returns the spec
    with totals: bytes of hidden tests in the window, of the shard files, problems per shard."""
    done = folder / SPEC_FILE
    if done.is_file():
        recorded = json.loads(done.read_text())
        if recorded.get("spec") == asdict(spec) and recorded.get("generator") == GENERATOR_VERSION:
            return recorded
    folder.mkdir(parents=True, exist_ok=True)
    totals = problem_totals(spec)
    decoded = 0
    with ExitStack() as stack:
        shards = [stack.enter_context(open(folder / (f"test{i}.jsonl" if i > 1 else "test.jsonl"), "w",
                                           encoding="utf-8")) for i in range(1, N_SHARDS + 1)]
        with ProcessPoolExecutor(max(1, jobs)) as pool:
            work = [(i, spec, totals[i]) for i in range(spec.n_window)]
            for index, line, n_bytes in pool.map(_window_row, work, chunksize=1):
                shards[index % N_SHARDS].write(line + "\n")
                decoded += n_bytes
        for index, line in _outside_rows(spec, totals):
            shards[index % N_SHARDS].write(line + "\n")
    info = {"spec": asdict(spec), "generator": GENERATOR_VERSION, "window_hidden_bytes": decoded,
            "shard_bytes": sum(p.stat().st_size for p in folder.glob("test*.jsonl"))}
    done.write_text(json.dumps(info, indent=2))
    return info
