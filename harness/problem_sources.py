"""Where problem rows come from: hub shards, local files or folders of shards, and the embedded sample set.

Release tags follow the official shard semantics (REFERENCE §1): shard 1 is `test.jsonl`, shard N is `testN.jsonl`;
`release_vN` = shards 1..N, `vN` = shard N, `vX_vY` = shards X..Y, `release_latest` = all. A single local file (or
the sample set) is taken as already being the release: `release_*` tags take all its rows, while shard-only tags
(`vN`, `vX_vY`) cannot be resolved from one file and are refused. Windows compare `contest_date` as naive datetimes,
both ends inclusive; a bare date is its midnight (the official reading: it gives 454, 329 and 131 on release_v6).
Rows outside the window are dropped before their hidden tests are decoded (the decoded hub set is GBs);
`select_lazy_rows` also leaves the selected rows' hidden tests undecoded (harness.problem_cache decodes on use and
serves JSONL shards from its cached index).

Does not cover: validating or decoding rows (harness.problems does that).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from harness.problems import (
    HUB_DATASET,
    SAMPLE_DIR,
    HiddenTests,
    ProblemsError,
    parse_contest_date,
    row_where,
)

if TYPE_CHECKING:
    from harness.problem_cache import TestStore

N_SHARDS = 6
SHARD_ROWS = (400, 111, 101, 101, 167, 175)  # official row counts of test.jsonl .. test6.jsonl
LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet")
_RELEASE = re.compile(r"release_v(\d+)|release_latest|v(\d+)|v(\d+)_v(\d+)")

# (where: "file:line", row); an unreadable line comes as a ProblemsError so --skip-invalid can count and skip it.
Row = tuple[str, "dict | ProblemsError"]


def shard_filename(index: int) -> str:
    return "test.jsonl" if index == 1 else f"test{index}.jsonl"


def parse_release(tag: str) -> tuple[tuple[int, ...], bool]:
    """Shard indices of a release tag, and whether the tag is a whole release (starts at shard 1)."""
    m = _RELEASE.fullmatch(tag or "")
    known = f"release_v1..release_v{N_SHARDS}, release_latest, v1..v{N_SHARDS}, vX_vY"
    if not m:
        raise ProblemsError(f"unknown release tag {tag!r} (known: {known})")
    if tag == "release_latest":
        first, last = 1, N_SHARDS
    elif m.group(1):
        first, last = 1, int(m.group(1))
    elif m.group(2):
        first = last = int(m.group(2))
    else:
        first, last = int(m.group(3)), int(m.group(4))
    if not 1 <= first <= last <= N_SHARDS:
        raise ProblemsError(f"unknown release tag {tag!r} (known: {known})")
    return tuple(range(first, last + 1)), tag.startswith("release_")


def parse_window(start_date: str | None, end_date: str | None) -> tuple[datetime | None, datetime | None]:
    """Naive datetimes for the window ends (None = open); refuses bad dates and an end before the start."""
    bounds = []
    for flag, value in (("--start-date", start_date), ("--end-date", end_date)):
        if value in (None, ""):
            bounds.append(None)
            continue
        try:
            bounds.append(datetime.fromisoformat(str(value)).replace(tzinfo=None))
        except ValueError:
            raise ProblemsError(f"{flag} {value!r} is not a date (use YYYY-MM-DD)") from None
    start, end = bounds
    if start and end and end < start:
        raise ProblemsError(f"--end-date {end_date} is before --start-date {start_date}")
    return start, end


def read_rows(path: Path) -> Iterator[Row]:
    """Stream the rows of one local .jsonl, .json (a list of rows) or .parquet file."""
    name = path.name
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        n = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=64):
            for row in batch.to_pylist():
                n += 1
                yield f"{name}:{n}", row
    elif path.suffix == ".json":
        try:
            rows = json.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ProblemsError(f"{name}: not UTF-8 ({exc.reason} at byte {exc.start}); re-encode it as UTF-8") from None
        except json.JSONDecodeError as exc:
            raise ProblemsError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(rows, list):
            raise ProblemsError(f"{name}: expected a JSON list of problem rows")
        yield from ((f"{name}:{i}", row) for i, row in enumerate(rows, 1))
    else:
        with open(path, "rb") as f:
            for lineno, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                try:
                    row = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    row = ProblemsError(f"{name}:{lineno}: not UTF-8 ({exc.reason} at byte {exc.start} of the line); "
                                        "re-encode the file as UTF-8")
                except json.JSONDecodeError:
                    row = ProblemsError(f"{name}:{lineno}: row is not valid JSON")
                yield f"{name}:{lineno}", row


def hub_resolves(timeout_s: float = 3.0) -> bool:
    """Whether the hub's host name resolves (a machine with no network fails this at once)."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout_s)
    try:
        socket.getaddrinfo(host, 443)
        return True
    except OSError:
        return False
    finally:
        socket.setdefaulttimeout(previous)


