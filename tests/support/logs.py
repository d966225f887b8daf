"""Capturing what the functions log, wherever their handlers were first bound.

powertools attaches one stream handler per service logger, bound to the `sys.stdout` of the moment
the first handler module loaded (under pytest, some earlier test's capture). Tests that read the
logs retarget those handlers to a buffer of their own for their duration.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

SERVICES = ("webhook-ingress", "detector", "healer", "playbook-actions", "management-api", "scheduler")


@contextmanager
def service_logs(services: tuple[str, ...] = SERVICES) -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    swapped: list[tuple[logging.StreamHandler[io.TextIOBase], object]] = []
    for name in services:
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                swapped.append((handler, handler.setStream(buffer)))
    try:
        yield buffer
    finally:
        for handler, stream in swapped:
            handler.setStream(stream)  # type: ignore[arg-type]
