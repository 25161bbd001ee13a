"""Exported proofs as JSON (hex strings) and their offline verification, with no database.

Three document types, told apart by "type":
  inclusion:   leaf_index, tree_size, leaf_hash, inclusion_path [hex...], root_hash
  consistency: first_tree_size, second_tree_size, first_root_hash, second_root_hash,
               consistency_path [hex...]
  tree_head:   tree_size, root_hash, timestamp_ms, signature, public_key
An inclusion or consistency document may carry a "tree_head" object (the signed head of its
tree_size / second_tree_size); it is then verified too and must match the proof's root.
An inclusion document may carry "leaf_data" (the exact text the leaf hashes, checked) and, for a
telemetry batch, "points" (one device's stored points: their digest's commitment must be listed
in the leaf, see wuxin.ledger.evidence).
  evidence_bundle: subject, entries [inclusion documents with leaf_data], tree_head — every
               entry must verify against the one signed head.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wuxin.ledger.evidence import device_commitment, points_digest
from wuxin.ledger.merkle import (
    HASH_SIZE_BYTES,
    MerkleTree,
    ProofFormatError,
    ProofVerificationError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from wuxin.ledger.signing import (
    PUBLIC_KEY_SIZE_BYTES,
    SIGNATURE_SIZE_BYTES,
    SignedTreeHead,
    verify_tree_head,
)


@dataclass(frozen=True)
class InclusionProof:
    """Leaf `leaf_hash` sits at `leaf_index` in the tree of `tree_size` leaves with `root_hash`."""

    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    inclusion_path: tuple[bytes, ...]
    root_hash: bytes


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of `second_tree_size` leaves extends the tree of `first_tree_size` leaves."""

    first_tree_size: int
    second_tree_size: int
    first_root_hash: bytes
    second_root_hash: bytes
    consistency_path: tuple[bytes, ...]


def inclusion_proof(tree: MerkleTree, leaf_index: int, tree_size: int | None = None) -> InclusionProof:
    """Build the inclusion proof of leaf_index in the tree's first tree_size leaves (default all)."""
    tree_size = tree.size if tree_size is None else tree_size
    path = tree.inclusion_path(leaf_index, tree_size)
    return InclusionProof(leaf_index, tree_size, tree.leaf_hash_at(leaf_index), tuple(path), tree.root_hash(tree_size))


def consistency_proof(tree: MerkleTree, first_tree_size: int, second_tree_size: int | None = None) -> ConsistencyProof:
    """Build the consistency proof between two sizes of the tree (second defaults to its size)."""
    second_tree_size = tree.size if second_tree_size is None else second_tree_size
    path = tree.consistency_path(first_tree_size, second_tree_size)
    return ConsistencyProof(
        first_tree_size,
        second_tree_size,
        tree.root_hash(first_tree_size),
        tree.root_hash(second_tree_size),
        tuple(path),
    )


def proof_to_dict(proof: InclusionProof | ConsistencyProof | SignedTreeHead) -> dict[str, Any]:
    """The JSON-ready export of a proof or signed tree head (bytes as lowercase hex)."""
    if isinstance(proof, InclusionProof):
        return {
            "type": "inclusion",
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_hash": proof.leaf_hash.hex(),
            "inclusion_path": [node.hex() for node in proof.inclusion_path],
            "root_hash": proof.root_hash.hex(),
        }
    if isinstance(proof, ConsistencyProof):
        return {
            "type": "consistency",
            "first_tree_size": proof.first_tree_size,
            "second_tree_size": proof.second_tree_size,
            "first_root_hash": proof.first_root_hash.hex(),
            "second_root_hash": proof.second_root_hash.hex(),
            "consistency_path": [node.hex() for node in proof.consistency_path],
        }
    return {
        "type": "tree_head",
        "tree_size": proof.tree_size,
        "root_hash": proof.root_hash.hex(),
        "timestamp_ms": proof.timestamp_ms,
        "signature": proof.signature.hex(),
        "public_key": proof.public_key.hex(),
    }


def proof_to_json(
    proof: InclusionProof | ConsistencyProof | SignedTreeHead, tree_head: SignedTreeHead | None = None
) -> str:
    """The exported JSON text of a proof, optionally with the signed head that vouches for its root."""
    document = proof_to_dict(proof)
    if tree_head is not None:
        document["tree_head"] = proof_to_dict(tree_head)
    return json.dumps(document, indent=2)


