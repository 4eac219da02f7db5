"""Memory of comparing a huge output: harness.compare.compare_stdout vs the official list-based rule.

    .venv/bin/python -m benchmarks.compare_memory               # 64 MB of 10-byte lines (~30 s on 2 cores)
    .venv/bin/python -m benchmarks.compare_memory --mb 1        # a smoke run (used by the tests)

Each way runs in a fresh subprocess that first builds the program's output (bytes) and the expected text (str),
then compares them; printed: the peak RSS growth during the comparison (getrusage ru_maxrss after - before) and
its time. The baseline is the official formulation the judge used before streaming: decode, strip, split into a
list of stripped lines on both sides, then compare line by line. Writes benchmarks/results/compare_memory.json.

Not covered: the sandbox's own output buffers (bounded by the output cap).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from benchmarks.common import RESULTS, write_result

PROBE = """
import json, resource, sys, time
from harness.compare import _tokens_equal, compare_stdout

def official(actual, expected):
    got = [line.strip() for line in actual.decode("utf-8").strip().split("\\n")]
    want = [line.strip() for line in expected.strip().split("\\n")]
    return len(got) == len(want) and all(g == w or _tokens_equal(g, w) for g, w in zip(got, want))

line = b"123456789\\n"
actual = line * (int(sys.argv[2]) * 2**20 // len(line))
expected = "123456789 \\n" * (len(actual) // 10)  # equal once stripped, not byte-identical: line by line
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
ok = compare_stdout(actual, expected)[0] if sys.argv[1] == "streaming" else official(actual, expected)
seconds = time.perf_counter() - started
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"passed": ok, "lines": len(actual) // len(line), "inputs_mb": before / 1024,
                  "peak_growth_mb": grown, "seconds": seconds}))
"""


def measure(way: str, mb: int) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, way, str(mb)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=int, default=64, help="size of the output, in MiB of 10-byte lines")
    p.add_argument("--out", default=str(RESULTS / "compare_memory.json"))
    args = p.parse_args(argv)
    report = {"mb": args.mb, "official_lists": measure("official", args.mb), "streaming": measure("streaming", args.mb)}
    report["command"] = "python -m benchmarks.compare_memory " + " ".join(argv if argv is not None else sys.argv[1:])
    for way in ("official_lists", "streaming"):
        r = report[way]
        print(f"{way:<15} passed={r['passed']} lines={r['lines']:,} inputs {r['inputs_mb']:.0f} MB, "
              f"peak RSS growth {r['peak_growth_mb']:.0f} MB, {r['seconds']:.1f} s")
    write_result(Path(args.out), report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
