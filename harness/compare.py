"""The official LiveCodeBench output-comparison rules, as pure functions on data the judge decoded itself.

`compare_stdout` (stdin problems) follows `lcb_runner/evaluation/testing_util.py` exactly: strip the whole output,
split on "\\n", strip every line; the line counts must be equal; a line matches when it is equal as a string, or when
both lines split on whitespace into the same number of tokens that are all equal as `decimal.Decimal` (no float
tolerance: "0.30000000000000004" != "0.3", but "0.300" == "3e-1" == "0.3"). Python's own `str.strip`/`str.split`
and `Decimal` are used so every corner (Unicode whitespace, "1_000", "inf", NaN never equal to anything, huge
exponents) behaves as in the official grader. The only input the official grader cannot see is non-UTF-8 output
(it captures text); here such output is a wrong answer. Memory stays bounded whatever the output's size: lines are
decoded, stripped and compared one chunk at a time, never held as lists (64 MB of 10-byte lines would otherwise
take GBs: RESULTS.md, "Comparing huge outputs").

`compare_return` (function-call problems) compares JSON-decoded values with Python `==`, which is what the official
grader does on live objects after turning a returned tuple into a list. Because both sides are plain decoded data,
an object with an always-true `__eq__` cannot pass. Deliberate consequences, documented: `2.0 == 2` and `True == 1`
pass (as officially); a nested tuple is compared as a list (officially `[(1, 2)] != [[1, 2]]`, an official defect:
LeetCode serialises both the same way).

Not covered: running code, verdict policy, test ordering (harness/judge.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

_HEAD = 80  # characters of a line quoted in a diagnostic
_CHUNK = 1 << 20  # bytes (or characters) of output split into lines at a time


class _NotUtf8(ValueError):
    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


def _raw_chunks(data: bytes | str) -> Iterator[list[str]]:
    """The text's "\\n"-separated lines, stripped, one chunk of ~_CHUNK bytes of whole lines at a time (bytes are
    decoded as strict UTF-8)."""
    newline = b"\n" if isinstance(data, bytes) else "\n"
    start, size = 0, len(data)
    while True:
        end = -1
        if start + _CHUNK < size:  # whole lines up to ~_CHUNK; a longer line is one chunk
            end = data.rfind(newline, start, start + _CHUNK)
            end = data.find(newline, start + _CHUNK) if end < 0 else end
        stop = size if end < 0 else end
        chunk = data[start:stop]
        if isinstance(chunk, bytes):  # a "\n" byte never splits a UTF-8 sequence: chunks decode like the whole
            try:
                chunk = chunk.decode("utf-8")
            except UnicodeDecodeError as err:
                raise _NotUtf8(start + err.start) from None
        yield [line.strip() for line in chunk.split("\n")]
        if end < 0:
            return
        start = end + 1


def _stripped_chunks(data: bytes | str) -> Iterator[list[str]]:
    """What the official `[line.strip() for line in text.strip().split("\\n")]` gives, as consecutive non-empty
    lists: stripping the whole text drops the blank lines at both ends (one "" line if nothing is left)."""
    blank_run, started = 0, False
    for lines in _raw_chunks(data):
        if not started:
            first = next((i for i, line in enumerate(lines) if line), None)
            if first is None:
                continue
            lines, started = lines[first:], True
        last = len(lines)
        while last and not lines[last - 1]:
            last -= 1
        if last == 0:
            blank_run += len(lines)
            continue
        while blank_run:  # blank lines between non-blank ones are lines; at the end they are not
            n = min(blank_run, _CHUNK)
            yield [""] * n
            blank_run -= n
        yield lines if last == len(lines) else lines[:last]
        blank_run = len(lines) - last
    if not started:
        yield [""]


def _decimal_tokens(line: str) -> list[Decimal] | None:
    # Decimal(str) is exact and context-free except for the InvalidOperation trap, which the default
    # (per-thread) context sets, exactly as in the official grader.
    try:
        return [Decimal(token) for token in line.split()]
    except ArithmeticError:
        return None


def _tokens_equal(got: str, want: str) -> bool:
    got_tokens = _decimal_tokens(got)
    if got_tokens is None:
        return False
    want_tokens = _decimal_tokens(want)
    if want_tokens is None or len(got_tokens) != len(want_tokens):
        return False
    try:
        return all(g == w for g, w in zip(got_tokens, want_tokens))
    except ArithmeticError:  # a signalling NaN raises on comparison; officially that test fails too
        return False


def _quote(text: str) -> str:
    return repr(text if len(text) <= _HEAD else text[:_HEAD] + "...")


def compare_stdout(actual: bytes | str, expected: str) -> tuple[bool, str]:
    """Official stdin comparison of a program's output with the expected text; returns (passed, detail).
    Streams over both texts a chunk of lines at a time: the line counts are compared first (as officially), then
    the first differing line."""
    if isinstance(actual, bytes) and _identical(actual, expected):  # the common pass, at memcmp speed
        return True, ""
    sides = [[_stripped_chunks(actual), [], 0, 0], [_stripped_chunks(expected), [], 0, 0]]  # chunks, buf, pos, n
    first_difference = ""
    try:
        while True:
            for side in sides:
                if side[2] == len(side[1]):
                    side[1], side[2] = next(side[0], None) or [], 0
            (_, got, gi, n_got), (_, want, wi, _) = sides
            k = min(len(got) - gi, len(want) - wi)
            if k == 0:
                break
            if not first_difference and got[gi:gi + k] != want[wi:wi + k]:
                first_difference = _first_difference(got[gi:gi + k], want[wi:wi + k], n_got)
            for side in sides:
                side[2] += k
                side[3] += k
        n_got, n_want = (side[3] + len(side[1]) - side[2] + sum(map(len, side[0])) for side in sides)
    except _NotUtf8 as err:
        return False, f"output is not valid UTF-8 (byte offset {err.offset})"
    if n_got != n_want:
        return False, f"expected {n_want} line(s), got {n_got}"
    return (False, first_difference) if first_difference else (True, "")


def _first_difference(got: list[str], want: list[str], before: int) -> str:
    for number, (got_line, want_line) in enumerate(zip(got, want), start=before + 1):
        if not (got_line == want_line or _tokens_equal(got_line, want_line)):
            return f"line {number}: expected {_quote(want_line)}, got {_quote(got_line)}"
    return ""


def _identical(actual: bytes, expected: str) -> bool:
    """Whether the output is byte for byte the expected text's UTF-8 (compared a chunk at a time)."""
    done = 0
    for start in range(0, len(expected), _CHUNK):
        try:
            piece = expected[start:start + _CHUNK].encode("utf-8")
        except UnicodeEncodeError:
            return False
        if actual[done:done + len(piece)] != piece:
            return False
        done += len(piece)
    return done == len(actual)


