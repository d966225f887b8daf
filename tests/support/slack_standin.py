"""A loopback stand-in for Slack's incoming webhooks, and the HTTP transport that reaches it.

The bot only sends to Slack's own hosts (`repository_config.SLACK_WEBHOOK_HOSTS`), so a test
configures a real-looking URL (`standin.url`) and hands the notifier `standin.transport`: every
request the bot makes through it is delivered, unchanged but for the socket it goes to, to the
loopback receiver here. The receiver keeps each JSON body and the `Host` the bot addressed.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXXXXX"


class _ToLoopback(httpx.BaseTransport):
    def __init__(self, port: int) -> None:
        self._port = port
        self._http = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return self._http.handle_request(request)


class SlackStandIn:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.hosts: list[str] = []
        self.status = 200
        self.location: str | None = None  # answer with this redirect instead
        standin = self

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                standin.received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                standin.hosts.append(self.headers.get("host", ""))
                self.send_response(302 if standin.location else standin.status)
                if standin.location:
                    self.send_header("Location", standin.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = SLACK_URL
        self.transport = _ToLoopback(self.port)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def loopback_url(self) -> str:
        """The receiver's own address (what a tenant could not make the bot call)."""
        return f"http://127.0.0.1:{self.port}/services/T/B/X"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
