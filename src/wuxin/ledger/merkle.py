"""Append-only Merkle log with RFC 9162 hashing, built on a pluggable store of subtree hashes.

Every complete (perfect, aligned) subtree is stored once as `(level, index) -> hash` when the
leaf that completes it is appended: leaf i is node (0, i), and node (level, index) covers leaves
[index * 2**level, (index + 1) * 2**level). An append writes one leaf node plus one node per
subtree it completes (amortised 2 nodes per append), and the root, inclusion proofs and
consistency proofs of any tree size <= the current size come from O(log n) stored nodes each,
because every RFC 9162 subtree is either perfect (stored) or a right edge made of
O(log n) stored perfect subtrees. No leaf is ever rehashed.

    >>> tree = MerkleTree(InMemoryNodeStore())
    >>> tree.append(b"hello")
    0
    >>> tree.root_hash().hex()[:16]
    '8a2a5c9b768827de'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

from wuxin.errors import InvalidInput, WuxinError

HASH_SIZE_BYTES = 32
EMPTY_ROOT_HASH = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

NodeKey = tuple[int, int]
NodeRow = tuple[int, int, bytes]


class LedgerError(WuxinError):
    """A ledger operation was asked something impossible (e.g. a proof beyond the tree size)."""

    status_code = 422
    code = "ledger_error"


class ProofFormatError(InvalidInput):
    """An exported proof or tree head is malformed (missing field, bad hex, wrong length)."""

    code = "malformed_proof"


class ProofVerificationError(WuxinError):
    """A well-formed proof or signature does not verify."""

    status_code = 422
    code = "proof_invalid"


def leaf_hash(leaf_data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + leaf_data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2), the RFC 9162 split point k."""
    return 1 << ((n - 1).bit_length() - 1)


class NodeStore(Protocol):
    """Where subtree hashes live: (level, index) -> 32-byte hash; nodes are written once."""

    def get(self, level: int, index: int) -> bytes:
        """The hash of node (level, index); raises KeyError when it was never stored."""
        ...

    def put_many(self, rows: Sequence[NodeRow]) -> None:
        """Store (level, index, hash) rows, in the order appends produced them."""
        ...


class InMemoryNodeStore:
    """A NodeStore holding one bytearray per level (32 bytes per node, ~64 bytes per leaf)."""

    def __init__(self) -> None:
        self._levels: list[bytearray] = []

    def get(self, level: int, index: int) -> bytes:
        """The hash of node (level, index); raises KeyError when it was never stored."""
        offset = index * HASH_SIZE_BYTES
        if level >= len(self._levels) or index < 0 or offset >= len(self._levels[level]):
            raise KeyError(f"Merkle node (level={level}, index={index}) is not stored")
        return bytes(self._levels[level][offset : offset + HASH_SIZE_BYTES])

    def put_many(self, rows: Sequence[NodeRow]) -> None:
        """Store rows; each must be the next node of its level or rewrite an existing one."""
        for level, index, node in rows:
            self._put(level, index, node)

    def node_count(self, level: int) -> int:
        """How many nodes are stored at this level."""
        return len(self._levels[level]) // HASH_SIZE_BYTES if level < len(self._levels) else 0

    def stored_bytes(self) -> int:
        """Bytes of hashes held, all levels together."""
        return sum(len(row) for row in self._levels)

    def _put(self, level: int, index: int, node: bytes) -> None:
        while level >= len(self._levels):
            self._levels.append(bytearray())
        row = self._levels[level]
        offset = index * HASH_SIZE_BYTES
        if offset == len(row):
            row += node
        elif offset < len(row):
            row[offset : offset + HASH_SIZE_BYTES] = node
        else:
            raise LedgerError(f"Merkle node (level={level}, index={index}) leaves a gap: level holds {len(row) // 32}")


def completed_nodes(index: int, leaf: bytes, frontier: list[bytes]) -> list[NodeRow]:
    """Rows written when leaf hash `leaf` is appended at `index`; updates `frontier` in place.

    `frontier` holds the hashes of the right-edge perfect subtrees, largest first (one per set
    bit of the tree size, like a compact range).
    """
    rows: list[NodeRow] = [(0, index, leaf)]
    node, level = leaf, 0
    while index & 1:
        node = node_hash(frontier.pop(), node)
        index >>= 1
        level += 1
        rows.append((level, index, node))
    frontier.append(node)
    return rows


