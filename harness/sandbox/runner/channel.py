# Runner part 'channel' (see __init__.py: the parts are concatenated, in PARTS order, into one program).
# The frames spoken with the judge (harness/sandbox/protocol.py): a 4-byte length, a JSON header, raw bodies.

import json
import os
import struct


def _read_exact(fd: int, n: int) -> bytes:
    """Exactly n bytes (never more: nothing past this frame is read into this process)."""
    parts, left = [], n
    while left:
        got = os.read(fd, min(left, 1 << 20))
        if not got:
            raise EOFError("judge closed the channel")
        parts.append(got)
        left -= len(got)
    return b"".join(parts)


def _recv_header(fd: int) -> dict:
    return json.loads(_read_exact(fd, struct.unpack(">I", _read_exact(fd, 4))[0]))


def _recv_bodies(fd: int, header: dict) -> list[bytes]:
    return [_read_exact(fd, int(n)) for n in header.get("lens", [])]


def _send(fd: int, header: dict, *bodies: bytes) -> None:
    header["lens"] = [len(b) for b in bodies]
    h = json.dumps(header).encode()
    _write_all(fd, struct.pack(">I", len(h)) + h)
    for body in bodies:
        _write_all(fd, body)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
