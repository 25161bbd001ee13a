"""Response models of the evidence ledger (/api/v1/ledger): signed tree heads and RFC 9162 proofs, every hash and
signature as lowercase hex, so that a verifier outside the platform can check them (docs/design.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PublicKey(BaseModel):
    algorithm: str = Field(description="Always 'Ed25519'", examples=["Ed25519"])
    public_key: str = Field(description="The raw 32-byte public key, hex")


class TreeHead(BaseModel):
    """A signed tree head: the log's size and root hash at a time, signed with the ledger's Ed25519 key."""

    type: str = Field(description="Always 'tree_head'", examples=["tree_head"])
    tree_size: int = Field(description="Number of leaves the head covers")
    root_hash: str = Field(description="RFC 9162 Merkle root (SHA-256), hex")
    timestamp_ms: int = Field(description="When the head was signed, epoch ms")
    signature: str = Field(description="Ed25519 signature of the head, hex")
    public_key: str = Field(description="The key that signed it, hex (GET /api/v1/ledger/public-key)")


class ConsistencyProof(BaseModel):
    type: str = Field(description="Always 'consistency'", examples=["consistency"])
    first_tree_size: int
    second_tree_size: int
    first_root_hash: str = Field(description="Root hash of the first tree, hex")
    second_root_hash: str = Field(description="Root hash of the second tree, hex")
    consistency_path: list[str] = Field(description="RFC 9162 consistency path, hex nodes")
    tree_head: TreeHead = Field(description="The signed head of the second tree")


class EntryInclusion(BaseModel):
    """One ledger entry with its RFC 9162 inclusion proof."""

    type: str = Field(description="Always 'inclusion'", examples=["inclusion"])
    leaf_index: int
    tree_size: int = Field(description="Size of the tree the proof is against")
    leaf_hash: str = Field(description="SHA-256 of 0x00 || leaf_data, hex")
    inclusion_path: list[str] = Field(description="Sibling hashes from the leaf to the root, hex")
    root_hash: str = Field(description="Root hash of the tree of `tree_size` leaves, hex")
    kind: str = Field(description="What the entry records: telemetry_batch, credit_decision, pledge_change ...")
    subject: str = Field(description="What the entry is about, e.g. 'decision:12' or 'batch:7'")
    leaf_data: str = Field(description="The canonical JSON the leaf hashes")


class EntryProof(EntryInclusion):
    tree_head: TreeHead = Field(description="The signed head the proof is against")


class EvidenceBundle(BaseModel):
    type: str = Field(description="Always 'evidence_bundle'", examples=["evidence_bundle"])
    subject: str
    entries: list[EntryInclusion] = Field(description="The subject's entries and those of its inputs")
    withheld_inputs: list[str] = Field(description="Subjects of inputs the caller may not read (named, not shown)")
    tree_head: TreeHead


class DevicePoints(BaseModel):
    batch_id: int
    device: str = Field(description="The device key")
    device_id: int
    points_digest: str = Field(description="SHA-256 of the device's points in the batch, recomputed now, hex")
    commitment: str = Field(description="The device's commitment the batch leaf should list, hex")
    in_leaf: bool = Field(description="Whether the recomputed commitment is in the batch leaf")
    readings: list[list[Any]] = Field(description="[key, ts_ms, numeric value, text value] per stored reading")
    events: list[list[Any]] = Field(description="[name, ts_ms, params] per stored event")


class TelemetryProof(EntryProof):
    points: DevicePoints = Field(description="The device's points under the batch and their digest")
