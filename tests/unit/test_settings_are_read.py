"""No setting the bot accepts and then ignores: every field of the settings models is read somewhere."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from mlops_bot.dashboard.settings import DashboardSettings
from mlops_bot.management.platform.settings import ManagementSettings

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*(ROOT / "shared" / "mlops_bot").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]


def unread_fields(model: type[BaseModel], sources: list[Path]) -> set[str]:
    text = "\n".join(path.read_text() for path in sources)
    return {name for name in model.model_fields if not re.search(rf"\.{name}\b", text)}


def test_every_setting_is_read_by_the_code() -> None:
    # ManagementSettings extends the shared Settings and AccessSettings: all three are covered.
    assert unread_fields(ManagementSettings, SOURCES) == set()
    assert unread_fields(DashboardSettings, SOURCES) == set()


def test_the_check_sees_an_ignored_setting(tmp_path: Path) -> None:
    class Sample(BaseModel):
        used: int = 1
        ignored: int = 2

    code = tmp_path / "code.py"
    code.write_text("def f(settings):\n    return settings.used\n")
    assert unread_fields(Sample, [code]) == {"ignored"}
