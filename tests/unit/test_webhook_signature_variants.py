"""Signature header variants a caller without the secret might try: each one refused."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from mlops_bot.webhooks.signature import sign, verify

SECRET = "It's a Secret to Everybody"
BODY = b"Hello, World!"
GOOD = sign(SECRET, BODY)


@pytest.mark.parametrize(
    "header",
    [
        "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(),  # X-Hub-Signature's value
        "sha256=",
        "sha256=" + GOOD[7:].upper(),  # GitHub sends lower-case hex
        "SHA256=" + GOOD[7:],
        GOOD + "00",
        GOOD[:-2],
        f"{GOOD},{GOOD}",  # two headers, as API Gateway joins them
        f"{sign('wrong', BODY)},{GOOD}",
        "sha256=" + "\u00e9" * 64,
        "sha256=" + "0" * 64,
    ],
    ids=[
        "sha1",
        "empty digest",
        "upper-case",
        "upper-case prefix",
        "too long",
        "too short",
        "two",
        "two, first wrong",
        "non-ascii",
        "zeros",
    ],
)
def test_a_malformed_or_foreign_signature_header_never_verifies(header: str) -> None:
    assert not verify(SECRET, BODY, header)
