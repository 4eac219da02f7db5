"""Hidden tests on demand: a per-load store that decodes each problem's tests when first used, and an on-disk cache.

The hub's release_v6 decodes to ~4.2 GB, so `load_problems` keeps only metadata and public tests in memory. A
problem's hidden tests are decoded (base64 -> zlib -> the strings-only unpickler -> JSON, in harness.problems) when
the judge first asks for them, written to the cache as plain UTF-8 with a small header (no pickle: reading the
cache runs nothing), and kept in a small in-memory LRU (`max_cached` problems) shared by all judge workers.
The cache (LCB_HARNESS_CACHE, else $XDG_CACHE_HOME/lcb-harness or ~/.cache/lcb-harness; never inside the project
checkout) holds:
- tests/<digest>.bin: one problem's decoded tests, keyed by the sha256 of the row's raw hidden-test field (so a
  changed blob is a different file; a corrupt or truncated file fails its checksum and is decoded again);
- index/<file sha256>.json: every row of a JSONL shard without its hidden tests, keyed by the shard's content hash,
  with each row's byte offset, so a warm load reads only this metadata and a first use re-reads one line;
- files/<sha256 of the path>.json: (size, mtime, ctime, inode) -> content hash, so a warm load need not read the
  shard to know its hash; any change to the file (even with the same size) changes ctime and forces a re-scan. A
  file changed just before it was read is hashed once more on the next load (a write within the same timestamp
  tick would leave its stat unchanged).
Writes are atomic (temporary file + rename), so concurrent loads never read a half-written entry. When the cache
cannot be written, loading still works and decodes again on the next run (one warning).

Does not cover: decoding itself, validation, selection (harness.problems, harness.problem_sources).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from harness.problems import (
    HiddenTests,
    ProblemsError,
    TestCase,
    TestType,
    decode_tests,
    raw_digest,
    raw_nonempty,
)

CACHE_ENV = "LCB_HARNESS_CACHE"
DEFAULT_MAX_CACHED = 4  # problems' decoded tests kept in memory, shared by the judge's workers
RACY_NS = 100_000_000  # a file changed less than this before it was read is hashed again on the next load
_TESTS_MAGIC = b"lcb-hidden-tests-v1\n"
_INDEX_FORMAT = "lcb-row-index-v1"
_PRIVATE = "private_test_cases"

# One row of a scanned JSONL file: {"line", "offset", "length", "row" (without hidden tests), "digest", "nonempty"}
# or {"line", "error"} for a line that is not JSON.
Entry = dict[str, Any]


def project_checkout() -> Path | None:
    """The source checkout this package runs from (where nothing may be cached), or None for an installed copy."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def cache_root() -> Path | None:
    """Where the cache lives; None when only the default would fall inside the checkout (then nothing is cached).
    Raises ProblemsError when LCB_HARNESS_CACHE points inside the checkout."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        root = Path(explicit).expanduser().resolve()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = (Path(base).expanduser() / "lcb-harness").resolve()
    checkout = project_checkout()
    if checkout is not None and (root == checkout or checkout in root.parents):
        if explicit:
            raise ProblemsError(f"{CACHE_ENV}={explicit} is inside the project checkout {checkout}: choose a folder "
                                "outside it")
        return None
    return root


def _atomic_write(path: Path, chunks: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.writelines(chunks)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def encode_tests_file(tests: tuple[TestCase, ...]) -> list[bytes]:
    """The cache's form of decoded tests: magic, a JSON header (types, byte sizes, payload sha256), the payload."""
    parts = []
    for t in tests:
        parts += [t.input.encode("utf-8", "surrogatepass"), t.output.encode("utf-8", "surrogatepass")]
    digest = hashlib.sha256()
    for p in parts:
        digest.update(p)
    header = {"types": [str(t.testtype) for t in tests], "sizes": [len(p) for p in parts], "sha256": digest.hexdigest()}
    return [_TESTS_MAGIC, json.dumps(header).encode() + b"\n", *parts]


