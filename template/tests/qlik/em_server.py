"""A stand-in for Qlik Enterprise Manager's REST API that answers with recorded responses.

Enterprise Manager is licensed software, so the monitor is tested against the responses in
fixtures/em/ (shaped after the API guide: Login, GetServerList, GetTaskList, GetTaskDetails).
The server checks what the real one checks: Basic auth on /login, the session header after.
``mode`` breaks it on purpose: ``unauthorized`` (HTTP 401 on login), ``malformed`` (task list
that is not JSON) or ``wrong_shape`` (JSON without the documented keys).
"""

from __future__ import annotations

import base64
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

FIXTURES = Path(__file__).parent / "fixtures" / "em"
PREFIX = "/attunityenterprisemanager/api/v1"
USER = "monitor"
# Made up per run, so no credential-like literal sits in the repository.
PASSWORD = secrets.token_urlsafe(12)
SESSION = secrets.token_urlsafe(16)
SERVER = "replicate-prod"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _handler(mode: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest's output clean
            pass

        def _send(
            self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = unquote(self.path)
            if not path.startswith(PREFIX):
                return self._send(404)
            path = path[len(PREFIX) :]
            if path == "/login":
                expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if (
                    mode == "unauthorized"
                    or self.headers.get("Authorization") != f"Basic {expected}"
                ):
                    return self._send(401, b'{"error_code": "AEM_LOGIN_FAILED"}')
                return self._send(200, headers={"EnterpriseManager.APISessionID": SESSION})
            if self.headers.get("EnterpriseManager.APISessionID") != SESSION:
                return self._send(401)
            if path == "/servers":
                return self._send(200, (FIXTURES / "servers.json").read_bytes())
            if path == f"/servers/{SERVER}/tasks":
                if mode == "malformed":
                    return self._send(200, b"<html>Service Unavailable</html>")
                if mode == "wrong_shape":
                    return self._send(200, b'{"tasks": []}')
                return self._send(200, (FIXTURES / "tasks.json").read_bytes())
            prefix = f"/servers/{SERVER}/tasks/"
            fixture = FIXTURES / f"task_{path.removeprefix(prefix)}.json"
            if path.startswith(prefix) and fixture.is_file():
                return self._send(200, fixture.read_bytes())
            return self._send(404)

    return Handler


@contextmanager
def enterprise_manager(mode: str = "ok") -> Iterator[str]:
    """Run the stand-in on a free local port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(mode))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
