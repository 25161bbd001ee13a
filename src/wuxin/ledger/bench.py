"""Ledger benchmark: append N leaves to the in-memory tree, then time proof generation and checks.

    .venv/bin/python -m wuxin.ledger.bench 10000000
"""
from __future__ import annotations

import hashlib
import json
import random
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from wuxin.ledger.merkle import InMemoryNodeStore, MerkleTree
from wuxin.ledger.proofs import consistency_proof, inclusion_proof, verify_proof


def run_ledger_bench(leaves: int, proof_samples: int = 200, seed: int = 9162,
                     echo: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Append `leaves` leaves, then average proof build/verify times over random indices; prints via echo."""
    if leaves < 2:
        raise ValueError(f"ledger bench needs at least 2 leaves, got {leaves}")
    store = InMemoryNodeStore()
    tree = MerkleTree(store)
    append_s = _append_leaves(tree, leaves)
    rng = random.Random(seed)
    inclusion_ms, inclusion = _timed_each(lambda: inclusion_proof(tree, rng.randrange(leaves)), proof_samples)
    consistency_ms, consistency = _timed_each(lambda: consistency_proof(tree, rng.randrange(1, leaves)), proof_samples)
    figures = {
        "leaves": leaves,
        "append_s": round(append_s, 3),
        "appends_per_s": round(leaves / append_s),
        "root_hash": tree.root_hash().hex(),
        "proof_samples": proof_samples,
        "inclusion_proof_ms": round(inclusion_ms, 4),
        "consistency_proof_ms": round(consistency_ms, 4),
        "inclusion_verify_ms": round(_timed_each_item(verify_proof, inclusion), 4),
        "consistency_verify_ms": round(_timed_each_item(verify_proof, consistency), 4),
        "inclusion_path_nodes_max": max(len(p.inclusion_path) for p in inclusion),
        "store_mib": round(store.stored_bytes() / 2**20, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if echo is not None:
        echo(_summary(figures))
    return figures


def _summary(figures: dict[str, Any]) -> str:
    return (f"ledger bench, {figures['leaves']:,} leaves (in-memory node store): "
            f"{figures['appends_per_s']:,} appends/s ({figures['append_s']} s); "
            f"proof generation: inclusion {figures['inclusion_proof_ms']} ms, consistency {figures['consistency_proof_ms']} ms; "
            f"verification: inclusion {figures['inclusion_verify_ms']} ms, consistency {figures['consistency_verify_ms']} ms "
            f"(mean of {figures['proof_samples']}); store {figures['store_mib']} MiB, peak RSS {figures['peak_rss_mib']} MiB\n"
            + json.dumps(figures))


def leaf_data(index: int) -> bytes:
    """The synthetic payload of leaf `index` (a digest, like a reading's content hash)."""
    return hashlib.sha256(index.to_bytes(8, "big")).digest()


def _append_leaves(tree: MerkleTree, leaves: int) -> float:
    started = time.perf_counter()
    for index in range(leaves):
        tree.append(leaf_data(index))  # one append per leaf: the ingest path, no batching
    return time.perf_counter() - started


def _timed_each(build: Callable[[], Any], samples: int) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    results = [build() for _ in range(samples)]
    return (time.perf_counter() - started) * 1000 / samples, results


def _timed_each_item(check: Callable[[Any], None], items: list[Any]) -> float:
    started = time.perf_counter()
    for item in items:
        check(item)
    return (time.perf_counter() - started) * 1000 / len(items)


if __name__ == "__main__":
    run_ledger_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
