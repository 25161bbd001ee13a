"""The evidence ledger: append entries, sign and publish tree heads, build proofs (who may read which
entry is wuxin.services.evidence.ledger_access).

Signing key: one Ed25519 key per platform, generated on first use and kept in the database
(`ledger_keys`) encrypted with AES-256-GCM under a key derived from WUXIN_SECRET_KEY by
HKDF-SHA256; every process of the platform therefore signs with the same key, and a database
dump alone does not reveal it. Changing WUXIN_SECRET_KEY makes the key unreadable (the error
says so) rather than silently creating a second key.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Literal, TypeVar, overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from wuxin.bootstrap import Platform
from wuxin.errors import NotFound, WuxinError
from wuxin.ledger.evidence import canonical_json
from wuxin.ledger.merkle import LedgerError, leaf_hash, node_hash
from wuxin.ledger.proofs import InclusionProof, consistency_proof, inclusion_proof, proof_to_dict
from wuxin.ledger.signing import (
    SignedTreeHead,
    generate_private_key,
    private_key_from_bytes,
    public_key_bytes,
    sign_tree_head,
    verify_tree_head,
)
from wuxin.store.ledger_tree import SqlNodeStore, append_leaf_hash, with_tree
from wuxin.store.rows import LedgerEntryRow, TreeHeadRow
from wuxin.store.uow import UnitOfWork

T = TypeVar("T")

KEY_PURPOSE = "tree_head"
_HKDF_INFO = b"wuxin ledger signing key v1"


class LedgerKeyError(WuxinError):
    """The stored signing key cannot be decrypted (WUXIN_SECRET_KEY changed?)."""

    code = "ledger_key_unreadable"


# ---- appending ------------------------------------------------------------------------------------

# What each kind of entry reveals. The class and the owning tenant are kept beside the leaf (not in the
# hashed bytes); who may read an entry is decided by wuxin.services.evidence.ledger_access from the kind.
DATA_CLASSES = {
    "telemetry_batch": "device_data",
    "credit_decision": "credit",
    "credit_review": "credit",  # an override or a limit for four eyes, and its approval (services.credit_workflow)
    "pledge_change": "pledge",
    "alarm_action": "alarm",
    "device_command": "command",  # a command to a device: its request, decision, delivery and answer (services.commands)
    "business_import": "business",
    "epcis_event": "trace",
    "product_batch": "trace",
    "identity_issuance": "trace",
}
PLATFORM_CLASS = "platform"  # any other kind: a platform fact, for the platform admin


def data_class(kind: str) -> str:
    return DATA_CLASSES.get(kind, PLATFORM_CLASS)


def append_entry(
    uow: UnitOfWork,
    kind: str,
    subject: str,
    leaf_data: dict[str, Any],
    enterprise_id: int | None,
    now_ms: int,
    owner_tenant_id: int | None = None,
) -> int:
    """Append canonical_json(leaf_data) as one leaf in the caller's transaction; returns the leaf index.

    owner_tenant_id: the tenant whose business the entry records (None: the enterprise's or the platform's)."""
    text = canonical_json(leaf_data)
    index = append_leaf_hash(SqlNodeStore(uow.ledger), leaf_hash(text.encode("utf-8")))
    uow.ledger.add_entry(index, kind, subject, enterprise_id, owner_tenant_id, data_class(kind), text, now_ms)
    return index


def record(
    uow: UnitOfWork,
    kind: str,
    subject: str,
    data: dict[str, Any],
    enterprise_id: int | None,
    now_ms: int,
    owner_tenant_id: int | None = None,
) -> int:
    """Record a business fact (credit decision, alarm action, pledge change, import ...) as one leaf."""
    leaf = {"kind": kind, "subject": subject, "enterprise_id": enterprise_id, "at_ms": now_ms, "data": data}
    return append_entry(uow, kind, subject, leaf, enterprise_id, now_ms, owner_tenant_id)


# ---- the signing key and tree heads ----------------------------------------------------------------


def _wrapping_key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret_key.encode("utf-8"))


def _encrypt(secret_key: str, raw_key: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_wrapping_key(secret_key)).encrypt(nonce, raw_key, _HKDF_INFO)


def _decrypt(secret_key: str, blob: bytes) -> bytes:
    try:
        return AESGCM(_wrapping_key(secret_key)).decrypt(blob[:12], blob[12:], _HKDF_INFO)
    except InvalidTag:
        raise LedgerKeyError(
            "the ledger signing key cannot be decrypted with the current WUXIN_SECRET_KEY "
            "(it was created under another secret)"
        ) from None


def signing_key(platform: Platform) -> Ed25519PrivateKey:
    """The platform's tree-head key, created (and stored encrypted) on first use."""
    secret = platform.settings.secret_key
    with platform.uow() as uow:
        row = uow.ledger.signing_key(KEY_PURPOSE)
        if row is None:
            key = generate_private_key()
            raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            uow.ledger.add_signing_key(
                KEY_PURPOSE, public_key_bytes(key).hex(), _encrypt(secret, raw), platform.clock_ms()
            )
            uow.commit()
            row = uow.ledger.signing_key(KEY_PURPOSE)  # another process may have won the race
    if row is None:
        raise LedgerKeyError(f"the ledger signing key {KEY_PURPOSE!r} was stored but cannot be read back")
    return private_key_from_bytes(_decrypt(secret, bytes(row["encrypted_private_key"])))


