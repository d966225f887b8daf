"""API Gateway's WebSocket management API: push a message to one open dashboard connection.

The endpoint is the stage's own URL (`https://<api>.execute-api.<region>.amazonaws.com/<stage>`,
or the local stack's stand-in); connections are addressed by the id API Gateway gave them at
`$connect`. A connection that closed answers 410 `GoneException`, raised here as `ConnectionGone`
so that callers can forget it without knowing botocore.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# One retry for throttling; a slow socket must not hold a whole stream batch.
_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 2},
    connect_timeout=2,
    read_timeout=5,
    max_pool_connections=16,
)


class ConnectionGone(Exception):
    """The connection is closed (410): it will never accept another message."""

    def __init__(self, connection_id: str) -> None:
        super().__init__(f"connection {connection_id} is gone")
        self.connection_id = connection_id


def _gone(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return exc.response.get("Error", {}).get("Code") == "GoneException" or status == 410


class WebSocketConnections:
    """`post_to_connection` / `delete_connection` on one WebSocket API stage. Thread-safe."""

    def __init__(self, endpoint_url: str, client: Any | None = None) -> None:
        if not endpoint_url and client is None:
            raise ValueError("the WebSocket management endpoint is required (MLOPS_BOT_WEBSOCKET_ENDPOINT)")
        self.endpoint_url = endpoint_url
        self._client: Any = client or boto3.client(
            "apigatewaymanagementapi", endpoint_url=endpoint_url, config=_CLIENT_CONFIG
        )

    def post(self, connection_id: str, data: bytes) -> None:
        """Send one message; `ConnectionGone` when the client has left."""
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as exc:
            if _gone(exc):
                raise ConnectionGone(connection_id) from exc
            raise

    def close(self, connection_id: str) -> None:
        """Close the connection from the server side (API Gateway then calls `$disconnect`)."""
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except ClientError as exc:
            if not _gone(exc):
                raise
