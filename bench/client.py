"""A minimal blocking HTTP client on the standard library, for health checks, seeding and the
pre-load check of each scenario; the benchmark should not depend on the test extras."""

from __future__ import annotations

import http.client
from dataclasses import dataclass

from bench.scenarios import Request

TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Client:
    """One keep-alive connection to the server, reopened after any connection error."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._connection: http.client.HTTPConnection | None = None

    def send(self, request: Request) -> Response:
        """Sends on the open connection; if the server had closed it while idle (its keep-alive
        timeout is shorter than a wrk run), sends once more on a new one."""
        reused = self._connection is not None
        try:
            return self._send(request)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
        return self._send(request)

    def _send(self, request: Request) -> Response:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self._host, self._port, timeout=TIMEOUT_SECONDS)
        try:
            self._connection.request(request.method, request.path, body=request.body, headers=request.headers)
            response = self._connection.getresponse()
            return Response(response.status, response.read())
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
