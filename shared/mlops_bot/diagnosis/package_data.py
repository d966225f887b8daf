"""Read a data file shipped in this package without importing `importlib.resources` (~5 ms) on the CLI path.

The file sits next to the modules in every install the bot has (site-packages, the Lambda layer, an
editable checkout); `importlib.resources` is only the fallback for an import from an archive.
"""

from __future__ import annotations

import os


def read_text(name: str) -> str:
    """The text of `name`, a file of the ``mlops_bot.diagnosis`` package (FileNotFoundError if absent)."""
    try:
        with open(os.path.join(os.path.dirname(__file__), name), encoding="utf-8") as handle:
            return handle.read()
    except (FileNotFoundError, NotADirectoryError):
        from importlib import resources

        return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