def frontier_keys(tree_size: int) -> list[NodeKey]:
    """The (level, index) of the perfect subtrees that tile [0, tree_size), largest first."""
    return [
        (level, (tree_size >> level) - 1) for level in reversed(range(tree_size.bit_length())) if tree_size >> level & 1
    ]


class MerkleTree:
    """An append-only RFC 9162 Merkle tree over a NodeStore; proofs for any size <= size."""

    def __init__(self, store: NodeStore, tree_size: int = 0) -> None:
        self.store = store
        self.size = tree_size
        self._frontier = [store.get(level, index) for level, index in frontier_keys(tree_size)]

    def append(self, leaf_data: bytes) -> int:
        """Append one leaf's data; returns its leaf index."""
        return self.append_leaf_hashes([leaf_hash(leaf_data)])

    def append_leaf_hashes(self, leaf_hashes: Iterable[bytes]) -> int:
        """Append already-hashed leaves in one store write; returns the index of the first."""
        first_index = self.size
        rows: list[NodeRow] = []
        for leaf in leaf_hashes:
            _check_hash_length("leaf hash", leaf)
            rows += completed_nodes(self.size, leaf, self._frontier)
            self.size += 1
        self.store.put_many(rows)
        return first_index

    def leaf_hash_at(self, leaf_index: int) -> bytes:
        """The stored leaf hash at leaf_index."""
        self._check_size("leaf index", leaf_index + 1)
        return self.store.get(0, leaf_index)

    def root_hash(self, tree_size: int | None = None) -> bytes:
        """MTH of the first tree_size leaves (default: all)."""
        tree_size = self.size if tree_size is None else tree_size
        self._check_size("tree size", tree_size)
        return self._range_hash(0, tree_size)

    def inclusion_path(self, leaf_index: int, tree_size: int | None = None) -> list[bytes]:
        """RFC 9162 2.1.3.1 PATH(leaf_index, D[tree_size]), leaf-level sibling first."""
        tree_size = self.size if tree_size is None else tree_size
        self._check_size("tree size", tree_size)
        if not 0 <= leaf_index < tree_size:
            raise LedgerError(f"leaf index {leaf_index} is outside a tree of size {tree_size}")
        path, low, high = [], 0, tree_size
        while high - low > 1:
            k = largest_power_of_two_below(high - low)
            if leaf_index < low + k:
                path.append(self._range_hash(low + k, high))
                high = low + k
            else:
                path.append(self._range_hash(low, low + k))
                low += k
        return path[::-1]

    def consistency_path(self, first_tree_size: int, second_tree_size: int | None = None) -> list[bytes]:
        """RFC 9162 2.1.4.1 PROOF(first_tree_size, D[second_tree_size]), deepest node first."""
        second_tree_size = self.size if second_tree_size is None else second_tree_size
        self._check_size("second tree size", second_tree_size)
        if not 0 < first_tree_size <= second_tree_size:
            raise LedgerError(f"first tree size {first_tree_size} must be in 1..{second_tree_size}")
        path, low, high, first_is_whole = [], 0, second_tree_size, True
        while first_tree_size - low != high - low:
            k = largest_power_of_two_below(high - low)
            if first_tree_size - low <= k:
                path.append(self._range_hash(low + k, high))
                high = low + k
            else:
                path.append(self._range_hash(low, low + k))
                low, first_is_whole = low + k, False
        if not first_is_whole:
            path.append(self._range_hash(low, high))
        return path[::-1]

    def _range_hash(self, low: int, high: int) -> bytes:
        """MTH(D[low:high]) for an RFC 9162 subtree (low aligned), from stored perfect subtrees."""
        if high == low:
            return EMPTY_ROOT_HASH
        nodes, position, width = [], low, high - low
        for level in reversed(range(width.bit_length())):
            if width >> level & 1:
                nodes.append(self.store.get(level, position >> level))
                position += 1 << level
        root = nodes.pop()
        while nodes:
            root = node_hash(nodes.pop(), root)
        return root

    def _check_size(self, what: str, tree_size: int) -> None:
        if not 0 <= tree_size <= self.size:
            raise LedgerError(f"{what} {tree_size} is beyond the ledger size {self.size}")


