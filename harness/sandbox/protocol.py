"""The judge side of the one protocol spoken with the trusted runner (runner/), locally and on Modal.

Framing (both directions): a 4-byte big-endian header length, a JSON header holding `"lens"` (the byte length of
each raw body that follows), then the bodies. Headers stay small (at most HEADER_MAX bytes): data of any size
(code, inputs, stdout, stderr, a returned value) travels only as bodies.

Messages, judge -> runner: `config` (answered by the ready frame, which names PROTOCOL_VERSION), then per sample
`sample` (func_name, limits, prelude; body: the code; no reply), per test `run` (body: the input; reply: status,
exit_code, signal, cpu_s, wall_s, peak_rss_mb, detail, unclean, returned? + bodies stdout, stderr[, returned]),
`end` (reply {"clean": bool}), and `exit`. Expected outputs never cross.

The runner (runner/) is shipped as source and cannot import this module: it keeps its own copies of PROTOCOL_VERSION and
BACKSTOP_STRETCH, and tests/harness/test_sandbox.py holds the two in step. Not covered here: moving bytes over a
transport (local.py: pipes; modal.py: a container's exec stream), the runner's side.
"""

from __future__ import annotations

import json
import struct

from harness.sandbox.base import RawRun, RunSpec, RunStatus
from harness.verdicts import Limits

PROTOCOL_VERSION = 2
HEADER_MAX = 1 << 16  # bytes; a header is metadata only
BACKSTOP_STRETCH = 4.0  # = runner.BACKSTOP_STRETCH: a starved (still computing) program may run this many backstops
_LEN = struct.Struct(">I")


class ProtocolError(Exception):
    """Bytes from the runner that are not a frame of this protocol."""


def encode(header: dict, *bodies: bytes) -> list[bytes]:
    """A frame as a list of byte strings to write in order (bodies are not copied into one buffer)."""
    h = json.dumps({**header, "lens": [len(b) for b in bodies]}).encode()
    return [_LEN.pack(len(h)) + h, *[b for b in bodies if b]]


def header_length(prefix: bytes) -> int:
    (n,) = _LEN.unpack(prefix)
    if n > HEADER_MAX:
        raise ProtocolError(f"oversized header ({n} bytes)")
    return n


def decode_header(raw: bytes) -> tuple[dict, list[int]]:
    """The header and its body lengths; ProtocolError on anything malformed."""
    try:
        header = json.loads(raw)
        lens = [int(n) for n in header.get("lens", [])]
    except (ValueError, TypeError, AttributeError) as exc:
        raise ProtocolError("bad header") from exc
    if any(n < 0 for n in lens):
        raise ProtocolError("negative body length")
    return header, lens


# ---------------------------------------------------------------------------------------------------- messages
def sample_frame(spec: RunSpec, prelude: str | None = None) -> list[bytes]:
    lim = {**spec.limits.to_dict(), "wall_backstop_s": spec.limits.wall_backstop_s}
    header = {"op": "sample", "func_name": spec.func_name, "limits": lim,
              "prelude": spec.prelude if prelude is None else prelude}
    return encode(header, spec.code.encode("utf-8", "surrogateescape"))


def run_frame(data: bytes) -> list[bytes]:
    return encode({"op": "run"}, data)


def op_frame(op: str) -> list[bytes]:
    return encode({"op": op})


def check_ready(hello: dict) -> str | None:
    """Why the runner's ready frame is not acceptable (None when it is)."""
    if not hello.get("ready"):
        return f"runner handshake failed: {str(hello)[:200]}"
    if hello.get("protocol") != PROTOCOL_VERSION:
        return f"runner speaks protocol {hello.get('protocol')!r}, the judge {PROTOCOL_VERSION}"
    return None


def reply_deadline_s(limits: Limits, input_bytes: int, slack_s: float, rate_bps: float) -> float:
    """How long the judge waits for one run's reply: the runner's backstop stretched as far as the runner may
    stretch it (a starved program), plus slack and a transfer allowance for the input."""
    return BACKSTOP_STRETCH * limits.wall_backstop_s + slack_s + input_bytes / rate_bps


def parse_run_reply(h: dict, bodies: list[bytes]) -> RawRun:
    """A run reply as a RawRun; a malformed one is the candidate's doing (everything in the jail is in its reach)."""
    try:
        status = RunStatus(h.get("status"))
    except ValueError:
        return RawRun(status=RunStatus.RUNTIME_ERROR, detail=f"unreadable reply from the jail: {str(h)[:200]}")
    returned = None
    if h.get("returned") and len(bodies) > 2:
        returned = bodies[2].decode("utf-8", "surrogateescape")
    return RawRun(
        status=status, stdout=bodies[0] if bodies else b"", stderr=bodies[1] if len(bodies) > 1 else b"",
        returned=returned, exit_code=h.get("exit_code"), signal=h.get("signal"),
        cpu_s=float(h.get("cpu_s") or 0.0), wall_s=float(h.get("wall_s") or 0.0),
        peak_rss_mb=float(h.get("peak_rss_mb") or 0.0), detail=str(h.get("detail") or ""),
    )


class FrameBuffer:
    """Incremental frame parser over a byte stream: feed() bytes, then next_frame() until it returns None."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> None:
        self.buf += data

    def needed(self) -> int:
        """Bytes still missing for the next complete frame (0 when one is complete); a lower bound."""
        if len(self.buf) < 4:
            return 4 - len(self.buf)
        n = header_length(bytes(self.buf[:4]))
        if len(self.buf) < 4 + n:
            return 4 + n - len(self.buf)
        _h, lens = decode_header(bytes(self.buf[4:4 + n]))
        return max(0, 4 + n + sum(lens) - len(self.buf))

    def next_frame(self) -> tuple[dict, list[bytes]] | None:
        if self.needed():
            return None
        n = header_length(bytes(self.buf[:4]))
        header, lens = decode_header(bytes(self.buf[4:4 + n]))
        pos, bodies = 4 + n, []
        for k in lens:
            bodies.append(bytes(self.buf[pos:pos + k]))
            pos += k
        del self.buf[:pos]
        return header, bodies
