"""Problem loading: official counts, release tags, windows, safe decoding, bad input, hash, hub path, sample set."""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from harness.problem_sources import parse_release, shard_filename
from harness.problems import (
    SAMPLE_DIR,
    ProblemsError,
    decode_tests,
    encode_private_tests,
    load_problems,
    problem_from_row,
    problem_stats,
)
from harness.problems import (
    TestCase as Case,
)

REPO = Path(__file__).resolve().parents[2]
SHARED_V6 = REPO / ".." / "shared" / "lcb" / "release_v6_problems.jsonl"
V6_STATS = {
    "n_problems": 454,
    "by_difficulty": {"easy": 110, "medium": 141, "hard": 203},
    "by_platform": {"atcoder": 287, "leetcode": 167},
    "by_month": {"2024-08": 66, "2024-09": 47, "2024-10": 53, "2024-11": 57, "2024-12": 49, "2025-01": 51,
                 "2025-02": 51, "2025-03": 68, "2025-04": 12},
}


def shared_v6() -> Path:
    if not SHARED_V6.is_file():
        pytest.skip(f"shared data missing: {SHARED_V6} (needed for the official counts)")
    return SHARED_V6


def sample_rows() -> list[dict]:
    with open(SAMPLE_DIR / "problems.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.problems", *args], check=False, cwd=REPO, capture_output=True,
                          text=True, timeout=60)


# ---------------------------------------------------------------- official counts on the shared release_v6 file


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [("2024-08-01", "2025-05-01", 454), ("2024-08-01", "2025-02-01", 329), ("2025-02-01", "2025-05-01", 131)],
)
def test_official_windows_on_release_v6(start, end, expected):
    selection = load_problems(str(shared_v6()), "release_v6", start, end)
    assert len(selection) == expected


def test_v6_stats_sorted_ids_and_errata():
    selection = load_problems(str(shared_v6()))
    assert problem_stats(selection) == V6_STATS
    ids = [p.question_id for p in selection]
    assert ids == sorted(ids)
    assert set(selection.errata) == {"arc185_c", "arc189_a"}  # kept and reported, never dropped
    assert selection.by_id["arc185_c"].question_id == "arc185_c"


