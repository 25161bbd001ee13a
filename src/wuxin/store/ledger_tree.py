"""The Merkle log on the database (the tree algorithm is wuxin.ledger.merkle): a NodeStore over LedgerRepo, appends under the head lock,
and proofs that fetch every node they need in one round trip.

Proof building runs the tree algorithm twice: once against a store that only records which
(level, index) keys it is asked for (the keys depend on sizes, never on hash values), then
against those nodes fetched with one `get_many`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from wuxin.ledger.merkle import HASH_SIZE_BYTES, MerkleTree, NodeKey, NodeRow, completed_nodes, frontier_keys
from wuxin.store.repo_ledger import LedgerRepo

T = TypeVar("T")


class SqlNodeStore:
    """A NodeStore whose nodes live in the `ledger_nodes` table."""

    def __init__(self, repo: LedgerRepo) -> None:
        self.repo = repo

    def get(self, level: int, index: int) -> bytes:
        """The hash of node (level, index); raises KeyError when it was never stored."""
        return self.get_many([(level, index)])[(level, index)]

    def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Hashes of many nodes in one query; raises KeyError naming the first missing one."""
        found = self.repo.nodes(keys)
        missing = [key for key in keys if key not in found]
        if missing:
            raise KeyError(f"Merkle node (level={missing[0][0]}, index={missing[0][1]}) is not stored")
        return found

    def put_many(self, rows: Sequence[NodeRow]) -> None:
        """Store (level, index, hash) rows."""
        self.repo.put_nodes(rows)


class _KeyRecorder:
    """A NodeStore that answers every get with zeros and remembers the keys asked for."""

    def __init__(self) -> None:
        self.keys: list[NodeKey] = []

    def get(self, level: int, index: int) -> bytes:
        self.keys.append((level, index))
        return bytes(HASH_SIZE_BYTES)

    def put_many(self, rows: Sequence[NodeRow]) -> None:
        raise NotImplementedError("the key recorder is read-only")


class _FetchedNodes:
    """A read-only NodeStore over nodes fetched beforehand."""

    def __init__(self, nodes: dict[NodeKey, bytes]) -> None:
        self.nodes = nodes

    def get(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]

    def put_many(self, rows: Sequence[NodeRow]) -> None:
        raise NotImplementedError("fetched nodes are read-only")


def with_tree(store: SqlNodeStore, tree_size: int, build: Callable[[MerkleTree], T]) -> T:
    """build(tree) on the tree of tree_size leaves, reading all the nodes it needs in one round trip.

    build runs twice and must ask for the same nodes both times (no randomness inside it).
    """
    recorder = _KeyRecorder()
    build(MerkleTree(recorder, tree_size))
    return build(MerkleTree(_FetchedNodes(store.get_many(recorder.keys)), tree_size))


def append_leaf_hash(store: SqlNodeStore, leaf: bytes) -> int:
    """Append one leaf hash under the head row's lock (the caller's transaction holds it); returns its index."""
    index = store.repo.allocate_leaf_indexes(1)
    keys = frontier_keys(index)
    nodes = store.get_many(keys)
    frontier = [nodes[key] for key in keys]
    store.put_many(completed_nodes(index, leaf, frontier))
    return index