def _download_shards(repo_id: str, shards: tuple[int, ...], cache_dir: str | Path | None) -> list[Path]:
    """Fetch the needed hub shards into the Hugging Face cache (reused offline once cached)."""
    import huggingface_hub
    from huggingface_hub import errors

    # Without a route to the hub, read the cache at once instead of sitting through the client's retries.
    offline = not hub_resolves()
    paths = []
    for index in shards:
        filename = shard_filename(index)
        try:
            local = huggingface_hub.hf_hub_download(
                repo_id, filename, repo_type="dataset", cache_dir=str(cache_dir) if cache_dir else None,
                local_files_only=offline,
            )
        except errors.LocalEntryNotFoundError:
            raise ProblemsError(
                f"dataset {repo_id!r} ({filename}) is not cached: it needs network, or pass a local copy with "
                "--dataset PATH"
            ) from None
        except errors.RepositoryNotFoundError:
            raise ProblemsError(f"{repo_id!r} is neither a local path nor a dataset on the hub") from None
        except errors.EntryNotFoundError:
            raise ProblemsError(f"dataset {repo_id!r} has no shard {filename} (is it a LiveCodeBench copy?)") from None
        except (errors.HfHubHTTPError, errors.HFValidationError, OSError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ProblemsError(
                f"could not fetch {filename} of {repo_id!r} ({first_line}): it needs network, or pass a local copy "
                "with --dataset PATH"
            ) from None
        paths.append(Path(local))
    return paths


def _folder_shards(folder: Path, release: str) -> list[Path]:
    shards, _ = parse_release(release)
    paths = [folder / shard_filename(i) for i in shards]
    missing = [p.name for p in paths if not p.is_file()]
    if not (folder / "test.jsonl").is_file() and not any(folder.glob("test*.jsonl")):
        raise ProblemsError(f"folder {folder} holds no shards named test.jsonl, test2.jsonl, ...")
    if missing:
        raise ProblemsError(f"release {release!r} needs {', '.join(missing)} in {folder}, which is missing")
    return paths


def _single_file(path: Path, release: str) -> list[Path]:
    _, whole_release = parse_release(release)
    if not whole_release:
        raise ProblemsError(
            f"release {release!r} names hub shards, which a single file cannot resolve: use a release_vN tag "
            "(the file is taken as that release) or a folder of shards test.jsonl, test2.jsonl, ..."
        )
    return [path]


def resolve_files(dataset: str, release: str, cache_dir: str | Path | None = None) -> list[Path]:
    """The files whose rows make up `release` of `dataset` (hub id, local file or folder, or "sample")."""
    spec = str(dataset)
    if spec == "sample":
        return _single_file(SAMPLE_DIR / "problems.jsonl", release)
    path = Path(spec).expanduser()
    if path.is_dir():
        return _folder_shards(path, release)
    if path.is_file():
        if path.suffix not in LOCAL_SUFFIXES:
            raise ProblemsError(f"{spec}: unsupported file type (use .jsonl, .json or .parquet)")
        return _single_file(path, release)
    looks_like_hub_id = re.fullmatch(r"[\w.-]+/[\w.-]+", spec) and path.suffix not in LOCAL_SUFFIXES
    if not looks_like_hub_id or spec.startswith((".", "/", "~")):
        raise ProblemsError(f"dataset path {spec!r} does not exist")
    shards, _ = parse_release(release)
    return _download_shards(spec, shards, cache_dir)


def _in_window(row: object, start: datetime | None, end: datetime | None) -> bool:
    """Whether a row is selected; a row whose date cannot be read is kept so the validator names what is wrong."""
    if not isinstance(row, dict) or row.get("contest_date") in (None, ""):
        return True
    try:
        date = parse_contest_date(row["contest_date"])
    except ProblemsError:
        return True
    return (start is None or date >= start) and (end is None or date <= end)


def select_rows(
    dataset: str = HUB_DATASET,
    release: str = "release_v6",
    start_date: str | None = None,
    end_date: str | None = None,
    *,
    cache_dir: str | Path | None = None,
) -> Iterator[Row]:
    """Rows of the release inside the window, streamed; dates are checked before anything heavy is decoded."""
    start, end = parse_window(start_date, end_date)
    parse_release(release)  # refuse a bad tag before any download
    for path in resolve_files(dataset, release, cache_dir):
        for where, row in read_rows(path):
            if _in_window(row, start, end):
                yield where, row


def select_lazy_rows(
    dataset: str,
    release: str,
    start_date: str | None,
    end_date: str | None,
    store: TestStore,
    *,
    cache_dir: str | Path | None = None,
) -> Iterator[tuple[str, dict | ProblemsError, HiddenTests | None]]:
    """Like select_rows, with each selected row's hidden tests left to `store` (decoded on use). JSONL files come
    from the store's index (a warm load reads no shard); other formats are read whole, their raw fields kept."""
    start, end = parse_window(start_date, end_date)
    parse_release(release)
    for path in resolve_files(dataset, release, cache_dir):
        rows = store.rows(path) if path.suffix == ".jsonl" else ((w, r, None) for w, r in read_rows(path))
        for where, row, entry in rows:
            if not _in_window(row, start, end):
                continue
            hidden = store.hidden_for(path, entry, row, row_where(where, row)) if isinstance(row, dict) else None
            yield where, row, hidden