def decode_tests_file(blob: bytes) -> tuple[TestCase, ...] | None:
    """Tests from the cache's form, or None when the file is not one or fails its checksum."""
    if not blob.startswith(_TESTS_MAGIC):
        return None
    end = blob.find(b"\n", len(_TESTS_MAGIC))
    try:
        header = json.loads(blob[len(_TESTS_MAGIC):end])
        types, sizes = [TestType(t) for t in header["types"]], header["sizes"]
    except (ValueError, KeyError, TypeError):
        return None
    payload = memoryview(blob)[end + 1:]
    if end < 0 or len(sizes) != 2 * len(types) or sum(sizes) != len(payload):
        return None
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        return None
    texts, pos = [], 0
    for size in sizes:
        texts.append(str(payload[pos:pos + size], "utf-8", "surrogatepass"))
        pos += size
    return tuple(TestCase(texts[2 * i], texts[2 * i + 1], kind) for i, kind in enumerate(types))


@dataclass(frozen=True, slots=True)
class RawRef:
    """Where a problem's raw hidden-test field is: a line of a JSONL file (re-read on demand), or held as is."""

    where: str  # file:line (question_id ...), for error messages
    digest: str  # raw_digest of the field: checked when re-read, and the cache key
    path: str | None = None
    offset: int = 0
    length: int = 0
    raw: Any = None


@dataclass
class StoreCounts:
    decodes: int = 0  # raw fields decoded (the expensive path)
    disk_hits: int = 0  # problems read from the cache's decoded files
    memory_hits: int = 0
    disk_writes: int = 0