def proof_from_dict(document: Any) -> InclusionProof | ConsistencyProof | SignedTreeHead:
    """Parse an exported proof; raises ProofFormatError naming the bad field and value."""
    if not isinstance(document, dict):
        raise ProofFormatError(f"proof document must be a JSON object, got {type(document).__name__}")
    kind = document.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise ProofFormatError(f"proof field 'type' is {kind!r}, want one of {sorted(_PARSERS)}")
    return parser(document)


def verify_proof(proof: InclusionProof | ConsistencyProof | SignedTreeHead) -> None:
    """Raise ProofVerificationError with the reason unless the proof verifies."""
    if isinstance(proof, InclusionProof):
        verify_inclusion(proof.leaf_index, proof.tree_size, proof.leaf_hash, proof.inclusion_path, proof.root_hash)
    elif isinstance(proof, ConsistencyProof):
        verify_consistency(
            proof.first_tree_size,
            proof.second_tree_size,
            proof.first_root_hash,
            proof.second_root_hash,
            proof.consistency_path,
        )
    else:
        verify_tree_head(proof)


def verify_document(document: Any, trusted_public_key: bytes | None = None) -> str:
    """Verify a parsed proof document (and its embedded tree_head); returns a one-line summary."""
    if isinstance(document, dict) and document.get("type") == "evidence_bundle":
        return verify_bundle(document, trusted_public_key)
    proof = proof_from_dict(document)
    if isinstance(proof, SignedTreeHead):
        verify_tree_head(proof, trusted_public_key)
        return (
            f"valid tree head: size {proof.tree_size}, root {proof.root_hash.hex()}, signed by {proof.public_key.hex()}"
        )
    verify_proof(proof)
    summary = _summary(proof) + _verify_leaf_content(document, proof)
    if "tree_head" in document:
        head = _parse_tree_head(_field(document, "tree_head", dict))
        verify_tree_head(head, trusted_public_key)
        _check_head_matches(proof, head)
        summary += f"; signed tree head by {head.public_key.hex()}"
    elif trusted_public_key is not None:
        raise ProofVerificationError("a trusted public key was given but the proof carries no tree_head")
    return summary


def verify_bundle(document: dict[str, Any], trusted_public_key: bytes | None = None) -> str:
    """Verify an evidence bundle: a signed head, and entries whose inclusion proofs all lead to its root."""
    head = _parse_tree_head(_field(document, "tree_head", dict))
    verify_tree_head(head, trusted_public_key)
    entries = _field(document, "entries", list)
    if not entries:
        raise ProofFormatError("evidence bundle has no entries")
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("type") != "inclusion":
            raise ProofFormatError(f"evidence bundle entry {position} is not an inclusion proof")
        if "leaf_data" not in entry:
            raise ProofFormatError(f"evidence bundle entry {position} carries no leaf_data")
        proof = _parse_inclusion(entry)
        verify_proof(proof)
        _verify_leaf_content(entry, proof)
        _check_head_matches(proof, head)
    return (
        f"valid evidence bundle for {document.get('subject')!r}: {len(entries)} entries in tree of size "
        f"{head.tree_size}; signed tree head by {head.public_key.hex()}"
    )


def _verify_leaf_content(document: dict[str, Any], proof: Any) -> str:
    """Check an inclusion proof's optional leaf_data (and telemetry points) against its leaf hash."""
    if not isinstance(proof, InclusionProof) or "leaf_data" not in document:
        return ""
    leaf_data = _field(document, "leaf_data", str)
    if leaf_hash(leaf_data.encode("utf-8")) != proof.leaf_hash:
        raise ProofVerificationError(f"leaf_data does not hash to leaf_hash {proof.leaf_hash.hex()}")
    if "points" not in document:
        return "; leaf data matches"
    return "; leaf data matches; " + _verify_points(_field(document, "points", dict), leaf_data)


def _verify_points(points: dict[str, Any], leaf_data: str) -> str:
    """Recompute a device's points digest and find its commitment in the batch leaf."""
    readings, events = _field(points, "readings", list), _field(points, "events", list)
    try:
        digest = points_digest([tuple(r) for r in readings], [tuple(e) for e in events])
        commitment = device_commitment(_size(points, "device_id"), digest)
        listed = json.loads(leaf_data).get("device_commitments", [])
    except (TypeError, ValueError) as error:
        raise ProofFormatError(f"points cannot be read: {error}") from None
    if commitment not in listed:
        raise ProofVerificationError(
            f"the points of device {points.get('device')!r} (digest {digest}) are not committed to by the leaf"
        )
    return f"{len(readings)} readings and {len(events)} events of device {points.get('device')!r} committed"


