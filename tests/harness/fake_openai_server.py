"""A FAKE OpenAI-compatible server for tests: real HTTP on 127.0.0.1, stdlib only, one thread per connection.

It is a fake, not a real server, on purpose: it shows what a real local server cannot be made to do on demand (fail
the first K requests with HTTP 500, hang past a timeout, die mid-run, fail only one problem, answer a chosen status)
and it records every request body so tests can check exactly what was sent. What a real server does with our
requests (which fields it refuses, whether it honours `n`) is tested against `transformers serve` in
tests/harness/test_real_server.py; the knobs `allowed_fields` and `ignore_n` here copy that behaviour (422 for an
unknown field, one choice whatever `n`) so it can be combined with injected failures.

Serves /v1/chat/completions and /v1/completions with `n` choices, finish_reason and usage. Behaviour knobs: a delay
per request, the first K requests answered with HTTP 500, dying after M requests (later requests get the connection
dropped and the listener closes), a context limit that answers a too long prompt with vLLM's HTTP 400, strict field
checking, ignoring n, a model list with vLLM's `max_model_len` on GET /v1/models, and a hook to answer a body with any
status. Answers are deterministic in the body (the seed and
the choice index appear in the text), so tests can check which request produced which completion.
Not covered: SSE streaming, tool calls, authentication beyond recording the header.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class FakeOpenAIServer:
    def __init__(self, *, delay_s: float = 0.0, fail_first: int = 0, die_after: int | None = None,
                 max_prompt_chars: int | None = None, respond: Callable[[dict], tuple[int, dict] | None] | None = None,
                 allowed_fields: frozenset[str] | None = None, ignore_n: bool = False, models: list[dict] | None = None):
        self.models = models  # GET /v1/models answers {"data": models}; None: 404, as servers without it do
        self.allowed_fields = allowed_fields  # None: accept any field (as vLLM does)
        self.ignore_n = ignore_n
        self.delay_s = delay_s
        self.fail_first = fail_first
        self.die_after = die_after
        self.max_prompt_chars = max_prompt_chars
        self.respond = respond
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.headers: list[dict] = []
        self.received = 0
        self.answered = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.dead = False
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.dead = True
        self._httpd.shutdown()
        self._httpd.server_close()

    def _close_listener(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()  # new connections are refused from now on

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        if self._thread.is_alive():
            self.stop()

    # ---- request handling (called from handler threads) ---------------------------------------------------
    def admit(self, path: str, body: dict, headers: dict) -> int:
        """Record the request; returns its 1-based number."""
        with self._lock:
            self.received += 1
            self.bodies.append(body)
            self.paths.append(path)
            self.headers.append(headers)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            number = self.received
            if self.die_after is not None and number > self.die_after and not self.dead:
                self.dead = True
                threading.Thread(target=self._close_listener, daemon=True).start()
            return number

    def leave(self, answered: bool) -> None:
        with self._lock:
            self.in_flight -= 1
            self.answered += answered

    def answer(self, path: str, body: dict, number: int) -> tuple[int, dict]:
        if self.delay_s:
            time.sleep(self.delay_s)
        if number <= self.fail_first:
            return 500, {"error": {"message": "injected failure", "type": "InternalServerError"}}
        if self.respond is not None and (custom := self.respond(body)) is not None:
            return custom
        unexpected = set(body) - self.allowed_fields if self.allowed_fields is not None else set()
        if unexpected:  # the answer transformers serve gives (FastAPI's {"detail": ...})
            return 422, {"detail": f"Unexpected fields in the request: {unexpected}"}
        prompt = json.dumps(body.get("messages")) if "messages" in body else str(body.get("prompt", ""))
        if self.max_prompt_chars is not None and len(prompt) > self.max_prompt_chars:
            return 400, {"object": "error", "type": "BadRequestError", "code": 400,
                         "message": f"This model's maximum context length is {self.max_prompt_chars} tokens. "
                                    f"However, your request has {len(prompt)} input tokens."}
        chat = path.endswith("/chat/completions")
        choices, total = [], 0
        for i in range(1 if self.ignore_n else int(body.get("n", 1))):
            words = f"sample seed={body.get('seed')} choice={i} ```python\nprint({i})\n``` end".split(" ")
            limit = body.get("max_tokens")
            finish = "length" if limit is not None and limit < len(words) else "stop"
            text = " ".join(words[:limit] if finish == "length" else words)
            total += min(len(words), limit or len(words))
            content = {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
            choices.append({"index": i, "finish_reason": finish, **content})
        usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": total}
        return 200, {"id": f"fake-{number}", "object": "chat.completion" if chat else "text_completion",
                     "model": body.get("model"), "choices": choices, "usage": usage}


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            found = self.path == "/v1/models" and server.models is not None
            status, payload = (200, {"object": "list", "data": server.models}) if found else (404, {"detail": "no"})
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            if server.dead:
                self.close_connection = True  # drop the connection without an answer, as a crashed server does
                return
            number = server.admit(self.path, body, dict(self.headers))
            if server.dead:
                server.leave(False)
                self.close_connection = True
                return
            if self.path not in ("/v1/chat/completions", "/v1/completions"):
                status, payload = 404, {"error": {"message": f"no route {self.path}"}}
            else:
                status, payload = server.answer(self.path, body, number)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                server.leave(status == 200)

    return Handler
