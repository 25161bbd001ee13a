"""Signed tree heads: Ed25519 over the RFC 6962 section 3.5 TreeHeadSignature structure.

The signed message is 50 bytes: version v1 (0x00), signature_type tree_hash (0x01),
uint64 timestamp_ms, uint64 tree_size (both big-endian), then the 32-byte root hash.
Keys and signatures travel as lowercase hex (raw 32-byte public key, 64-byte signature).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from wuxin.ledger.merkle import HASH_SIZE_BYTES, ProofFormatError, ProofVerificationError

_TREE_HEAD_PREFIX = b"\x00\x01"  # RFC 6962: Version v1 = 0, SignatureType tree_hash = 1
PUBLIC_KEY_SIZE_BYTES = 32
SIGNATURE_SIZE_BYTES = 64


@dataclass(frozen=True)
class SignedTreeHead:
    """A tree size and root hash at a time, signed by the ledger's Ed25519 key."""

    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    signature: bytes
    public_key: bytes


def tree_head_message(tree_size: int, root_hash: bytes, timestamp_ms: int) -> bytes:
    """The exact bytes signed for a tree head (RFC 6962 TreeHeadSignature, v1)."""
    if len(root_hash) != HASH_SIZE_BYTES:
        raise ProofFormatError(f"tree head root hash must be {HASH_SIZE_BYTES} bytes, got {len(root_hash)}")
    if not (0 <= tree_size < 2**64 and 0 <= timestamp_ms < 2**64):
        raise ProofFormatError(f"tree head tree_size {tree_size} / timestamp_ms {timestamp_ms} must fit uint64")
    return _TREE_HEAD_PREFIX + struct.pack(">QQ", timestamp_ms, tree_size) + root_hash


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 signing key (the caller stores it; see private_key_bytes)."""
    return Ed25519PrivateKey.generate()


def private_key_from_bytes(raw_key: bytes) -> Ed25519PrivateKey:
    """Load a raw 32-byte Ed25519 private key."""
    if len(raw_key) != 32:
        raise ProofFormatError(f"Ed25519 private key must be 32 bytes, got {len(raw_key)}")
    return Ed25519PrivateKey.from_private_bytes(raw_key)


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key of a signing key."""
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign_tree_head(
    private_key: Ed25519PrivateKey, tree_size: int, root_hash: bytes, timestamp_ms: int
) -> SignedTreeHead:
    """Sign (tree_size, root_hash, timestamp_ms); the clock is the caller's."""
    signature = private_key.sign(tree_head_message(tree_size, root_hash, timestamp_ms))
    return SignedTreeHead(tree_size, root_hash, timestamp_ms, signature, public_key_bytes(private_key))


def verify_tree_head(head: SignedTreeHead, trusted_public_key: bytes | None = None) -> None:
    """Raise ProofVerificationError unless the signature (and the key, if pinned) is good."""
    if trusted_public_key is not None and head.public_key != trusted_public_key:
        raise ProofVerificationError(
            f"tree head signed by key {head.public_key.hex()}, want trusted key {trusted_public_key.hex()}"
        )
    _check_length("public_key", head.public_key, PUBLIC_KEY_SIZE_BYTES)
    _check_length("signature", head.signature, SIGNATURE_SIZE_BYTES)
    message = tree_head_message(head.tree_size, head.root_hash, head.timestamp_ms)
    try:
        Ed25519PublicKey.from_public_bytes(head.public_key).verify(head.signature, message)
    except InvalidSignature:
        raise ProofVerificationError(
            f"tree head signature does not verify for tree_size {head.tree_size}, "
            f"root {head.root_hash.hex()}, timestamp_ms {head.timestamp_ms}"
        ) from None


def _check_length(field: str, value: bytes, size_bytes: int) -> None:
    if len(value) != size_bytes:
        raise ProofFormatError(f"tree head {field} must be {size_bytes} bytes, got {len(value)}")