def verify_json(text: str | bytes, trusted_public_key: bytes | None = None) -> str:
    """Verify an exported proof's JSON text; raises ProofFormatError or ProofVerificationError."""
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise ProofFormatError(f"proof file is not valid JSON: {error}") from None
    return verify_document(document, trusted_public_key)


def _summary(proof: InclusionProof | ConsistencyProof) -> str:
    if isinstance(proof, InclusionProof):
        return f"valid inclusion proof: leaf {proof.leaf_index} in tree of size {proof.tree_size}"
    return f"valid consistency proof: tree size {proof.first_tree_size} -> {proof.second_tree_size}"


def _check_head_matches(proof: InclusionProof | ConsistencyProof, head: SignedTreeHead) -> None:
    if isinstance(proof, InclusionProof):
        size, root = proof.tree_size, proof.root_hash
    else:
        size, root = proof.second_tree_size, proof.second_root_hash
    if (head.tree_size, head.root_hash) != (size, root):
        raise ProofVerificationError(
            f"tree_head (size {head.tree_size}, root {head.root_hash.hex()}) does not match the proof "
            f"(size {size}, root {root.hex()})"
        )


def _parse_inclusion(document: dict[str, Any]) -> InclusionProof:
    return InclusionProof(
        _size(document, "leaf_index"),
        _size(document, "tree_size"),
        _hash(document, "leaf_hash"),
        _hash_list(document, "inclusion_path"),
        _hash(document, "root_hash"),
    )


def _parse_consistency(document: dict[str, Any]) -> ConsistencyProof:
    return ConsistencyProof(
        _size(document, "first_tree_size"),
        _size(document, "second_tree_size"),
        _hash(document, "first_root_hash"),
        _hash(document, "second_root_hash"),
        _hash_list(document, "consistency_path"),
    )


def _parse_tree_head(document: dict[str, Any]) -> SignedTreeHead:
    return SignedTreeHead(
        _size(document, "tree_size"),
        _hash(document, "root_hash"),
        _size(document, "timestamp_ms"),
        _hex(document, "signature", SIGNATURE_SIZE_BYTES),
        _hex(document, "public_key", PUBLIC_KEY_SIZE_BYTES),
    )


_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")
_PARSERS: dict[str, Callable[[dict], InclusionProof | ConsistencyProof | SignedTreeHead]] = {
    "inclusion": _parse_inclusion,
    "consistency": _parse_consistency,
    "tree_head": _parse_tree_head,
}


def _field(document: dict[str, Any], name: str, kind: type) -> Any:
    if name not in document:
        raise ProofFormatError(f"proof field '{name}' is missing")
    value = document[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ProofFormatError(f"proof field '{name}' must be {kind.__name__}, got {value!r}")
    return value


def _size(document: dict[str, Any], name: str) -> int:
    value = _field(document, name, int)
    if not 0 <= value < 2**64:
        raise ProofFormatError(f"proof field '{name}' must be in 0..2^64-1, got {value}")
    return value


def _hash(document: dict[str, Any], name: str) -> bytes:
    return _hex(document, name, HASH_SIZE_BYTES)


def _hex(document: dict[str, Any], name: str, size_bytes: int) -> bytes:
    return _decode_hex(name, _field(document, name, str), size_bytes)


def _hash_list(document: dict[str, Any], name: str) -> tuple[bytes, ...]:
    items = _field(document, name, list)
    return tuple(_decode_hex(f"{name}[{i}]", item, HASH_SIZE_BYTES) for i, item in enumerate(items))


def _decode_hex(name: str, text: Any, size_bytes: int) -> bytes:
    if not isinstance(text, str):
        raise ProofFormatError(f"proof field '{name}' must be a hex string, got {text!r}")
    if not _HEX.fullmatch(text):
        raise ProofFormatError(f"proof field '{name}' is not hex: {text[:80]!r}")
    value = bytes.fromhex(text)
    if len(value) != size_bytes:
        raise ProofFormatError(f"proof field '{name}' must be {size_bytes} bytes, got {len(value)}")
    return value
