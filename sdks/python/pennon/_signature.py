"""Snapshot signatures: Ed25519 over the exact bytes, base64 (docs/sdk.md, Refresh 7a).

Verification uses the ``cryptography`` package, an optional extra
(``pip install 'pennon[signatures]'``): a client without a public key never needs it.
A client given a ``public_key`` without it fails at construction (``invalid_config``).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Optional

from pennon._errors import ClientError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def _decode(text: str) -> Optional[bytes]:
    trimmed = text.strip()
    if not _BASE64.match(trimmed) or len(trimmed) % 4 != 0:
        return None
    try:
        return base64.b64decode(trimmed, validate=True)
    except (binascii.Error, ValueError):
        return None


def _raw(text: str, size: int, code: str, what: str) -> bytes:
    """``text`` decoded from base64, which must give ``size`` bytes; else a ``code`` error."""
    raw = _decode(text)
    if raw is None:
        raise ClientError(code, f"{what} is not base64")
    if len(raw) != size:
        raise ClientError(code, f"{what} is malformed: {len(raw)} bytes, not {size}")
    return raw


def parse_public_key(text: object) -> "Ed25519PublicKey":
    """A base64 Ed25519 public key (32 bytes)."""
    if not isinstance(text, str):
        raise ClientError("invalid_public_key", "the public key must be a base64 string")
    raw = _raw(text, 32, "invalid_public_key", "the Ed25519 public key")
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError as error:
        raise ClientError(
            "invalid_config",
            "checking signatures (public_key) needs the `cryptography` package: "
            "pip install 'pennon[signatures]'",
        ) from error
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as error:
        raise ClientError("invalid_public_key", f"not an Ed25519 public key: {error}") from error


def verify_signature(key: "Ed25519PublicKey", body: bytes, signature: Optional[str]) -> None:
    """Checks ``signature`` (base64, 64 bytes) of ``body``; raises ``signature_invalid``."""
    from cryptography.exceptions import InvalidSignature

    if signature is None or signature.strip() == "":
        raise ClientError("signature_invalid", "the snapshot carries no signature and a public key is configured")
    raw = _raw(signature, 64, "signature_invalid", "the signature")
    try:
        key.verify(raw, body)
    except InvalidSignature:
        raise ClientError(
            "signature_invalid", "the snapshot's signature does not verify with the configured public key"
        ) from None
