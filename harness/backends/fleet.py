"""Routing requests over a fleet of OpenAI-compatible servers: least outstanding requests first, and a short
'down' period for a server that keeps failing, so its work goes to the others.

Pure bookkeeping (no I/O): the openai backend calls pick() before a request and release() after it, all from one
event loop thread, so no lock is needed. Not covered: health probes, weights, session affinity.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(slots=True)
class ServerState:
    url: str
    outstanding: int = 0
    requests: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    down_until: float = 0.0


class Router:
    """Least-outstanding-requests routing over a fleet, with a short 'down' period for failing servers.
    Used from one event loop thread only, so it needs no lock."""

    def __init__(self, urls: Iterable[str], *, fail_threshold: int = 2, down_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.servers = [ServerState(url) for url in urls]
        self.fail_threshold = fail_threshold
        self.down_s = down_s
        self._clock = clock

    def pick(self, avoid: set[str] | frozenset = frozenset()) -> ServerState:
        """The live server with the fewest requests in flight (ties: fewest sent so far), preferring ones not in
        `avoid` (those that just failed this request). When every server is down, the one due back first is
        probed, so retries with backoff continue until they run out."""
        now = self._clock()
        live = [s for s in self.servers if s.down_until <= now]
        preferred = [s for s in live if s.url not in avoid] or live
        if preferred:
            server = min(preferred, key=lambda s: (s.outstanding, s.requests))
        else:
            server = min(self.servers, key=lambda s: s.down_until)
        server.outstanding += 1
        server.requests += 1
        return server

    def release(self, server: ServerState, ok: bool) -> None:
        server.outstanding -= 1
        if ok:
            server.consecutive_failures = 0
            return
        server.failures += 1
        server.consecutive_failures += 1
        if server.consecutive_failures >= self.fail_threshold:
            server.down_until = self._clock() + self.down_s

    def cancel(self, server: ServerState) -> None:
        """A request we gave up on ourselves (the run stopped): neither a success nor the server's failure."""
        server.outstanding -= 1

    def stats(self) -> dict[str, dict]:
        return {s.url: {"requests": s.requests, "failures": s.failures} for s in self.servers}
