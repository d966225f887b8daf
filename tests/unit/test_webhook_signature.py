from mlops_bot.webhooks.signature import sign, verify

GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_PAYLOAD = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_signature_matches_githubs_published_test_vector() -> None:
    assert sign(GITHUB_SECRET, GITHUB_PAYLOAD) == GITHUB_SIGNATURE
    assert verify(GITHUB_SECRET, GITHUB_PAYLOAD, GITHUB_SIGNATURE)


def test_tampered_body_wrong_secret_and_malformed_headers_are_rejected() -> None:
    assert not verify(GITHUB_SECRET, b"Hello, World?", GITHUB_SIGNATURE)
    assert not verify("another secret", GITHUB_PAYLOAD, GITHUB_SIGNATURE)
    assert not verify(GITHUB_SECRET, GITHUB_PAYLOAD, None)
    assert not verify(GITHUB_SECRET, GITHUB_PAYLOAD, "")
    assert not verify(GITHUB_SECRET, GITHUB_PAYLOAD, GITHUB_SIGNATURE.removeprefix("sha256="))
    assert not verify(GITHUB_SECRET, GITHUB_PAYLOAD, "sha1=" + GITHUB_SIGNATURE[7:])
    assert not verify(GITHUB_SECRET, GITHUB_PAYLOAD, GITHUB_SIGNATURE[:-1])


def test_an_empty_secret_never_verifies() -> None:
    assert not verify("", GITHUB_PAYLOAD, sign("", GITHUB_PAYLOAD))
