# Runner part 'sample' (see __init__.py: the parts are concatenated, in PARTS order, into one program).
# The sample process: reads one sample's code and inputs, compiles once, runs every test in the sample's host (a
# child serving one run per test; a new one after any run that leaves more than the host behind), supervises it (CPU,
# wall backstop, output caps), decides each verdict class from what it observed, replies.

import json
import os
import select
import signal
import struct
import time
from contextlib import suppress


def _fork_seed(cfg: dict, prelude_of) -> tuple:
    """Fork a host ahead of its sample (child.py's _seed_main): its pipes and memfds made here, before any byte of
    the sample exists in this process. Returns (pid, start_w, code_fd, in_fd, go_w, out_r, err_r, st_r)."""
    in_fd, code_fd = os.memfd_create("input", 0), os.memfd_create("code", 0)
    (go_r, go_w), (out_r, out_w), (err_r, err_w), (st_r, st_w), (start_r, start_w) = \
        os.pipe(), os.pipe(), os.pipe(), os.pipe(), os.pipe()
    fds = {0: in_fd, 1: out_w, 2: err_w, STATUS_FD: st_w, GO_FD: go_r, INPUT_FD: in_fd, OUT_FD: out_w,
           ERR_FD: err_w}
    pid = os.fork()
    if pid == 0:
        _seed_main(cfg, fds, start_r, code_fd, prelude_of)
    for fd in (go_r, out_w, err_w, st_w, start_r):
        os.close(fd)
    os.set_blocking(go_w, False)
    return pid, start_w, code_fd, in_fd, go_w, out_r, err_r, st_r