def verify_inclusion(leaf_index: int, tree_size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> None:
    """Check an RFC 9162 2.1.3.2 inclusion proof; raises ProofVerificationError with the reason."""
    if not 0 <= leaf_index < tree_size:
        raise ProofVerificationError(f"leaf index {leaf_index} is outside a tree of size {tree_size}")
    _check_hash_length("leaf hash", leaf, ProofVerificationError)
    computed = root_from_inclusion_path(leaf_index, tree_size, leaf, path)
    if computed != root:
        raise ProofVerificationError(f"inclusion proof mismatch: computed root {computed.hex()}, want {root.hex()}")


def root_from_inclusion_path(leaf_index: int, tree_size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion path (RFC 9162 2.1.3.2 steps 1-4)."""
    fn, sn, root = leaf_index, tree_size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ProofVerificationError(f"inclusion path too long: {len(path)} nodes for tree size {tree_size}")
        if fn & 1 or fn == sn:
            root = node_hash(sibling, root)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            root = node_hash(root, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofVerificationError(f"inclusion path too short: {len(path)} nodes for tree size {tree_size}")
    return root


def verify_consistency(
    first_tree_size: int, second_tree_size: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> None:
    """Check an RFC 9162 2.1.4.2 consistency proof; raises ProofVerificationError with the reason."""
    _check_consistency_sizes(first_tree_size, second_tree_size)
    if first_tree_size == second_tree_size:
        _check_equal_trees(first_root, second_root, path)
        return
    if not path:
        raise ProofVerificationError(f"empty consistency path for sizes {first_tree_size} < {second_tree_size}")
    first, second = roots_from_consistency_path(first_tree_size, second_tree_size, first_root, path)
    if first != first_root:
        raise ProofVerificationError(
            f"consistency proof mismatch: computed first root {first.hex()}, want {first_root.hex()}"
        )
    if second != second_root:
        raise ProofVerificationError(
            f"consistency proof mismatch: computed second root {second.hex()}, want {second_root.hex()}"
        )


def roots_from_consistency_path(
    first_tree_size: int, second_tree_size: int, first_root: bytes, path: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """The (first, second) roots implied by a consistency path (RFC 9162 2.1.4.2 steps 2-7)."""
    nodes = list(path)
    if first_tree_size & (first_tree_size - 1) == 0:
        nodes.insert(0, first_root)
    fn, sn = first_tree_size - 1, second_tree_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = nodes[0]
    for node in nodes[1:]:
        if sn == 0:
            raise ProofVerificationError(f"consistency path too long: {len(path)} nodes")
        if fn & 1 or fn == sn:
            first, second = node_hash(node, first), node_hash(node, second)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, node)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofVerificationError(f"consistency path too short: {len(path)} nodes")
    return first, second


def _check_consistency_sizes(first_tree_size: int, second_tree_size: int) -> None:
    if first_tree_size < 1:
        raise ProofVerificationError(f"first tree size {first_tree_size} proves nothing: it must be >= 1")
    if second_tree_size < first_tree_size:
        raise ProofVerificationError(
            f"second tree size {second_tree_size} is smaller than first tree size {first_tree_size}"
        )


def _check_equal_trees(first_root: bytes, second_root: bytes, path: Sequence[bytes]) -> None:
    if path:
        raise ProofVerificationError(f"equal tree sizes need an empty consistency path, got {len(path)} nodes")
    if first_root != second_root:
        raise ProofVerificationError(f"equal tree sizes but roots differ: {first_root.hex()} != {second_root.hex()}")


def _check_hash_length(what: str, value: bytes, error: type[WuxinError] = LedgerError) -> None:
    if len(value) != HASH_SIZE_BYTES:
        raise error(f"{what} must be {HASH_SIZE_BYTES} bytes, got {len(value)}")