def public_key_hex(platform: Platform) -> str:
    return public_key_bytes(signing_key(platform)).hex()


@overload
def publish_tree_head(platform: Platform, only_if_grown: Literal[False] = False) -> dict[str, Any]: ...
@overload
def publish_tree_head(platform: Platform, only_if_grown: bool) -> dict[str, Any] | None: ...
def publish_tree_head(platform: Platform, only_if_grown: bool = False) -> dict[str, Any] | None:
    """Sign the current tree head and store it; with only_if_grown, skip when the last head has this size."""
    key = signing_key(platform)
    with platform.uow() as uow:
        size = uow.ledger.lock_head()  # first statement a write: appends wait, SQLite takes its write lock
        latest = uow.ledger.latest_tree_head()
        if only_if_grown and latest is not None and latest["tree_size"] == size:
            return None
        head = _sign_and_store(platform, uow, key, size)
        uow.commit()
    platform.metrics.signed_head(head.tree_size, head.timestamp_ms)
    return proof_to_dict(head)


def show_latest_head_in_metrics(platform: Platform) -> None:
    """Set the ledger gauges from the newest stored head (at start, before this process signs one)."""
    with platform.uow() as uow:
        row = uow.ledger.latest_tree_head()
    if row is not None:
        platform.metrics.signed_head(row["tree_size"], row["timestamp_ms"])


def _sign_and_store(platform: Platform, uow: UnitOfWork, key: Ed25519PrivateKey, size: int) -> SignedTreeHead:
    root = with_tree(SqlNodeStore(uow.ledger), size, lambda tree: tree.root_hash())
    head = sign_tree_head(key, size, root, platform.clock_ms())
    uow.ledger.add_tree_head(
        tree_size=size,
        root_hash=root.hex(),
        timestamp_ms=head.timestamp_ms,
        signature=head.signature.hex(),
        public_key=head.public_key.hex(),
    )
    return head


def _head_from_row(row: TreeHeadRow) -> SignedTreeHead:
    return SignedTreeHead(
        row["tree_size"],
        bytes.fromhex(row["root_hash"]),
        row["timestamp_ms"],
        bytes.fromhex(row["signature"]),
        bytes.fromhex(row["public_key"]),
    )


def latest_tree_head(platform: Platform) -> dict[str, Any]:
    with platform.uow() as uow:
        row = uow.ledger.latest_tree_head()
    if row is None:
        raise NotFound("no tree head has been published yet (POST /api/v1/ledger/tree-heads)")
    return proof_to_dict(_head_from_row(row))


def tree_heads(platform: Platform, limit: int = 100) -> list[dict[str, Any]]:
    with platform.uow() as uow:
        return [proof_to_dict(_head_from_row(row)) for row in uow.ledger.tree_heads(limit)]


def _head_covering(platform: Platform, tree_size_needed: int) -> SignedTreeHead:
    """The newest published head of at least tree_size_needed leaves, signing a new one if none is."""
    with platform.uow() as uow:
        row = uow.ledger.latest_tree_head(tree_size_needed)
    if row is not None:
        return _head_from_row(row)
    publish_tree_head(platform)
    with platform.uow() as uow:
        return _head_from_row(
            _require(uow.ledger.latest_tree_head(tree_size_needed), f"tree head of size {tree_size_needed}")
        )