class Sample:
    """One sample, in its own process (pid 1 of a fresh PID + IPC namespace when granted): reads its frames from
    the channel, runs every test, cleans up after each, replies, and exits at the sample's end."""

    def __init__(self, rx: int, tx: int, cfg: dict, header: dict, error: str, pid1: bool, release, seed,
                 prelude_of) -> None:
        self.rx, self.tx, self.cfg, self.header, self.pid1, self.release = rx, tx, cfg, header, pid1, release
        self.seed, self.prelude_of = seed, prelude_of  # a host forked ahead (_fork_seed), and how it finds preludes
        self.func_name, self.limits = header.get("func_name"), header["limits"]
        self.tl = float(self.limits["time_limit_s"])
        self.cap = int(self.limits["output_limit_mb"]) << 20
        self.error = error
        self.error_status = "infra_error" if error else ""  # the judge's prelude failed: not the candidate's doing
        self.outer = int(os.readlink("/proc/self"))  # our pid as /proc (of the runner's namespace) names it
        self.cg = _Cgroup(cfg["cgroup"]) if cfg.get("cgroup") else None
        self.meter = _Meter(self.cg, self.outer)
        self.ncpu = max(1, len(os.sched_getaffinity(0)))
        self.tests, self.code_obj, self.host, self.load_cpu = 0, None, None, 0.0

    def serve(self) -> int:
        self.prepare(_recv_bodies(self.rx, self.header)[0])
        while True:
            try:
                header = _recv_header(self.rx)
                bodies = _recv_bodies(self.rx, header)
            except EOFError:
                header, bodies = {"op": "exit"}, []
            op = header.get("op")
            if op == "run":
                _send(self.tx, *self.run(bodies[0] if bodies else b""))
            elif op == "end":
                self.release()  # our last frame is read: the next sample process may wait on the channel
                _send(self.tx, {"clean": self.end()})
                return 0
            elif op == "exit":
                self.end()
                self.release(stop=True)  # the warm runner stops
                return 0
            else:
                _send(self.tx, {"status": "infra_error", "detail": f"unknown op {op!r}"})

    def prepare(self, code: bytes) -> None:
        if self.cg is not None:  # headroom for the runner's own processes, members too (warm, spare, active, old)
            self.cg.limit((int(self.limits["memory_limit_mb"]) + SAMPLE_HEADROOM_MB) << 20,
                          self.cfg["max_processes"] + 4)
        self.cfg["workdir_now"] = self.cfg.get("workdir") or self._new_workdir()
        if self.error:
            return
        try:  # compile errors are decided here, before any candidate code runs
            self.code_obj = compile(code.decode("utf-8", "surrogateescape"), "<solution>", "exec",
                                    dont_inherit=True)
        except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
            self.error, self.error_status = f"{type(exc).__name__}: {exc}"[:2000], "compile_error"

    def _new_workdir(self) -> str:
        """Judge-owned (root, mode 1777 when the candidate has its own uid): it cannot chmod or replace it."""
        import tempfile

        path = tempfile.mkdtemp(prefix="lcb-sample-", dir=self.cfg["scratch"])
        if self.cfg.get("uid") is not None:
            os.chmod(path, 0o1777)
        return path

    def run(self, data: bytes) -> tuple:
        if self.error_status:
            return {"status": self.error_status, "detail": self.error}, b"", b""
        self.tests += 1
        if self.host is not None and _exited(self.host[0], self.host[1]):
            self._retire_host()  # it ended between runs (its own doing): a new one
        fresh = self.host is None
        if fresh and (failed := self._start_host()) is not None:
            return failed
        pid, pidfd, io, go_w, in_fd = self.host
        os.ftruncate(in_fd, 0)
        view, off = memoryview(data), 0
        while off < len(view):
            off += os.pwrite(in_fd, view[off:], off)
        io.reset()
        self.meter.start()
        t0 = time.monotonic()
        with suppress(OSError):
            os.write(go_w, struct.pack(">Q", len(data)))
        sized = self.func_name is not None
        why = self._supervise(pid, pidfd, io, t0, lambda: _calls(io.bufs[io.st_r], sized))
        calls, (seen, bad) = _calls(io.bufs[io.st_r], sized), _events(io.bufs[io.st_r], sized)
        # A stdin host's b"R" (setup done) comes with its first run; a LeetCode host's came with its load.
        ready = [(b"R", b"")] if not fresh or self.func_name or (b"R", b"") in seen else []
        extra, self.load_cpu = self.load_cpu, 0.0
        if not why and not bad and calls and calls[0][0] in (b"V", b"D", b"Q"):
            wall, cpu = time.monotonic() - t0, self.meter.cpu()  # the run's, not the cleanup's after it
            rss = 0.0 if self.cg else max([_proc_hwm_mb(p) for p in _descendants(self.outer)] or [0.0])
            io.drain()  # the host flushed before reporting: its output is all in the pipes
            why, clean = io.over(), self._retire_host() if calls[0][0] == b"Q" else self._after_run()
            calls = [(b"D", b"")] if calls[0][0] == b"Q" else calls
            return self._decide(why, None, wall, io, ready + calls[:1], clean, extra, rss, cpu)
        return self._stop_host(why or ("garbage" if bad else ""), t0, ready + calls, extra)

    def _start_host(self):
        """Start the sample's host: the one forked ahead of the sample, or a new one. It becomes a stdin program's
        host (run on each input as __main__) or a LeetCode module's (loaded once, its method called on each
        input; its load is supervised here and its CPU counted in the next run)."""
        import marshal

        seed, self.seed = self.seed or _fork_seed(self.cfg, self.prelude_of), None
        pid, start_w, code_fd, in_fd, go_w, out_r, err_r, st_r = seed
        blob = marshal.dumps(self.code_obj)
        _write_all(code_fd, blob)
        start = json.dumps({"memory_limit_mb": self.limits["memory_limit_mb"], "workdir": self.cfg["workdir_now"],
                            "func_name": self.func_name, "prelude": self.header.get("prelude") or "",
                            "code_len": len(blob)}).encode()
        self.meter.start()
        t0 = time.monotonic()
        with suppress(OSError):  # a host that died in its setup is seen below, as CHILD_SETUP_FAILED
            _write_all(start_w, struct.pack(">I", len(start)) + start)
        for fd in (start_w, code_fd):
            os.close(fd)
        io = _Io(out_r, err_r, st_r, self.cap, self.cap + 9)
        self.host = (pid, _pidfd(pid), io, go_w, in_fd)
        if not self.func_name:
            return None
        loaded = lambda: _events(io.bufs[st_r])[1] or any(k != b"R" for k, _ in _events(io.bufs[st_r])[0])
        why = self._supervise(pid, self.host[1], io, t0, loaded)
        events, bad = _events(io.bufs[st_r])
        if not why and not bad and (b"L", b"") in events:
            self.load_cpu = self.meter.cpu()  # the module's load counts, with its own budget, in the first test
            return None
        return self._stop_host(why or ("garbage" if bad else ""), t0, events, 0.0)

    def _stop_host(self, why: str, t0: float, events: list, extra: float) -> tuple:
        """The run failed, was stopped or the host ended: kill it, clean up, decide from what it left."""
        pid, pidfd, io, go_w, in_fd = self.host
        self.host = None
        if not why and pidfd is not None:  # it reported a failure or died: give it a moment to exit by itself
            select.select([pidfd], [], [], 1.0)
        ru = _stop(pid, "kill")  # a healthy host never ends by itself
        wall, clean = time.monotonic() - t0, all([self.sweep(), self.wipe()])
        io.drain()
        try:
            return self._decide(why, ru, wall, io, events, clean, extra, ru[2].ru_maxrss / 1024)
        finally:
            io.close()
            for fd in (pidfd, go_w, in_fd):
                with suppress(OSError, TypeError):
                    os.close(fd)

    def _after_run(self) -> bool:
        """After a run that ended well. A LeetCode host keeps its module and `Solution()` for the next call, as
        officially, whatever it left running. A stdin host serves the next run if it is alone, single-threaded,
        with the signal handlers it started with and a modest footprint; else (a thread, a process, a handler or
        timer that could run between runs, memory a later run would inherit) it is retired now; the program's
        files are removed. False when something could not be cleaned."""
        if self.func_name is not None:
            return True
        tree = _descendants(self.outer)
        status = _proc_status(tree[0]) if len(tree) == 1 else {}
        keep = (status.get("Threads") == "1" and status.get("SigCgt") == self.cfg["sigcgt"]
                and int((status.get("VmRSS") or "0").split()[0]) < HOST_RSS_KB)
        return self.wipe() if keep else self._retire_host()

    def _retire_host(self) -> bool:
        """Kill the host and everything of the sample, reap, wipe: the next run gets a new host."""
        pid, pidfd, io, go_w, in_fd = self.host
        self.host = None
        _stop(pid, "kill")
        clean = all([self.sweep(), self.wipe()])
        io.close()
        for fd in (pidfd, go_w, in_fd):
            with suppress(OSError, TypeError):
                os.close(fd)
        return clean

    # ---- watching, deciding, cleaning
    def _supervise(self, pid: int, pidfd, io: _Io, t0: float, done) -> str:
        """Drain the pipes until the child exits or `done()`; "" then, else why it must be stopped: output/
        stderr/result over its cap, cpu (the tree's CPU over the limit) or wall (the backstop)."""
        wall = float(self.limits["wall_backstop_s"])
        deadline, hard, mark = t0 + wall, t0 + BACKSTOP_STRETCH * wall, (t0, 0.0)
        next_cpu = t0 + self.tl / self.ncpu  # the tree cannot have used tl CPU seconds before this
        poller = select.poll()
        for fd in io.open:
            poller.register(fd, select.POLLIN)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        while True:
            if done():
                return ""
            if why := io.over():
                return why
            now = time.monotonic()
            if now >= next_cpu:
                if (cpu := self.meter.cpu()) > self.tl:
                    return "cpu"
                next_cpu = now + max(0.002, (self.tl - cpu) / self.ncpu)
            if now >= deadline:
                deadline, mark = self._stretch(deadline, hard, mark, wall)
                if deadline <= now:
                    return "wall"
                continue
            left = min(deadline, next_cpu) - now
            exited = False
            for fd, _ev in poller.poll(max(0.0, left if pidfd is not None else min(left, 0.002)) * 1000):
                if fd == pidfd:
                    exited = True
                elif io.read(fd) == 0:
                    poller.unregister(fd)
            if exited or (pidfd is None and os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)):
                io.drain()
                return ""

    def _stretch(self, deadline: float, hard: float, mark: tuple[float, float], wall: float):
        """At the wall backstop: a tree still computing (>= STARVED_SHARE of a CPU since the last look) and under
        its CPU limit is starved by a loaded machine, not hanging: another slice, up to `hard`. A sleeper gets
        none; helpers burning CPU count toward the limit, so they cannot buy time."""
        now, cpu = time.monotonic(), self.meter.cpu()
        if cpu - mark[1] >= STARVED_SHARE * (now - mark[0]) and cpu < self.tl and now < hard:
            return min(hard, now + max(0.5, wall / 2)), (now, cpu)
        return deadline, mark

    def _decide(self, why, ru, wall, io: _Io, events, clean, extra=0.0, rss=0.0, cpu=None) -> tuple:
        cpu = self.meter.cpu() if cpu is None else cpu
        wstatus = ru[1] if ru else None
        sig = os.WTERMSIG(wstatus) if wstatus is not None and os.WIFSIGNALED(wstatus) else None
        code = os.WEXITSTATUS(wstatus) if wstatus is not None and os.WIFEXITED(wstatus) else None
        kinds = dict(events)
        code = 0 if code is None and b"D" in kinds else code  # a stdin program that ended normally, as exit 0
        res = {"exit_code": code, "signal": sig, "cpu_s": cpu + extra, "wall_s": wall,
               "peak_rss_mb": self.cg.peak_mb() if self.cg is not None else rss}
        out = bytes(io.bufs[io.out_r])
        failed = sig is not None or (code is not None and code != 0) or (self.func_name and b"V" not in kinds)
        if why in ("output", "stderr", "result"):
            what = {"output": "output", "stderr": "stderr", "result": "return value"}[why]
            verdict, out = "output_limit", out[:HEAD_ON_LIMIT]
            detail = f"{what} over {self.limits['output_limit_mb']} MB"
        elif why == "wall":
            verdict, detail = "time_limit", f"wall clock over {wall:.2f} s (backstop)"
        elif why == "cpu" or cpu > self.tl:  # the kernel's count for the whole tree, never a signal's name
            verdict, detail = "time_limit", f"cpu {cpu:.3f} s (limit {self.tl:g} s)"
        elif b"R" not in kinds and code == CHILD_SETUP_FAILED:  # a first test's setup is the judge's; a later
            verdict = "infra_error" if self.tests <= 1 else "runtime_error"  # one's, damage done by the sample
            detail = "the jail could not set up the child" + ("" if self.tests <= 1 else " (after earlier tests)")
        elif self.cg is not None and self.cg.oom():  # the kernel killed a process of the tree at the limit
            verdict, detail = "memory_limit", "out of memory (the whole process tree is limited)"
        elif failed and b"M" in kinds:
            verdict, detail = "memory_limit", "MemoryError"
        elif b"C" in kinds:  # a LeetCode module that failed to load, before any input
            verdict, detail = "compile_error", kinds[b"C"][:2000].decode("utf-8", "replace")
        elif why == "garbage":
            verdict, detail = "runtime_error", "unreadable status from the program"
        elif sig is not None:
            verdict, detail = "runtime_error", f"killed by signal {sig} ({signal.strsignal(sig)})"
        elif code:
            verdict, detail = "runtime_error", f"exit code {code}"
        elif self.func_name and b"V" not in kinds:
            verdict, detail = "runtime_error", "no return value reported"
        else:
            verdict, detail = "ok", ""
        res["status"], res["unclean"] = verdict, not clean
        res["detail"] = detail if clean else f"cleanup after the test failed (fresh jail next); {detail}"
        bodies = [out, bytes(io.bufs[io.err_r][:STDERR_KEEP])]
        if verdict == "ok" and self.func_name:
            res["returned"] = True
            bodies.append(kinds[b"V"])
        return (res, *bodies)

    def sweep(self, deadline_s: float = 5.0) -> bool:
        """Kill every candidate process and reap it: as pid 1 of the sample's namespace, kill(-1) (atomic, and
        nothing in the namespace can stop us); else every descendant (we are their subreaper), until none."""
        if _reap_all():
            return True
        end, uid = time.monotonic() + deadline_s, self.cfg.get("uid")
        while time.monotonic() < end:  # (where /proc has no children lists, e.g. gVisor: by uid, as root)
            for pid in [-1] if self.pid1 else _descendants(self.outer) + (_uid_pids(uid) if uid else []):
                _kill(pid)
            # kill(-1) as pid 1 races no fork: wait for them all; else look again for late forks now and then
            if _wait_all(max(0.001, end - time.monotonic()) if self.pid1 else 0.05):
                return True
        return _reap_all()

    def wipe(self) -> bool:
        """Empty what the candidate may write: our private mounts, or the fallback's work dir."""
        dirs = self.cfg.get("wipe") or [self.cfg["workdir_now"]]
        keep = set(self.cfg.get("protected") or ())
        return all([_remove(p) for d in dirs for p in (os.path.join(d, e) for e in _listdir(d)) if p not in keep])

    def end(self) -> bool:
        """After the last test: kill and wipe; in the fallback without namespaces also the candidate's SysV IPC
        and its files in the shared tmp dirs. (Keyrings are emptied as each host starts: child.py.)"""
        self.host = None
        clean = all([self.sweep(), self.wipe()])
        uid = self.cfg.get("uid")
        if not self.pid1 and (uid is not None or self.cfg.get("wipe")) and (ipc := _sysv_ipc(uid)):
            for kind, ident in ipc:
                _ipc_rmid(kind, ident)
            clean = not _sysv_ipc(uid) and clean
        if not self.cfg.get("workdir"):
            shared = [p for d in WIPE_SHARED for p in _owned_by(d, uid)]
            clean = all([_remove(p) for p in [self.cfg["workdir_now"], *shared]]) and clean
        return clean