def test_cli_stats_json_on_shared_file():
    result = run_cli("--dataset", str(shared_v6()), "--release", "release_v6", "--stats", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == V6_STATS


# ---------------------------------------------------------------- release tags, windows, bad input


@pytest.mark.parametrize(
    ("tag", "shards"),
    [(f"release_v{n}", tuple(range(1, n + 1))) for n in range(1, 7)]
    + [(f"v{n}", (n,)) for n in range(1, 7)]
    + [("v2_v5", (2, 3, 4, 5)), ("v1_v1", (1,)), ("release_latest", (1, 2, 3, 4, 5, 6))],
)
def test_release_tags_parse(tag, shards):
    assert parse_release(tag)[0] == shards


@pytest.mark.parametrize("tag", ["release_v7", "v0", "v7", "v5_v2", "release_v", "latest", "", "V2"])
def test_bad_release_tag_is_refused(tag):
    with pytest.raises(ProblemsError, match="release tag"):
        load_problems("sample", tag)


def test_shard_names():
    assert [shard_filename(i) for i in (1, 2, 6)] == ["test.jsonl", "test2.jsonl", "test6.jsonl"]


def test_end_before_start_and_bad_date_are_refused():
    with pytest.raises(ProblemsError, match="before"):
        load_problems("sample", start_date="2025-01-01", end_date="2024-12-31")
    with pytest.raises(ProblemsError, match="not a date"):
        load_problems("sample", start_date="2024-13-01")


def test_end_date_is_inclusive_midnight(tmp_path):
    rows = sample_rows()[:3]
    for row, date in zip(rows, ("2025-05-01T00:00:00", "2025-05-01T12:00:00", "2024-08-01T00:00:00")):
        row["contest_date"] = date
    selection = load_problems(str(write_jsonl(tmp_path / "w.jsonl", rows)))
    # a bare end date is its midnight (the official reading that gives 329 above): noon that day is outside
    assert sorted(p.contest_date.isoformat() for p in selection) == ["2024-08-01T00:00:00", "2025-05-01T00:00:00"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "sample", "--release", "v9"], "unknown release tag"),
        (["--dataset", "sample", "--start-date", "2025-02-01", "--end-date", "2025-01-01"], "before"),
        (["--dataset", "no/such/dir/problems.jsonl"], "does not exist"),
        (["--dataset", "./missing_folder"], "does not exist"),
        (["--dataset", "sample", "--release", "v2"], "single file"),
    ],
)
def test_cli_bad_input_one_line_exit_2(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


# ---------------------------------------------------------------- safe decoding


class _Exploit:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _b64_zlib(blob: bytes) -> str:
    return base64.b64encode(zlib.compress(blob)).decode("ascii")


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    row = dict(sample_rows()[0], question_id="evil001")
    row["private_test_cases"] = _b64_zlib(pickle.dumps(_Exploit(f"touch {marker}")))
    path = write_jsonl(tmp_path / "evil.jsonl", [row])
    problem = load_problems(str(path)).by_id["evil001"]  # hidden tests are decoded on use: refused then
    for _ in range(2):  # refused every time, never cached
        with pytest.raises(ProblemsError, match="evil001") as err:
            _ = problem.private_tests
        assert "system" in str(err.value) and "refused" in str(err.value)
    with pytest.raises(ProblemsError, match="evil001"):
        problem_from_row(row, where="evil.jsonl:1")  # eager decoding refuses it at once
    assert not marker.exists()
    result = run_cli("--dataset", str(path))  # the listing decodes every hidden test
    assert result.returncode == 2 and "evil001" in result.stderr and "Traceback" not in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("payload", [["a", "list"], {"a": 1}, 42, b"bytes"])
def test_pickle_of_anything_but_a_string_is_refused(payload):
    with pytest.raises(ProblemsError, match="not a string"):
        decode_tests(_b64_zlib(pickle.dumps(payload)), where="x")


def test_pickled_private_tests_decode():
    tests = (Case("1 2\n", "3\n"), Case("[1]\n2", "[3]", "functional"))
    encoded = encode_private_tests(tests)
    assert isinstance(pickle.loads(zlib.decompress(base64.b64decode(encoded))), str)  # the official layering
    assert decode_tests(encoded) == tests
    assert decode_tests(json.dumps([{"input": "x", "output": "y", "testtype": "stdin"}])) == (Case("x", "y"),)
    with pytest.raises(ProblemsError, match="neither JSON nor"):
        decode_tests("%%% not base64 %%%", where="row 3")


# ---------------------------------------------------------------- malformed rows


def _malformed(tmp_path: Path) -> Path:
    good = sample_rows()[:3]
    missing = {k: v for k, v in good[1].items() if k != "difficulty"}
    bad_difficulty = dict(good[2], difficulty="extreme")
    bad_date = dict(good[0], question_id="baddate", contest_date="yesterday")
    bad_meta = dict(good[0], question_id="badmeta", metadata="{not json")
    return write_jsonl(tmp_path / "bad.jsonl", [good[0], missing, "{oops", bad_difficulty, bad_date, bad_meta])


@pytest.mark.parametrize(
    ("drop_after", "expected"),
    [
        (2, r"bad\.jsonl:2 \(question_id smp002\): field 'difficulty' is missing"),
        (3, r"bad\.jsonl:3: row is not valid JSON"),
        (4, r"bad\.jsonl:4 \(question_id smp003\): field 'difficulty': unknown value 'extreme'"),
        (5, r"bad\.jsonl:5 \(question_id baddate\): field 'contest_date'"),
        (6, r"bad\.jsonl:6 \(question_id badmeta\): field 'metadata': bad JSON"),
    ],
)
def test_malformed_rows_name_row_and_field(tmp_path, drop_after, expected):
    path = _malformed(tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:1] + [""] * (drop_after - 2) + lines[drop_after - 1:drop_after]) + "\n")
    with pytest.raises(ProblemsError, match=expected):
        load_problems(str(path))


def test_skip_invalid_counts_skipped_rows(tmp_path):
    path = _malformed(tmp_path)
    selection = load_problems(str(path), skip_invalid=True)
    assert [p.question_id for p in selection] == ["smp001"]
    assert selection.n_skipped == 5 and len(selection.skip_reasons) == 5
    result = run_cli("--dataset", str(path), "--skip-invalid", "--stats")
    assert result.returncode == 0 and "skipped invalid rows: 5" in result.stdout


def test_duplicate_question_id_is_refused(tmp_path):
    row = sample_rows()[0]
    with pytest.raises(ProblemsError, match="repeats"):
        load_problems(str(write_jsonl(tmp_path / "dup.jsonl", [row, row])))


# ---------------------------------------------------------------- content hash and formats