def _parse_int(text: str) -> int | Decimal:
    # Python 3.11 refuses int() on more than 4300 digits; an exact Decimal compares equal to the same int.
    try:
        return int(text)
    except ValueError:
        return Decimal(text)


def decode_json_value(text: str) -> object:
    """Decode one JSON value the way the judge compares it; raises ValueError (or RecursionError) if invalid."""
    return json.loads(text, parse_int=_parse_int)


def compare_return(returned_json: str | None, expected: str | object, *, expected_decoded: bool = False
                   ) -> tuple[bool, str]:
    """JSON-decoded equality of a function's return value with the expected value; returns (passed, detail).

    `expected` is the test's output text (one JSON value); pass `expected_decoded=True` to give an already
    decoded value (the judge decodes each test once). An invalid expected text raises ValueError: that is a
    dataset defect, not the candidate's answer."""
    want = expected if expected_decoded else decode_json_value(expected)  # type: ignore[arg-type]
    if returned_json is None:
        return False, "no return value was recorded"
    try:
        got = decode_json_value(returned_json)
    except (ValueError, RecursionError):
        return False, f"return value is not valid JSON: {_quote(returned_json)}"
    try:
        equal = got == want
    except RecursionError:
        return False, "return value is nested too deeply to compare"
    if equal is True:
        return True, ""
    return False, f"expected {_quote(_dump(want))}, got {_quote(returned_json)}"


def _dump(value: object) -> str:
    try:
        return json.dumps(value, default=str)
    except (ValueError, RecursionError):
        return "<unprintable>"