@dataclass
class TestStore:
    """Decodes hidden tests on demand for one loaded selection; thread-safe (the judge's workers share it)."""

    __test__ = False  # not a pytest test class

    root: Path | None
    max_cached: int = DEFAULT_MAX_CACHED
    counts: StoreCounts = field(default_factory=StoreCounts)
    _lru: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _loading: dict = field(default_factory=dict, repr=False)
    _warned: bool = field(default=False, repr=False)

    @property
    def n_in_memory(self) -> int:
        """Problems whose decoded tests the store holds now (at most max_cached)."""
        with self._lock:
            return len(self._lru)

    def hidden(self, ref: RawRef, nonempty: bool) -> HiddenTests:
        return HiddenTests(ref.digest, fetch=partial(self.tests, ref), nonempty=nonempty)

    def tests(self, ref: RawRef) -> tuple[TestCase, ...]:
        """The decoded tests: from memory, else the disk cache, else decoded now (and cached)."""
        with self._lock:
            if ref.digest in self._lru:
                self._lru.move_to_end(ref.digest)
                self.counts.memory_hits += 1
                return self._lru[ref.digest]
            key_lock = self._loading.setdefault(ref.digest, threading.Lock())
        with key_lock:  # one decode per problem even when several workers ask at once
            try:
                with self._lock:
                    hit = self._lru.get(ref.digest)
                tests = hit if hit is not None else self._load(ref)
                with self._lock:
                    self._lru[ref.digest] = tests
                    self._lru.move_to_end(ref.digest)
                    while len(self._lru) > max(1, self.max_cached):
                        self._lru.popitem(last=False)
            finally:
                with self._lock:
                    self._loading.pop(ref.digest, None)
        return tests

    def _tests_path(self, digest: str) -> Path | None:
        return self.root / "tests" / digest[:2] / f"{digest}.bin" if self.root else None

    def _load(self, ref: RawRef) -> tuple[TestCase, ...]:
        path = self._tests_path(ref.digest)
        if path is not None and path.is_file():
            try:
                tests = decode_tests_file(path.read_bytes())
            except OSError:
                tests = None
            if tests is not None:
                with self._lock:
                    self.counts.disk_hits += 1
                return tests
        tests = decode_tests(_read_raw(ref), where=ref.where)
        with self._lock:
            self.counts.decodes += 1
        if path is not None:
            self._write(path, encode_tests_file(tests))
        return tests

    def _write(self, path: Path, chunks: list[bytes]) -> bool:
        try:
            _atomic_write(path, chunks)
        except OSError as err:
            self.warn(f"cannot write the problem cache ({err.strerror or err}): hidden tests will be decoded again")
            return False
        with self._lock:
            self.counts.disk_writes += 1
        return True

    def warn(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            print(f"warning: {message} (cache: {self.root}; set {CACHE_ENV} to change it)", file=sys.stderr)

    # ---------------------------------------------------------------- JSONL shard index

    def entries(self, path: Path) -> list[Entry]:
        """Every row of a JSONL file without its hidden tests: the cached index when the file is known, else a scan
        (which writes the index)."""
        stat = path.stat()
        memo = self._memo_path(path)
        known = _read_json(memo) if memo is not None else None
        sha = known.get("sha256") if known is not None else None
        if isinstance(sha, str) and known.get("stat") == _stat_key(stat):
            index = _read_json(self.root / "index" / f"{sha}.json")
            if index is not None and index.get("format") == _INDEX_FORMAT and isinstance(index.get("rows"), list):
                if known.get("settled"):
                    return index["rows"]
                checked = time.time_ns()
                if file_sha256(path) == sha:  # remembered right after a write: verified once more
                    self._remember(memo, path, stat, sha, checked)
                    return index["rows"]
        started = time.time_ns()
        entries, sha = scan_jsonl(path)
        if memo is not None:
            index = {"format": _INDEX_FORMAT, "sha256": sha, "rows": entries}
            if self._write(self.root / "index" / f"{sha}.json", [json.dumps(index).encode()]) and \
                    _stat_key(path.stat()) == _stat_key(stat):  # unchanged while scanned
                self._remember(memo, path, stat, sha, started)
        return entries

    def _remember(self, memo: Path, path: Path, stat: os.stat_result, sha: str, checked_ns: int) -> None:
        # A write in the same timestamp tick as the one seen leaves size and times unchanged (git's "racy"
        # entries): a file changed less than RACY_NS before it was read is trusted only after one more hash.
        settled = checked_ns - max(stat.st_mtime_ns, stat.st_ctime_ns) > RACY_NS
        self._write(memo, [json.dumps({"path": str(path.resolve()), "stat": _stat_key(stat), "sha256": sha,
                                       "settled": settled}).encode()])

    def _memo_path(self, path: Path) -> Path | None:
        if self.root is None:
            return None
        return self.root / "files" / f"{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]}.json"

    def rows(self, path: Path) -> Iterator[tuple[str, Any, Entry | None]]:
        """(where, row, entry) for each line of a JSONL file; row is a ProblemsError for a line that is not JSON."""
        for entry in self.entries(path):
            where = f"{path.name}:{entry['line']}"
            if "error" in entry:
                yield where, ProblemsError(f"{where}: {entry['error']}"), None
            else:
                yield where, entry["row"], entry

    def hidden_for(self, path: Path | None, entry: Entry | None, row: dict, where: str) -> HiddenTests:
        """The lazy hidden tests of a selected row: re-read from `path` at the entry's offset, or held in memory."""
        if entry is not None:
            ref = RawRef(where, entry["digest"], str(path), entry["offset"], entry["length"])
            return self.hidden(ref, entry["nonempty"])
        raw = row.get(_PRIVATE)
        return self.hidden(RawRef(where, raw_digest(raw), raw=raw), raw_nonempty(raw))


def _stat_key(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _read_json(path: Path) -> dict | None:
    try:
        with open(path, "rb") as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def scan_jsonl(path: Path) -> tuple[list[Entry], str]:
    """One pass over a JSONL file: each row without its hidden tests (their digest and byte span instead), and the
    file's sha256."""
    entries: list[Entry] = []
    digest = hashlib.sha256()
    offset = 0
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            digest.update(line)
            start, offset = offset, offset + len(line)
            if not line.strip():
                continue
            try:
                row = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                entries.append({"line": lineno, "error": f"not UTF-8 ({exc.reason} at byte {exc.start} of the line); "
                                                         "re-encode the file as UTF-8"})
                continue
            except ValueError:
                entries.append({"line": lineno, "error": "row is not valid JSON"})
                continue
            entry: Entry = {"line": lineno, "offset": start, "length": len(line), "row": row,
                            "digest": raw_digest(None), "nonempty": False}
            if isinstance(row, dict):
                raw = row.pop(_PRIVATE, None)
                entry.update(digest=raw_digest(raw), nonempty=raw_nonempty(raw))
            entries.append(entry)
    return entries, digest.hexdigest()


def _read_raw(ref: RawRef) -> Any:
    """The raw hidden-test field: held, or re-read from its line (refused if the file changed since the load)."""
    if ref.path is None:
        return ref.raw
    try:
        with open(ref.path, "rb") as f:
            f.seek(ref.offset)
            line = f.read(ref.length)
        raw = json.loads(line).get(_PRIVATE)
    except (OSError, ValueError, AttributeError):
        raw = None
    if raw_digest(raw) != ref.digest:
        raise ProblemsError(f"{ref.where}: the file changed after the problems were loaded; load them again")
    return raw
