"""Run records: the manifest (what was run), one line per sample (what happened), and resume.

A run directory holds `manifest.json`, `samples.jsonl` (append-only, one JSON object per line, flushed and fsynced
per line) and `summary.json` (written by scoring). Records know nothing about models or grading: they are data.
A line cut short by a crash is detected on read and dropped, so the sample is simply redone on resume.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticSerializationError

from harness.errors import UserError
from harness.summary import RunSummary, read_summary
from harness.verdicts import Verdict

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
SAMPLES = "samples.jsonl"
SUMMARY = "summary.json"

# Manifest fields that change results: resuming into a run that differs in any of them is refused.
RESULT_FIELDS = ("model", "sampling", "prompt_style", "extract_mode", "dataset", "limits", "generation")


class DatasetSpec(BaseModel):
    spec: str
    release: str
    start_date: str
    end_date: str
    content_hash: str
    n_problems: int
    # Problems that carry hidden (private) tests; None: not recorded (runs made before it was). A selection with
    # fewer is graded on its public examples only for the rest, which is not comparable with official figures.
    n_with_private_tests: int | None = None
    question_ids: list[str] | None = None  # the selection was restricted to these (None: the whole window)


class SamplingSpec(BaseModel):
    n: int = 1
    temperature: float = 0.6
    top_p: float = 0.95
    top_k: int | None = 20
    min_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = 0


class RunManifest(BaseModel):
    """What was run. Two runs with equal RESULT_FIELDS are the same experiment."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    schema_version: int = SCHEMA_VERSION
    model: str
    backend: str
    sampling: SamplingSpec = Field(default_factory=SamplingSpec)
    prompt_style: str
    extract_mode: str = "robust"
    dataset: DatasetSpec
    limits: dict[str, Any]
    generation: dict[str, Any] = Field(default_factory=dict)  # max_model_len, rope scaling, ...
    sandbox: str = "local"
    model_release_date: str | None = None  # for the contamination flag on the leaderboard
    label: str | None = None  # display name on the leaderboard
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    versions: dict[str, str] = Field(default_factory=dict)
    git_revision: str | None = None
    model_params: int | None = None  # estimated from a local checkpoint's config.json; None when unknown


class SampleRecord(BaseModel):
    """One generated-and-graded sample: ids, generation, extraction, verdict and diagnostics."""

    model_config = ConfigDict(extra="allow")

    question_id: str
    sample_idx: int
    difficulty: str = ""
    platform: str = ""
    contest_date: str = ""
    raw_output: str | None = None
    code: str | None = None
    finish_reason: str | None = None  # "stop" | "length" | None (replayed without one)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    skipped_reason: str | None = None  # e.g. prompt longer than max_model_len
    verdict: Verdict
    passed: bool
    tests_run: int = 0
    tests_total: int = 0
    failed_test: int | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    detail: str = ""
    sandbox: str = ""
    exec_mode: str = ""  # "function" | "module" | "call": how the judge ran the code (harness/program.py)
    tests: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def key(self) -> tuple[str, int]:
        return (self.question_id, self.sample_idx)


def package_versions(names: tuple[str, ...] = ("lcb-harness", "vllm", "transformers", "torch", "trl")) -> dict:
    out = {}
    for name in names:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return out


def git_revision(path: str | Path | None = None) -> str | None:
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], check=False, cwd=path or Path(__file__).parent, text=True,
                             capture_output=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


def manifest_differences(old: RunManifest, new: RunManifest) -> list[str]:
    """Human-readable list of result-changing differences between two manifests (empty = same experiment)."""
    a, b = old.model_dump(mode="json"), new.model_dump(mode="json")
    for d in (a, b):  # derived from the problems, which content_hash already covers; older runs lack it
        d["dataset"].pop("n_with_private_tests", None)
    diffs = []
    for key in RESULT_FIELDS:
        if a.get(key) != b.get(key):
            diffs.append(f"{key}: {a.get(key)!r} (recorded) != {b.get(key)!r} (now)")
    return diffs