class _StreamingRoot:
    """RFC 9162 root of leaf hashes added in order, keeping only the complete subtrees' roots (log n memory)."""

    def __init__(self) -> None:
        self.size = 0
        self._subtrees: list[tuple[int, bytes]] = []  # (height, hash), left to right, heights decreasing

    def add(self, leaf: bytes) -> None:
        node, height = leaf, 0
        while self._subtrees and self._subtrees[-1][0] == height:
            node, height = node_hash(self._subtrees.pop()[1], node), height + 1
        self._subtrees.append((height, node))
        self.size += 1

    def root(self) -> bytes:
        if not self._subtrees:
            return hashlib.sha256(b"").digest()
        nodes = [node for _, node in self._subtrees]
        root = nodes.pop()
        while nodes:
            root = node_hash(nodes.pop(), root)
        return root


def verify_log(platform: Platform, chunk_leaves: int = 10_000) -> dict[str, Any]:
    """Recompute the newest signed tree head from the entries' own data (not the stored nodes), check the
    stored Merkle nodes give the same root and the signature verifies; raise LedgerError otherwise.
    Run after a restore: it proves the copy holds the whole, unaltered log."""
    with platform.uow() as uow:
        row = uow.ledger.latest_tree_head()
        size = uow.ledger.tree_size()
    if row is None:
        return {"tree_size": size, "verified_tree_size": 0}
    head = _head_from_row(row)
    verify_tree_head(head)
    root = _StreamingRoot()
    for first in range(0, head.tree_size, chunk_leaves):
        with platform.uow() as uow:
            leaves = uow.ledger.leaf_data(first, min(chunk_leaves, head.tree_size - first))
        if not leaves:
            raise LedgerError(f"ledger entries from leaf {first} are missing (the signed head has {head.tree_size})")
        for text in leaves:
            root.add(leaf_hash(text.encode("utf-8")))
    if root.size != head.tree_size or root.root() != head.root_hash:
        raise LedgerError(
            f"the entries' {root.size} leaves do not recompute the signed tree head of size "
            f"{head.tree_size} (root {head.root_hash.hex()})"
        )
    with platform.uow() as uow:
        stored_root = with_tree(SqlNodeStore(uow.ledger), head.tree_size, lambda t: t.root_hash())
    if stored_root != head.root_hash:
        raise LedgerError(
            f"the stored Merkle nodes give root {stored_root.hex()}, the signed head {head.root_hash.hex()}"
        )
    return {"tree_size": size, "verified_tree_size": head.tree_size, "root_hash": head.root_hash.hex()}


# ---- proofs -----------------------------------------------------------------------------------------


def consistency(platform: Platform, first_tree_size: int, second_tree_size: int | None = None) -> dict[str, Any]:
    """Consistency proof between two sizes (second: a published head's size, default the newest), head included."""
    if second_tree_size is None:
        head = _head_covering(platform, first_tree_size)
    else:
        with platform.uow() as uow:
            head = _head_from_row(
                _require(
                    uow.ledger.tree_head_of_size(second_tree_size), f"published tree head of size {second_tree_size}"
                )
            )
    if not 0 < first_tree_size <= head.tree_size:
        raise LedgerError(f"first tree size {first_tree_size} must be in 1..{head.tree_size}")
    with platform.uow() as uow:
        proof = with_tree(
            SqlNodeStore(uow.ledger),
            head.tree_size,
            lambda tree: consistency_proof(tree, first_tree_size, head.tree_size),
        )
    return proof_to_dict(proof) | {"tree_head": proof_to_dict(head)}


def _require(row: T | None, what: str) -> T:
    if row is None:
        raise NotFound(f"{what} does not exist")
    return row


def _inclusions(platform: Platform, entries: list[LedgerEntryRow]) -> tuple[list[dict[str, Any]], SignedTreeHead]:
    """Inclusion proofs of entries (with their leaf data) under one signed head that covers them all."""
    head = _head_covering(platform, max(e["leaf_index"] for e in entries) + 1)
    with platform.uow() as uow:
        store = SqlNodeStore(uow.ledger)
        proofs = [
            proof_to_dict(_inclusion_proof(store, e["leaf_index"], head.tree_size))
            | {"kind": e["kind"], "subject": e["subject"], "leaf_data": e["leaf_data"]}
            for e in entries
        ]
    return proofs, head


def _inclusion_proof(store: SqlNodeStore, leaf_index: int, tree_size: int) -> InclusionProof:
    return with_tree(store, tree_size, lambda tree: inclusion_proof(tree, leaf_index, tree_size))
