# Runner part 'warm' (see __init__.py: the parts are concatenated, in PARTS order, into one program).
# The warm runner: forks each sample process ahead of time, passes the channel baton between them, and main()
# (channel on private fds, jail setup, ready frame).

import fcntl
import gc
import os
import select
import sys
from contextlib import suppress


class WarmRunner:
    """Keeps the next sample's process forked ahead (in fresh PID + IPC namespaces when granted). One baton byte
    says which sample process may read the channel: the active one passes it on the moment it has read its last
    frame ("end"), so the spare is already waiting when the next sample arrives; forking and tearing down stay
    off the judge's critical path. The warm runner reads nothing from the channel after the config, so it never
    holds a byte of candidate code, input or output."""

    def __init__(self, rx: int, tx: int, cfg: dict) -> None:
        self.rx, self.tx, self.cfg = rx, tx, cfg
        self.preludes: dict[str, tuple[dict, int, dict]] = {}
        self.live: set[int] = set()  # sample processes not reaped yet
        self.exited: dict[int, int] = {}  # wait status of reaped sample processes
        (self.baton_r, self.baton_w), (self.spawn_r, self.spawn_w) = os.pipe(), os.pipe()

    def serve(self) -> None:
        for text in ["", *self.cfg.get("preludes", [])]:  # computed here once; any other prelude per sample
            with suppress(BaseException):
                self._prelude(text)
        os.write(self.baton_w, b"g")
        active = None
        while True:
            spare = self._spawn()
            if self._next(active) != b"n":  # b"n": the spare took the baton, fork the next one
                _kill(spare)
                return  # "exit", or the active sample process died mid-protocol: the channel is lost
            active = spare

    def _next(self, active: int | None) -> bytes:
        """What the spawn pipe says next, or b"" when the active sample process dies abnormally first."""
        poller, pidfd = select.poll(), _pidfd(active) if active is not None else None
        poller.register(self.spawn_r, select.POLLIN)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        try:
            while True:
                ready = {fd for fd, _ev in poller.poll()}
                if self.spawn_r in ready:
                    took = os.read(self.spawn_r, 1)
                    self._reap()
                    return took
                self._reap()
                status = self.exited.get(active)
                if status is not None and (not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0):
                    return b""
                poller.unregister(pidfd)  # it ended well (after passing the baton on)
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def _spawn(self) -> int:
        pid1 = _fresh_pid_ipc(self.cfg.get("pidns"))
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                if not pid1:
                    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans come back to us, to be killed, reaped, accounted
                seed = _fork_seed(self.cfg, self._prelude)  # the host, forked while no sample is here yet
                os.read(self.baton_r, 1)
                code = self._sample_process(pid1, seed)
            except BaseException:
                with suppress(BaseException):
                    __import__("traceback").print_exc()
            finally:
                os._exit(code)
        self.live.add(pid)
        return pid

    def _reap(self) -> None:
        """Reap finished sample processes; without PID namespaces also kill what their candidates left (it came
        to us, the subreaper): every child of ours that is not a sample process, with its descendants."""
        with suppress(ChildProcessError):
            while (got := os.waitpid(-1, os.WNOHANG))[0] != 0:
                self.live.discard(got[0])
                self.exited[got[0]] = got[1]
        if self.cfg.get("pidns") is None:
            me = int(os.readlink("/proc/self"))
            for child in set(_children(me)) - self.live:
                for p in [child, *_descendants(child)]:
                    _kill(p)

    def _sample_process(self, pid1: bool, seed) -> int:
        try:
            header = _recv_header(self.rx)
        except EOFError:
            header = {}
        if header.get("op") != "sample":  # "exit", EOF, or a frame that cannot come outside a sample
            os.write(self.spawn_w, b"x")
            return 0
        os.write(self.spawn_w, b"n")
        error = ""
        try:  # computed (and cached) here so that a failure is the judge's; the host looks it up itself
            self._prelude(header.get("prelude") or "")
        except BaseException as exc:  # the judge's own code failed: not the candidate's doing
            error = f"prelude failed: {type(exc).__name__}: {exc}"[:2000]

        def release(stop: bool = False) -> None:  # the next sample process may read now, or everyone stops
            os.write(self.spawn_w if stop else self.baton_w, b"x" if stop else b"g")

        return Sample(self.rx, self.tx, self.cfg, header, error, pid1, release, seed, self._prelude).serve()

    def _prelude(self, text: str) -> tuple[dict, int, dict]:
        """The namespace and recursion limit the judge's trusted prelude leaves, and which of its names are the std
        streams of the moment (`from sys import *`: each run rebinds them to its own); cached in this process."""
        if text not in self.preludes:
            import builtins

            ns, before = {"__name__": "__main__", "__builtins__": builtins}, sys.getrecursionlimit()
            if text:
                exec(compile(text, "<prelude>", "exec", dont_inherit=True), ns)
            streams = {name: attr for name, value in ns.items() for attr in ("stdin", "stdout", "stderr")
                       if value is getattr(sys, attr)}
            self.preludes[text] = (ns, sys.getrecursionlimit(), streams)
            sys.setrecursionlimit(before)
            if len(self.preludes) > 8:
                self.preludes.pop(next(iter(self.preludes)))
        return self.preludes[text]


