"""Every file in events/ runs through its function's handler with the expected result."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_bot.local.stack import DEFAULT_WEBHOOK_SECRET, LocalStack, StackConfig, free_port
from mlops_bot.webhooks.signature import verify

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
MANIFEST = json.loads((EVENTS / "manifest.json").read_text())
SAMPLES = [name for name in MANIFEST if not name.startswith("_")]


def test_every_sample_is_in_the_manifest() -> None:
    assert sorted(p.name for p in EVENTS.glob("*.json") if p.name != "manifest.json") == sorted(SAMPLES)


def test_webhook_samples_are_signed_with_the_local_secret() -> None:
    for name in SAMPLES:
        document = json.loads((EVENTS / name).read_text())
        if MANIFEST[name]["function"] == "WebhookIngressFunction":
            signature = document["headers"]["x-hub-signature-256"]
            assert verify(DEFAULT_WEBHOOK_SECRET, document["body"].encode(), signature), name


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    config = StackConfig(template_path=ROOT / "template.yaml", port=free_port())
    with LocalStack(config) as running:
        yield running


def test_samples_run_through_their_handlers(stack: LocalStack) -> None:
    for name in SAMPLES:  # in manifest order: the healer's sample heals the detector's incident
        expected = MANIFEST[name]
        result = stack.functions.invoke(expected["function"], json.loads((EVENTS / name).read_text()))
        for key, value in expected["expect"].items():
            assert result[key] == value, f"{name}: {key}={result.get(key)!r}, expected {value!r}"
