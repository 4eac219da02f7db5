"""Shared pieces of the CLI tests: the repository root, a one-problem dataset row in the official schema with its
correct program, and a subprocess runner for `python -m MODULE`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROW = {
    "question_title": "sum", "question_content": "add numbers", "platform": "atcoder", "question_id": "abc001_a",
    "contest_id": "abc001", "contest_date": "2024-09-01T00:00:00", "starter_code": "", "difficulty": "easy",
    "public_test_cases": json.dumps([{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]),
    "private_test_cases": json.dumps([{"input": "10 20\n", "output": "30\n", "testtype": "stdin"}]),
    "metadata": "{}", "release_version": "release_v1",
}
GOOD = "a, b = map(int, input().split())\nprint(a + b)"


def run_cli(module: str, *args: object, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], check=False, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ})