def main() -> None:
    # The channel moves to private fds; 0/1 become /dev/null so nothing else can write into it by accident.
    rx, tx = os.dup(0), os.dup(1)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    cfg = _recv_header(rx)
    cfg["userns"] = bool(cfg.get("fallback_ns")) and os.geteuid() != 0 and _own_userns()
    granted = (["user"] if cfg["userns"] else []) + (_fallback_namespaces(cfg) if cfg.get("fallback_ns") else [])
    sys.path.extend(cfg.get("library_paths", []))
    if cfg.get("uid") is not None and "mount" not in granted and not cfg.get("workdir"):  # root fallback, no ns
        dirs = [p for p in dict.fromkeys(sys.path) if p and os.path.isdir(p) and _blocked_root(p)]
        cfg["path_dirs"] = dirs
        cfg["path_fds"] = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 200) for fd in
                           [os.open(p, os.O_PATH | os.O_DIRECTORY) for p in dirs]]  # far from fds children use
    own_pidns = os.open("/proc/self/ns/pid", os.O_RDONLY)  # to return to before each sample's unshare
    cfg["pidns"] = own_pidns if cfg.get("namespaces", True) and _fresh_pid_ipc(own_pidns) else None
    granted += ["pid+ipc per sample"] if cfg["pidns"] is not None else []
    _join_cgroup(cfg)
    cfg["session_keyring"] = _keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0) > 0  # our hosts': never the judge's (child.py)
    _prctl(PR_SET_DUMPABLE, 0)  # a same-uid candidate cannot open /proc/<runner>/fd or ptrace us
    _prctl(PR_SET_NO_NEW_PRIVS, 1)  # inherited, irreversible: no execve gains privileges (the runner never execs)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of a non-namespaced sample come back to us to be killed
    # What every candidate sees, set once here rather than in each child: environment, streams, argv, limit.
    cfg["scratch"] = cfg.get("scratch") or __import__("tempfile").gettempdir()  # the launcher's TMPDIR
    os.environ.clear()
    os.environ.update(cfg["env"])
    sys.argv = ["solution.py"]
    sys.setrecursionlimit(1000)
    _std_streams()
    for name in WARM_MODULES:
        with suppress(ImportError):
            __import__(name)
    cfg["sigcgt"] = _proc_status("self").get("SigCgt")  # the handlers every host starts with
    gc.collect()
    gc.freeze()  # forked children need not touch (and copy) the runner's objects when they collect
    accounting = f"cgroup-v{cfg['cgroup']['version']}" if cfg.get("cgroup") else "rusage"
    _send(tx, {"ready": True, "protocol": PROTOCOL_VERSION, "pid": os.getpid(), "uid": os.getuid(),
               "python": sys.version.split()[0], "namespaces": granted, "accounting": accounting})
    WarmRunner(rx, tx, cfg).serve()


if __name__ == "__main__":
    main()