class RunDir:
    """A run directory on disk. Appends are line-atomic from the reader's point of view (see read_samples)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def samples_path(self) -> Path:
        return self.path / SAMPLES

    @property
    def summary_path(self) -> Path:
        return self.path / SUMMARY

    def exists(self) -> bool:
        return self.manifest_path.exists()

    def read_manifest(self) -> RunManifest:
        """The manifest, its schema version checked (UserError when newer than this harness reads)."""
        manifest = RunManifest.model_validate_json(self.manifest_path.read_text(encoding="utf-8"))
        if manifest.schema_version > SCHEMA_VERSION:
            raise UserError(f"{self.manifest_path}: manifest schema version {manifest.schema_version} is newer than "
                            f"this harness reads ({SCHEMA_VERSION}); upgrade lcb-harness")
        return manifest

    def write_manifest(self, manifest: RunManifest) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.manifest_path, manifest.model_dump_json(indent=2))

    def write_summary(self, summary: RunSummary) -> None:
        _atomic_write(self.summary_path, summary.to_json())

    def read_summary(self) -> RunSummary:
        """The summary file, its schema version checked (UserError when newer than this harness reads)."""
        return read_summary(self.summary_path)

    def iter_samples(self) -> Iterator[SampleRecord]:
        yield from read_samples(self.samples_path)

    def repair(self) -> int:
        """Truncate a half-written last line left by a crash; returns the bytes removed."""
        return truncate_partial_tail(self.samples_path)

    def drop_undecided(self) -> int:
        """Remove the samples the grader could not decide (`infra_error`) so a resume redoes them; every other line
        is kept byte for byte. The file is replaced atomically (a crash leaves the old or the new one, never a mix).
        Returns how many were removed."""
        if not self.samples_path.exists():
            return 0
        kept, dropped = [], 0
        with open(self.samples_path, encoding="utf-8") as f:
            for line in f:
                if line.strip() and SampleRecord.model_validate_json(line).verdict == Verdict.INFRA_ERROR:
                    dropped += 1
                else:
                    kept.append(line)
        if dropped:
            _atomic_write(self.samples_path, "".join(kept))
        return dropped

    def open_appender(self) -> SampleAppender:
        self.path.mkdir(parents=True, exist_ok=True)
        return SampleAppender(self.samples_path)


class SampleAppender:
    """Appends one record per line and fsyncs, so a SIGKILL loses at most the line being written."""

    def __init__(self, path: Path):
        self._f = open(path, "a", encoding="utf-8")  # noqa: SIM115 - held open for the whole run

    def append(self, record: SampleRecord) -> None:
        try:
            line = record.model_dump_json()
        except PydanticSerializationError:  # a lone surrogate (code, output): escaped, never a lost run
            line = json_line(record.model_dump(mode="json"))
        self._f.write(line + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> SampleAppender:  # noqa: PYI034 - not meant to be subclassed
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def json_line(data: object) -> str:
    """One JSON line any strict UTF-8 reader can read back. A lone surrogate (code with one, output that was not
    UTF-8) cannot be encoded: it is written as the text `\\udNNN`, escaped, never as a broken JSON escape."""
    text = json.dumps(data, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\\\u{ord(m.group()):04x}", text) if _SURROGATE.search(text) else text


_SURROGATE = re.compile("[\ud800-\udfff]")


def read_samples(path: str | Path) -> Iterator[SampleRecord]:
    """Yield complete records; a last line without its newline (crash mid-write) is ignored, never half-read.
    Later lines win for a duplicated (question_id, sample_idx) is NOT done here: writers never duplicate."""
    path = Path(path)
    if not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                break  # partial tail
            if line.strip():
                yield SampleRecord.model_validate_json(line)


def truncate_partial_tail(path: str | Path) -> int:
    path = Path(path)
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return 0
        # walk back to the last newline
        pos = size - 1
        chunk = 4096
        while pos > 0:
            start = max(0, pos - chunk)
            f.seek(start)
            buf = f.read(pos - start)
            idx = buf.rfind(b"\n")
            if idx >= 0:
                keep = start + idx + 1
                f.truncate(keep)
                return size - keep
            pos = start
        f.truncate(0)
        return size


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class LineJournal:
    """Results of a run that writes its output only when complete (harness.grade): a header line naming what is
    being done, then one `{"i": index, "line": {...}}` per finished item, appended and fsynced as each lands, so an
    interrupted run loses nothing and `--resume` skips what is in it. A half-written last line is dropped on read."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._f = None

    def read(self) -> tuple[dict, dict[int, dict]]:
        """(header, index -> line) of an existing journal."""
        truncate_partial_tail(self.path)
        header, done = {}, {}
        with open(self.path, encoding="utf-8") as f:
            for number, text in enumerate(f):
                item = json.loads(text)
                if number == 0:
                    header = item
                else:
                    done[int(item["i"])] = item["line"]
        return header, done

    def start(self, header: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - held open for the whole run
        self._write(header)

    def reopen(self) -> None:
        self._f = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held open for the whole run

    def append(self, index: int, line: dict) -> None:
        self._write({"i": index, "line": line})

    def _write(self, item: dict) -> None:
        self._f.write(json_line(item) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


def write_jsonl_atomic(path: str | Path, lines) -> None:
    """Write every line (a JSON object each) to a temporary file, fsync, then rename over `path`."""
    path = Path(path)
    _atomic_write(path, "".join(json_line(line) + "\n" for line in lines))
