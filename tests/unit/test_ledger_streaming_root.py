"""The restore check's streaming root (services.ledger._StreamingRoot) equals the Merkle tree's root at every size."""

from __future__ import annotations

from wuxin.ledger.merkle import InMemoryNodeStore, MerkleTree, leaf_hash
from wuxin.services.evidence.ledger import _StreamingRoot


def test_streaming_root_equals_the_tree_root_for_sizes_0_to_70():
    tree, streaming = MerkleTree(InMemoryNodeStore()), _StreamingRoot()
    assert streaming.root() == tree.root_hash()  # the empty tree
    for index in range(70):
        leaf = leaf_hash(f"leaf {index}".encode())
        tree.append_leaf_hashes([leaf])
        streaming.add(leaf)
        assert (streaming.size, streaming.root()) == (tree.size, tree.root_hash()), f"size {index + 1}"
