"""A real signer for compliance tests: HMAC-SHA256 stands in for the KMS key (only its holder can sign)."""

from __future__ import annotations

import base64
import hashlib
import hmac


class HmacSigner:
    key_id = "test-key"
    algorithm = "HMAC_SHA_256"

    def __init__(self, secret: bytes = b"compliance-test-key") -> None:
        self._secret = secret

    def sign(self, digest: bytes) -> str:
        return base64.b64encode(hmac.new(self._secret, digest, hashlib.sha256).digest()).decode()

    def verify(self, digest: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.sign(digest), signature)
