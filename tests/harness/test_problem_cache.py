"""Lazy hidden tests and the problem cache: nothing decoded until used, warm loads read no shard and decode nothing,
changes invalidate, corrupt entries are decoded again, the cache stays out of the repository, unsafe pickles are
refused on use with the problem's id."""

from __future__ import annotations

import base64
import dataclasses
import json
import pickle
import threading
import zlib
from pathlib import Path

import pytest

from harness import problem_cache
from harness.problem_cache import CACHE_ENV, TestStore
from harness.problems import (
    SAMPLE_DIR,
    Problem,
    ProblemsError,
    ProblemSet,
    encode_private_tests,
    hash_problems,
    load_problems,
    problem_from_row,
)
from harness.problems import TestCase as Case

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(root))
    return root


def rows() -> list[dict]:
    with open(SAMPLE_DIR / "problems.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write(path: Path, items: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")
    return path


def load(path: Path) -> ProblemSet:
    return load_problems(str(path), start_date=None, end_date=None)


def touch_all(selection: ProblemSet) -> dict[str, tuple]:
    return {p.question_id: p.private_tests for p in selection}


def test_hidden_tests_are_decoded_only_when_used(tmp_path, cache):
    items = rows()
    items[3]["private_test_cases"] = "%%% garbage, neither JSON nor base64 %%%"
    bad = items[3]["question_id"]
    items[4]["private_test_cases"], items[5]["private_test_cases"] = "[]", encode_private_tests([])
    empty = {items[4]["question_id"], items[5]["question_id"]}
    selection = load(write(tmp_path / "p.jsonl", items))
    assert len(selection) == len(items) and len(selection.content_hash) == 64  # the hash decodes nothing either
    assert selection.test_store.counts.decodes == 0
    assert {p.question_id for p in selection if not p.has_private_tests} == empty  # known without decoding
    assert selection.n_with_private_tests == len(items) - 2 and selection.test_store.counts.decodes == 0
    good = selection.problems[0]
    assert len(good.private_tests) >= 4 and selection.test_store.counts.decodes == 1
    with pytest.raises(ProblemsError, match=rf"p\.jsonl:4 \(question_id {bad}\): .*neither JSON nor"):
        _ = selection.by_id[bad].private_tests


def test_warm_load_reads_no_shard_and_decodes_nothing(tmp_path, cache, monkeypatch):
    path = write(tmp_path / "p.jsonl", rows())
    cold = load(path)
    expected = touch_all(cold)
    assert cold.test_store.counts.decodes == len(cold) and cold.test_store.counts.disk_hits == 0

    def no_scan(*_):
        raise AssertionError("a warm load scanned the shard")

    monkeypatch.setattr(problem_cache, "scan_jsonl", no_scan)
    warm = load(path)
    assert touch_all(warm) == expected
    assert warm.test_store.counts.decodes == 0 and warm.test_store.counts.disk_hits == len(warm)
    assert warm.content_hash == cold.content_hash
    assert list((cache / "tests").rglob("*.bin")) and list((cache / "index").glob("*.json"))


def test_a_changed_file_is_scanned_again_and_only_changed_tests_decode(tmp_path, cache, monkeypatch):
    items = rows()
    path = write(tmp_path / "p.jsonl", items)
    first = load(path)
    touch_all(first)
    scans = []
    real_scan = problem_cache.scan_jsonl
    monkeypatch.setattr(problem_cache, "scan_jsonl", lambda p: scans.append(p) or real_scan(p))

    same_size = path.read_text(encoding="utf-8").replace("Parcel Trips", "Parcel Tripz", 1)
    path.write_text(same_size, encoding="utf-8")  # same size, new content: still noticed
    renamed = load(path)
    assert len(scans) == 1 and renamed.by_id["smp001"].question_title == "Parcel Tripz"
    assert renamed.content_hash != first.content_hash

    qid = items[5]["question_id"]
    tests = list(first.by_id[qid].private_tests)
    tests[0] = Case(tests[0].input, tests[0].output + "changed", tests[0].testtype)
    items[5]["private_test_cases"] = encode_private_tests(tests)
    write(path, items)
    second = load(path)
    assert len(scans) == 2
    assert touch_all(second)[qid][0].output.endswith("changed")
    assert second.test_store.counts.decodes == 1 and second.test_store.counts.disk_hits == len(items) - 1