def test_content_hash_is_stable_and_sensitive(tmp_path):
    rows = sample_rows()
    first = load_problems(str(write_jsonl(tmp_path / "a.jsonl", rows)))
    assert first.content_hash == load_problems(str(write_jsonl(tmp_path / "b.jsonl", rows[::-1]))).content_hash
    assert len(first.content_hash) == 64
    changed_test = [dict(r) for r in rows]
    priv = list(first.by_id[rows[4]["question_id"]].private_tests)
    priv[-1] = Case(priv[-1].input, priv[-1].output + "0", priv[-1].testtype)
    changed_test[4]["private_test_cases"] = encode_private_tests(priv)
    changed_text = [dict(r) for r in rows]
    changed_text[7]["question_content"] += " "
    hashes = {load_problems(str(write_jsonl(tmp_path / f"{i}.jsonl", r))).content_hash
              for i, r in enumerate((changed_test, changed_text))}
    assert first.content_hash not in hashes and len(hashes) == 2


def test_json_and_parquet_files_match_jsonl(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = sample_rows()
    (tmp_path / "s.json").write_text(json.dumps(rows))
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "s.parquet")
    expected = load_problems("sample").content_hash
    assert load_problems(str(tmp_path / "s.json")).content_hash == expected
    assert load_problems(str(tmp_path / "s.parquet")).content_hash == expected


# ---------------------------------------------------------------- shards: hub (offline via monkeypatch) and folders


def _shard_folder(tmp_path: Path) -> dict[int, list[str]]:
    """Six shards holding the sample problems round-robin; returns question ids per shard."""
    rows = sample_rows()
    ids = {}
    for index in range(1, 7):
        part = rows[index - 1::6]
        write_jsonl(tmp_path / shard_filename(index), part)
        ids[index] = [r["question_id"] for r in part]
    return ids


@pytest.mark.parametrize(("release", "shards"), [("release_v2", (1, 2)), ("v3", (3,)), ("v2_v4", (2, 3, 4))])
def test_hub_path_reads_only_the_needed_shards(tmp_path, monkeypatch, release, shards):
    import huggingface_hub

    ids = _shard_folder(tmp_path)
    calls = []

    def fake_download(repo_id, filename, *, repo_type=None, cache_dir=None, **_):
        calls.append((repo_id, filename, repo_type))
        return str(tmp_path / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    selection = load_problems("livecodebench/code_generation_lite", release)
    assert calls == [("livecodebench/code_generation_lite", shard_filename(i), "dataset") for i in shards]
    assert sorted(p.question_id for p in selection) == sorted(q for i in shards for q in ids[i])
    # a folder of shards gives the same selection
    assert load_problems(str(tmp_path), release).content_hash == selection.content_hash


def test_hub_without_a_route_reads_the_cache_at_once(tmp_path, monkeypatch):
    import socket

    import huggingface_hub

    ids = _shard_folder(tmp_path)
    seen = []

    def cache_only(repo_id, filename, *, local_files_only=False, **_):
        seen.append(local_files_only)
        return str(tmp_path / filename)

    def no_dns(*_, **__):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", cache_only)
    selection = load_problems("livecodebench/code_generation_lite", "release_v2")
    assert seen == [True, True]  # cache only: no network attempt, no retries
    assert sorted(p.question_id for p in selection) == sorted(ids[1] + ids[2])


def test_hub_offline_says_needs_network(monkeypatch):
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    def offline(*_, **__):
        raise LocalEntryNotFoundError("cannot reach the hub")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    with pytest.raises(ProblemsError, match="needs network, or pass a local copy with --dataset PATH"):
        load_problems("livecodebench/code_generation_lite")


def test_folder_missing_shard_is_named(tmp_path):
    ids = _shard_folder(tmp_path)
    (tmp_path / "test5.jsonl").unlink()
    with pytest.raises(ProblemsError, match="test5.jsonl"):
        load_problems(str(tmp_path), "release_v6")
    assert len(load_problems(str(tmp_path), "release_v4", None, None)) == sum(len(ids[i]) for i in range(1, 5))


@pytest.mark.network
def test_real_hub_shard_v1(request):
    if "network" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("needs the Hugging Face hub: opt in with -m network")
    selection = load_problems("livecodebench/code_generation_lite", "v1", None, None)
    assert len(selection) == 400 and all(p.tests for p in selection)


def test_import_is_light():
    heavy = "('huggingface_hub', 'pyarrow', 'torch', 'vllm', 'openai', 'modal')"
    code = f"import sys, harness.problems, harness.problem_sources; print([m for m in {heavy} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], check=False, cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_a_dataset_that_is_not_utf8_is_one_error_line(tmp_path, suffix):
    body = b'{"question_id": "a\xff"}'
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(b"[" + body + b"]" if suffix == ".json" else body + b"\n")
    res = run_cli("--dataset", str(path), "--stats")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().count("\n") == 0 and "not UTF-8" in res.stderr and res.stderr.startswith("error:")
