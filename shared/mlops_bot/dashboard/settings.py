"""What the dashboard functions read from the environment beyond the shared settings."""

from __future__ import annotations

from pydantic import Field

from mlops_bot.config import Settings


class DashboardSettings(Settings):
    """`MLOPS_BOT_WEBSOCKET_ENDPOINT` is set on the broadcaster only: the stage URL it posts to.

    `MLOPS_BOT_DASHBOARD_WEBSOCKET_URL` (`wss://...`) tells the `/dashboard` page where the
    WebSocket API lives when it is not the page's own host (in AWS it is a separate API); empty
    means the page's own host at `/ws/dashboard`, as the local stack serves it.
    """

    websocket_endpoint: str = Field(default="", alias="MLOPS_BOT_WEBSOCKET_ENDPOINT")
    dashboard_websocket_url: str = Field(default="", alias="MLOPS_BOT_DASHBOARD_WEBSOCKET_URL")


def get_dashboard_settings() -> DashboardSettings:
    """A fresh read of the environment, deliberately not cached process-wide.

    The functions keep theirs for the cold start (in `_deps`) and the page reads it per request,
    so nothing outlives a change of environment (the local stack restarts within one process).
    """
    return DashboardSettings()
