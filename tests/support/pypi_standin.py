"""A loopback stand-in for PyPI's JSON API (`/pypi/<project>/json`), serving projects a test declares.

Used with `MLOPS_BOT_PYPI_URL=standin.url`: the real adapter makes real HTTP requests to it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class PyPIStandIn:
    def __init__(self) -> None:
        self.projects: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                standin.requests.append(self.path)
                match = re.fullmatch(r"/pypi/([^/]+)/json/?", self.path)
                body = standin.projects.get(_canonical(match.group(1))) if match else None
                payload = json.dumps(body if body is not None else {"message": "Not Found"}).encode()
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_project(self, name: str, releases: Mapping[str, str | None], *, yanked: tuple[str, ...] = ()) -> None:
        """`releases`: version → requires_python (None: no limit). The last one listed is the latest."""
        files = {
            version: [
                {
                    "filename": f"{name}-{version}-py3-none-any.whl",
                    "requires_python": requires,
                    "yanked": version in yanked,
                }
            ]
            for version, requires in releases.items()
        }
        latest = list(releases)[-1]
        self.projects[_canonical(name)] = {
            "info": {"name": name, "version": latest, "requires_python": releases[latest]},
            "releases": files,
        }

    def __enter__(self) -> PyPIStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