def test_a_file_changed_after_loading_is_refused_not_misread(tmp_path, cache):
    items = rows()
    path = write(tmp_path / "p.jsonl", items)
    selection = load(path)
    items[0], items[1] = items[1], items[0]  # other rows at the recorded byte offsets
    write(path, items)
    with pytest.raises(ProblemsError, match="changed after the problems were loaded"):
        _ = selection.problems[0].private_tests


def test_corrupt_cache_entries_are_decoded_again(tmp_path, cache):
    path = write(tmp_path / "p.jsonl", rows())
    expected = touch_all(load(path))
    for entry in (cache / "tests").rglob("*.bin"):
        data = bytearray(entry.read_bytes())
        data[-1] ^= 1  # one flipped bit in the payload
        entry.write_bytes(bytes(data))
    (next((cache / "index").glob("*.json"))).write_text("{truncated")
    load(path)  # scanned again (the index was unreadable): the memo now points to a good index
    for memo in (cache / "files").glob("*.json"):
        memo.write_text('{"stat": 1}')  # and a memo without a hash is no memo
    again = load(path)
    assert touch_all(again) == expected and again.test_store.counts.decodes == len(expected)


def test_memory_holds_a_few_problems_and_one_decode_per_problem(tmp_path, cache):
    path = write(tmp_path / "p.jsonl", rows())
    selection = load(path)
    store = selection.test_store
    touch_all(selection)
    assert store.n_in_memory <= store.max_cached < len(selection)
    fresh = load(path)
    problem, results = fresh.problems[-1], []
    threads = [threading.Thread(target=lambda: results.append(problem.private_tests)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fresh.test_store.counts.disk_hits == 1 and len({id(r) for r in results}) == 1


def test_the_cache_is_never_written_inside_the_repository(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(REPO / "problem-cache"))
    with pytest.raises(ProblemsError, match=f"{CACHE_ENV}=.* is inside the project checkout"):
        load_problems("sample")
    inside = REPO / ".lcb-cache-test-never-created"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(inside))  # a default that would land in the checkout: no cache
    selection = load_problems("sample", start_date=None, end_date=None)
    assert selection.test_store.root is None and all(len(t) for t in touch_all(selection).values())
    assert not inside.exists()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    touch_all(load_problems("sample", start_date=None, end_date=None))
    assert list((tmp_path / "xdg" / "lcb-harness" / "tests").rglob("*.bin"))


def test_unsafe_pickle_is_refused_on_use_and_never_cached(tmp_path, cache):
    class Exploit:
        def __reduce__(self):
            return (print, ("pwned",))

    items = rows()
    items[2]["question_id"] = "evil002"
    items[2]["private_test_cases"] = base64.b64encode(zlib.compress(pickle.dumps(Exploit()))).decode()
    selection = load(write(tmp_path / "p.jsonl", items))
    for _ in range(2):
        with pytest.raises(ProblemsError, match=r"question_id evil002\): .*refused unsafe pickle \(.*print"):
            _ = selection.by_id["evil002"].private_tests
    digest = selection.by_id["evil002"].hidden.digest
    assert not list((cache / "tests").rglob(f"{digest}.bin"))


def test_lazy_and_eager_loads_hash_alike_and_problems_pickle_decoded(tmp_path, cache):
    items = rows()
    lazy = load(write(tmp_path / "p.jsonl", items))
    eager = sorted((problem_from_row(r) for r in items), key=lambda p: p.question_id)
    assert all(p.hidden.in_memory for p in eager) and not any(p.hidden.in_memory for p in lazy)
    assert hash_problems(eager) == lazy.content_hash
    assert eager == lazy.problems  # equality compares the hidden tests by digest, without decoding
    assert lazy.test_store.counts.decodes == 0
    copy = pickle.loads(pickle.dumps(lazy.problems[0]))
    assert copy.hidden.in_memory and copy.private_tests == lazy.problems[0].private_tests


def test_problem_constructor_and_replace_keep_working():
    tests = (Case("1\n", "1\n"),)
    p = Problem("q", "t", "c", "atcoder", "c1", None, "", "easy", (), tests, {"k": 1})  # old positional order
    assert p.private_tests == tests and p.tests == tests and p.metadata == {"k": 1} and p.has_private_tests
    stripped = dataclasses.replace(p, private_tests=())
    assert stripped.private_tests == () and not stripped.has_private_tests and stripped.metadata == {"k": 1}
    renamed = dataclasses.replace(p, question_id="r")
    assert renamed.question_id == "r" and renamed.private_tests == tests
    assert Problem(**{**{f: getattr(p, f) for f in Problem.__slots__}, "private_tests": ()}).private_tests == ()


def test_store_without_a_cache_decodes_each_time_it_is_evicted(tmp_path):
    store = TestStore(None, max_cached=1)
    items = rows()
    path = write(tmp_path / "p.jsonl", items)
    hidden = [store.hidden_for(path, entry, entry["row"], f"p.jsonl:{entry['line']}") for entry in store.entries(path)]
    first = [h.get() for h in hidden[:2]]
    assert [h.get() for h in hidden[:2]] == first
    assert store.counts.decodes == 4 and store.counts.disk_writes == 0


def test_grading_a_problem_whose_hidden_tests_are_unreadable_names_it(tmp_path, cache):
    from harness.judge import grade
    from harness.problems import sample_reference_solutions

    items = rows()
    items[0]["private_test_cases"] = "%%% garbage %%%"
    selection = load(write(tmp_path / "p.jsonl", items))
    solutions = sample_reference_solutions()
    good = selection.problems[1]
    assert grade(good, solutions[good.question_id]).passed
    with pytest.raises(ProblemsError, match=f"question_id {items[0]['question_id']}"):
        grade(selection.by_id[items[0]["question_id"]], solutions[items[0]["question_id"]])


def test_a_file_read_right_after_a_write_is_hashed_again_on_the_next_load(tmp_path, cache, monkeypatch):
    # Coarse timestamps: a same-size rewrite in the same tick keeps the stat; simulate it with a size-only stat key,
    # and "right after a write" with a racy window longer than the test (no dependence on the machine's speed).
    monkeypatch.setattr(problem_cache, "_stat_key", lambda st: [st.st_size])
    monkeypatch.setattr(problem_cache, "RACY_NS", 10**15)
    path = write(tmp_path / "p.jsonl", rows())
    touch_all(load(path))
    scans, hashes = [], []
    real_scan, real_hash = problem_cache.scan_jsonl, problem_cache.file_sha256
    monkeypatch.setattr(problem_cache, "scan_jsonl", lambda p: scans.append(p) or real_scan(p))
    monkeypatch.setattr(problem_cache, "file_sha256", lambda p: hashes.append(p) or real_hash(p))
    path.write_text(path.read_text(encoding="utf-8").replace("Parcel Trips", "Parcel Tripz", 1), encoding="utf-8")
    assert load(path).by_id["smp001"].question_title == "Parcel Tripz"  # the hash differed: scanned again
    assert len(hashes) == 1 and len(scans) == 1
    monkeypatch.setattr(problem_cache, "RACY_NS", -(10**12))  # from now on every read is long after the write
    load(path)  # the memo written by the re-scan was racy: hashed once more, then settled
    load(path)  # settled: neither hashed nor scanned
    assert len(hashes) == 2 and len(scans) == 1
