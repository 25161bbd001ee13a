"""Ledger benchmark: append N leaves to the in-memory tree, then time proof generation and checks;
then the same through the SQL-backed store on a temporary SQLite database (appends/s, proof time).

    .venv/bin/python -m wuxin.bench.ledger 10000000
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

SQL_LEAVES = 10_000  # about 10 s on SQLite: the SQL-backed figures stay under a minute


def run_ledger_bench(
    leaves: int,
    proof_samples: int = 200,
    seed: int = 9162,
    echo: Callable[[str], None] | None = print,
    sql_leaves: int | None = None,
) -> dict[str, Any]:
    """In memory, then through the SQL-backed store on SQLite (sql_leaves, default min(leaves, SQL_LEAVES));
    prints both via echo and returns the in-memory figures."""
    figures = run_memory_ledger_bench(leaves, proof_samples, seed, echo)
    sql_leaves = min(leaves, SQL_LEAVES) if sql_leaves is None else sql_leaves
    if sql_leaves >= 2:
        run_sql_ledger_bench(sql_leaves, proof_samples, seed, echo, memory_appends_per_s=figures["appends_per_s"])
    return figures


def run_memory_ledger_bench(
    leaves: int, proof_samples: int = 200, seed: int = 9162, echo: Callable[[str], None] | None = print
) -> dict[str, Any]:
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


def run_sql_ledger_bench(
    leaves: int,
    proof_samples: int = 200,
    seed: int = 9162,
    echo: Callable[[str], None] | None = print,
    memory_appends_per_s: float | None = None,
) -> dict[str, Any]:
    """Appends through the database (one transaction per leaf, as ingestion does) and one-round-trip proofs, on SQLite."""
    import tempfile

    from wuxin.bootstrap import build_platform
    from wuxin.config import Settings
    from wuxin.services.evidence.ledger import append_entry
    from wuxin.store.ledger_tree import SqlNodeStore
    from wuxin.store.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="wuxin-ledger-bench-") as folder:
        url = f"sqlite:///{folder}/ledger.db"
        upgrade(url)
        platform = build_platform(Settings(database_url=url))
        started = time.perf_counter()
        for index in range(leaves):
            with platform.uow() as uow:
                append_entry(uow, "bench", f"bench:{index}", {"leaf": index}, None, index)
                uow.commit()
        append_s = time.perf_counter() - started
        rng = random.Random(seed)
        with platform.uow() as uow:
            store = SqlNodeStore(uow.ledger)
            inclusion_ms, inclusion = _timed_each(
                lambda: _sql_proof(store, leaves, inclusion_proof, rng.randrange(leaves)), proof_samples
            )
            consistency_ms, _ = _timed_each(
                lambda: _sql_proof(store, leaves, consistency_proof, rng.randrange(1, leaves)), proof_samples
            )
        platform.close()
    for proof in inclusion:
        verify_proof(proof)
    figures = {
        "leaves": leaves,
        "append_s": round(append_s, 3),
        "appends_per_s": round(leaves / append_s),
        "inclusion_proof_ms": round(inclusion_ms, 4),
        "consistency_proof_ms": round(consistency_ms, 4),
        "proof_samples": proof_samples,
        "appends_vs_memory": round(leaves / append_s / memory_appends_per_s, 4) if memory_appends_per_s else None,
    }
    if echo is not None:
        echo(
            f"ledger bench, {leaves:,} leaves through the SQL store (SQLite, one transaction per append): "
            f"{figures['appends_per_s']:,} appends/s ({figures['append_s']} s"
            + (f", {figures['appends_vs_memory']:.3f}x the in-memory rate" if memory_appends_per_s else "")
            + f"); proof generation (one query each): inclusion {figures['inclusion_proof_ms']} ms, "
            f"consistency {figures['consistency_proof_ms']} ms (mean of {proof_samples}, all inclusion proofs "
            f"verified)\n" + json.dumps(figures)
        )
    return figures


def _sql_proof(store, tree_size: int, build: Callable[..., Any], argument: int) -> Any:
    from wuxin.store.ledger_tree import with_tree

    return with_tree(store, tree_size, lambda tree: build(tree, argument))


def _summary(figures: dict[str, Any]) -> str:
    return (
        f"ledger bench, {figures['leaves']:,} leaves (in-memory node store): "
        f"{figures['appends_per_s']:,} appends/s ({figures['append_s']} s); "
        f"proof generation: inclusion {figures['inclusion_proof_ms']} ms, consistency {figures['consistency_proof_ms']} ms; "
        f"verification: inclusion {figures['inclusion_verify_ms']} ms, consistency {figures['consistency_verify_ms']} ms "
        f"(mean of {figures['proof_samples']}); store {figures['store_mib']} MiB, peak RSS {figures['peak_rss_mib']} MiB\n"
        + json.dumps(figures)
    )


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
