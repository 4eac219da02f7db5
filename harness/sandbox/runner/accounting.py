# Runner part 'accounting' (see __init__.py: the parts are concatenated, in PARTS order, into one program).
# What a candidate's process tree used: the runner's cgroup (v1 or v2) when the judge made one, else getrusage
# plus a /proc scan of the live descendants; and the pipes its stdout, stderr and status come back on.

import os
import resource
import struct
from contextlib import suppress


class _Cgroup:
    """The cgroup the judge made for this runner (config "cgroup": version, dirs {controller or "unified": dir},
    procs [cgroup.procs files a candidate writes "0" to]). Candidates join it; the runner and sample processes
    never do, so it holds exactly the candidate's tree. Per test: a peak reset and CPU / OOM-kill baselines."""

    def __init__(self, spec: dict) -> None:
        self.v, self.dirs = int(spec["version"]), spec["dirs"]
        self.peak_fd: int | None = None
        self.cpu0 = self.oom0 = 0.0
        self.fds: dict[tuple[str, int], int] = {}  # open once per sample process: a test reads a dozen times

    def _path(self, ctrl: str, name: str) -> str:
        return os.path.join(self.dirs["unified"] if self.v == 2 else self.dirs[ctrl], name)

    def _fd(self, ctrl: str, name: str, mode: int) -> int:
        path = self._path(ctrl, name)
        if (path, mode) not in self.fds:
            self.fds[(path, mode)] = os.open(path, mode | os.O_CLOEXEC)
        return self.fds[(path, mode)]

    def _write(self, ctrl: str, name: str, value) -> bool:
        with suppress(OSError):
            return os.write(self._fd(ctrl, name, os.O_WRONLY), str(value).encode()) > 0
        return False

    def _read(self, ctrl: str, name: str) -> str:
        with suppress(OSError):
            return os.pread(self._fd(ctrl, name, os.O_RDONLY), 1 << 16, 0).decode()  # the file anew, from 0
        return ""

    def _field(self, ctrl: str, name: str, key: str) -> int:
        for line in self._read(ctrl, name).splitlines():
            k, _, v = line.partition(" ")
            if k == key:
                return int(v)
        return 0

    def limit(self, mem: int, pids: int) -> None:
        """Set the limits, unless they are already these (a write of a memory limit drains per-CPU charge caches
        on every CPU: most samples keep the previous sample's limits)."""
        if self._read("memory", "memory.max" if self.v == 2 else "memory.limit_in_bytes").strip() == str(mem) \
                and self._read("pids", "pids.max").strip() == str(pids):
            return
        if self.v == 2:
            self._write("memory", "memory.max", mem)
            self._write("memory", "memory.swap.max", 0)
        else:  # memsw >= memory at every step: try both orders
            for name in ("memory.memsw.limit_in_bytes", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes"):
                self._write("memory", name, mem)
        self._write("pids", "pids.max", pids)

    def start(self) -> None:
        if self.v == 2:
            if self.peak_fd is None:
                with suppress(OSError):
                    self.peak_fd = os.open(self._path("memory", "memory.peak"), os.O_RDWR)
            if self.peak_fd is not None:
                with suppress(OSError):
                    os.write(self.peak_fd, b"reset")  # kernel >= 6.12: this fd's peak restarts now
            self.oom0 = self._field("memory", "memory.events", "oom_kill")
        else:
            self._write("memory", "memory.max_usage_in_bytes", 0)
            self.oom0 = self._field("memory", "memory.oom_control", "oom_kill")
        self.cpu0 = self._cpu_total()

    def _cpu_total(self) -> float:
        if self.v == 2:
            return self._field("cpu", "cpu.stat", "usage_usec") / 1e6
        return int(self._read("cpuacct", "cpuacct.usage") or 0) / 1e9

    def cpu(self) -> float:
        return self._cpu_total() - self.cpu0

    def peak_mb(self) -> float:
        if self.v == 1:
            return int(self._read("memory", "memory.max_usage_in_bytes") or 0) / (1 << 20)
        raw = b""
        if self.peak_fd is not None:
            with suppress(OSError):
                raw = os.pread(self.peak_fd, 64, 0)
        return int(raw or self._read("memory", "memory.current") or 0) / (1 << 20)

    def oom(self) -> bool:
        name, key = ("memory.events", "oom_kill") if self.v == 2 else ("memory.oom_control", "oom_kill")
        return self._field("memory", name, key) > self.oom0


class _Meter:
    """CPU of the candidate's whole tree since start(): the cgroup's counter, or (no cgroup) getrusage of our
    reaped children plus the user+system times (own and reaped) of every live descendant."""

    def __init__(self, cg: _Cgroup | None, outer: int) -> None:
        self.cg, self.outer, self.base = cg, outer, 0.0

    def start(self) -> None:
        if self.cg is not None:
            self.cg.start()
        else:
            self.base = self._tree()

    def cpu(self) -> float:
        return self.cg.cpu() if self.cg is not None else self._tree() - self.base

    def _tree(self) -> float:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime + sum(_proc_cpu(p) for p in _descendants(self.outer))


def _slurp(path: str) -> bytes:
    """A small file (/proc, /sys) whole, b"" when it cannot be read: plain fds, no Python file objects (each costs
    a buffer and a codec, and the sample process reads a dozen per test)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return b""
    try:
        parts = []
        while chunk := os.read(fd, 1 << 16):
            parts.append(chunk)
        return b"".join(parts)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _proc_cpu(pid: int) -> float:
    with suppress(ValueError, IndexError):
        ticks = sum(int(x) for x in _slurp(f"/proc/{pid}/stat").rsplit(b")", 1)[1].split()[11:15])
        return ticks / os.sysconf("SC_CLK_TCK")
    return 0.0


def _proc_status(pid: int | str) -> dict[str, str]:
    """/proc/<pid>/status as {field: value}, {} when it cannot be read."""
    text = _slurp(f"/proc/{pid}/status").decode("utf-8", "replace")
    return dict((k, v.strip()) for k, _, v in (line.partition(":") for line in text.splitlines()))


def _proc_hwm_mb(pid: int) -> float:
    with suppress(ValueError, IndexError):
        return int(_slurp(f"/proc/{pid}/status").split(b"\nVmHWM:", 1)[1].split()[0]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    out = []
    for task in _listdir(f"/proc/{pid}/task"):
        with suppress(ValueError):
            out += [int(x) for x in _slurp(f"/proc/{pid}/task/{task}/children").split()]
    return out


def _descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (pids as /proc names them), from the kernel's per-thread children lists."""
    out, stack = [], [pid]
    while stack:
        kids = _children(stack.pop())
        out += kids
        stack += kids
    return out


class _Io:
    """A candidate's stdout, stderr and status pipes: drained as they fill, each with its own cap. Counts are
    exactly the bytes the candidate wrote; stdout is kept up to its cap, stderr only its head."""

    def __init__(self, out_r: int, err_r: int, st_r: int, cap: int, status_keep: int) -> None:
        self.out_r, self.err_r, self.st_r, self.cap, self.status_keep = out_r, err_r, st_r, cap, status_keep
        self.open = [out_r, err_r, st_r]
        for fd in self.open:
            os.set_blocking(fd, False)
        self.reset()

    def reset(self) -> None:
        self.bufs = {fd: bytearray() for fd in (self.out_r, self.err_r, self.st_r)}
        self.totals = dict.fromkeys(self.bufs, 0)

    def read(self, fd: int) -> int:
        """Bytes read from fd, 0 at EOF (fd is closed for reading), -1 when nothing was there."""
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return -1
        if not data:
            self.open.remove(fd)
            return 0
        keep = {self.out_r: self.cap, self.err_r: STDERR_KEEP, self.st_r: self.status_keep}[fd] - len(self.bufs[fd])
        self.bufs[fd] += data[:max(0, keep)]
        self.totals[fd] += len(data)
        return len(data)

    def over(self) -> str:
        for fd, why in ((self.out_r, "output"), (self.err_r, "stderr"), (self.st_r, "result")):
            if self.totals[fd] > self.cap + (9 if fd == self.st_r else 0):  # a result frame's own 9 bytes
                return why
        return ""

    def drain(self) -> None:
        for fd in list(self.open):
            while not self.over() and self.read(fd) > 0:
                pass

    def close(self) -> None:
        for fd in (self.out_r, self.err_r, self.st_r):
            with suppress(OSError):
                os.close(fd)


def _calls(buf: bytes, sized: bool = True) -> list[tuple[bytes, bytes]]:
    """A run's outcome events (b"C" counts only before the first input), or [garbage] for a malformed byte."""
    events, bad = _events(buf, sized)
    return [(b"?", b"")] if bad else [e for e in events if e[0] in (b"V", b"D", b"Q", b"E", b"M")]


def _events(buf: bytes, sized: bool = True) -> tuple[list[tuple[bytes, bytes]], bool]:
    """The complete status events in buf (kind, payload), and whether a malformed byte was seen. A stdin host
    (sized=False) reports only one-byte events: a sized one there was written by the candidate, and is garbage
    at once (it must not swallow the host's own b"D" as its payload and stall the run)."""
    out, i = [], 0
    while i < len(buf):
        kind = bytes(buf[i:i + 1])
        if kind in (b"R", b"L", b"D", b"Q", b"E", b"M"):
            out.append((kind, b""))
            i += 1
        elif kind in (b"C", b"V") and sized:
            if len(buf) < i + 9 or len(buf) < i + 9 + (n := struct.unpack(">Q", buf[i + 1:i + 9])[0]):
                break
            out.append((kind, bytes(buf[i + 9:i + 9 + n])))
            i += 9 + n
        else:
            return out, True
    return out, False
