"""Signing digests with an asymmetric KMS key (ECC_NIST_P256, ECDSA_SHA_256).

The private key never leaves KMS; anyone holding the public key (`kms get-public-key`) can check a
signature offline, which is what an external auditor needs.
"""

from __future__ import annotations

import base64
from typing import Any

from botocore.exceptions import ClientError

ALGORITHM = "ECDSA_SHA_256"


class KmsSigner:
    algorithm = ALGORITHM

    def __init__(self, key_id: str, client: Any | None = None) -> None:
        self.key_id = key_id
        if client is None:
            import boto3  # at the first signer built, not at import (cold start)

            client = boto3.client("kms")
        self._kms = client

    def sign(self, digest: bytes) -> str:
        response = self._kms.sign(KeyId=self.key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm=ALGORITHM)
        return base64.b64encode(response["Signature"]).decode()

    def verify(self, digest: bytes, signature: str) -> bool:
        try:
            raw = base64.b64decode(signature, validate=True)
        except ValueError:
            return False
        try:
            response = self._kms.verify(
                KeyId=self.key_id, Message=digest, MessageType="DIGEST", Signature=raw, SigningAlgorithm=ALGORITHM
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "KMSInvalidSignatureException":
                return False
            raise
        return bool(response.get("SignatureValid"))
