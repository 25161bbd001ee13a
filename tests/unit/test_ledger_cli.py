"""`wuxin ledger verify FILE`: the offline verifier run as a command, on good, tampered and malformed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wuxin.bench.ledger import leaf_data
from wuxin.ledger.merkle import InMemoryNodeStore, MerkleTree
from wuxin.ledger.proofs import consistency_proof, inclusion_proof, proof_to_dict, proof_to_json
from wuxin.ledger.signing import generate_private_key, public_key_bytes, sign_tree_head

VECTORS = json.loads((Path(__file__).parents[1] / "fixtures" / "merkle" / "vectors.json").read_text())


def _wuxin_app() -> typer.Typer:
    """The real `wuxin` app; while sibling CLI modules are missing, the ledger app mounted the same way."""
    try:
        from wuxin.cli.main import app

        return app
    except ImportError:
        from wuxin.ledger.cli import app as ledger_app

        app = typer.Typer()
        app.add_typer(ledger_app, name="ledger")
        return app


def _run(*args: str):
    return CliRunner().invoke(_wuxin_app(), ["ledger", *args])


@pytest.fixture()
def tree() -> MerkleTree:
    tree = MerkleTree(InMemoryNodeStore())
    for index in range(37):
        tree.append(leaf_data(index))
    return tree


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_valid_inclusion_and_consistency_files_exit_zero(tree: MerkleTree, tmp_path: Path) -> None:
    inclusion = _run("verify", _write(tmp_path, "i.json", proof_to_json(inclusion_proof(tree, 30, 33))))
    consistency = _run("verify", _write(tmp_path, "c.json", proof_to_json(consistency_proof(tree, 9))))
    assert (inclusion.exit_code, consistency.exit_code) == (0, 0)
    assert "leaf 30 in tree of size 33" in inclusion.output
    assert "9 -> 37" in consistency.output


@pytest.mark.parametrize(
    "case", VECTORS["derived"]["inclusion_proofs"][::5], ids=lambda c: f"{c['leafIdx']}of{c['treeSize']}"
)
def test_published_inclusion_vectors_verify_from_files(case: dict, tmp_path: Path) -> None:
    document = {
        "type": "inclusion",
        "leaf_index": case["leafIdx"],
        "tree_size": case["treeSize"],
        "leaf_hash": case["leafHash"],
        "inclusion_path": case["proof"],
        "root_hash": case["root"],
    }
    assert _run("verify", _write(tmp_path, "p.json", json.dumps(document))).exit_code == 0
    document["root_hash"] = VECTORS["tree"]["root_hashes_by_size"][case["treeSize"] - 1]
    result = _run("verify", _write(tmp_path, "p.json", json.dumps(document)))
    assert result.exit_code == 1 and result.output.startswith("invalid: ")


@pytest.mark.parametrize(
    "case", VECTORS["derived"]["consistency_proofs"][::4], ids=lambda c: f"{c['size1']}to{c['size2']}"
)
def test_published_consistency_vectors_verify_and_tampered_fail(case: dict, tmp_path: Path) -> None:
    document = {
        "type": "consistency",
        "first_tree_size": case["size1"],
        "second_tree_size": case["size2"],
        "first_root_hash": case["root1"],
        "second_root_hash": case["root2"],
        "consistency_path": case["proof"],
    }
    assert _run("verify", _write(tmp_path, "p.json", json.dumps(document))).exit_code == 0
    document["consistency_path"] = document["consistency_path"][:-1]
    assert _run("verify", _write(tmp_path, "p.json", json.dumps(document))).exit_code == 1


def test_tampered_proof_exits_one_with_a_single_reason_line(tree: MerkleTree, tmp_path: Path) -> None:
    document = proof_to_dict(inclusion_proof(tree, 5))
    document["inclusion_path"][2] = "ff" * 32
    result = _run("verify", _write(tmp_path, "t.json", json.dumps(document)))
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "inclusion proof mismatch" in result.output


@pytest.mark.parametrize(
    "text, reason",
    [
        ("not json", "not valid JSON"),
        ('{"type": "inclusion"}', "'leaf_index' is missing"),
        (
            '{"type": "consistency", "first_tree_size": 1, "second_tree_size": 2, "first_root_hash": "xy", '
            '"second_root_hash": "", "consistency_path": []}',
            "'first_root_hash' is not hex",
        ),
        (
            '{"type": "inclusion", "leaf_index": 0, "tree_size": 1, "leaf_hash": "00", "inclusion_path": [], '
            '"root_hash": "00"}',
            "'leaf_hash' must be 32 bytes, got 1",
        ),
        ('{"type": "banana"}', "'type' is 'banana'"),
    ],
)
def test_malformed_files_exit_two_with_the_reason(text: str, reason: str, tmp_path: Path) -> None:
    result = _run("verify", _write(tmp_path, "m.json", text))
    assert result.exit_code == 2
    assert result.output.startswith("malformed: ") and reason in result.output


def test_missing_file_exits_two(tmp_path: Path) -> None:
    result = _run("verify", str(tmp_path / "absent.json"))
    assert result.exit_code == 2 and "cannot read" in result.output


def test_signed_tree_head_file_and_pinned_key(tree: MerkleTree, tmp_path: Path) -> None:
    key = generate_private_key()
    head = sign_tree_head(key, tree.size, tree.root_hash(), 1_700_000_000_000)
    path = _write(tmp_path, "sth.json", proof_to_json(head))
    assert _run("verify", path, "--public-key", public_key_bytes(key).hex()).exit_code == 0
    stranger = public_key_bytes(generate_private_key()).hex()
    assert _run("verify", path, "--public-key", stranger).exit_code == 1
    forged = proof_to_dict(head) | {"tree_size": tree.size + 1}
    result = _run("verify", _write(tmp_path, "forged.json", json.dumps(forged)))
    assert result.exit_code == 1 and "signature does not verify" in result.output


def test_inclusion_with_embedded_tree_head(tree: MerkleTree, tmp_path: Path) -> None:
    key = generate_private_key()
    proof = inclusion_proof(tree, 11)
    head = sign_tree_head(key, tree.size, tree.root_hash(), 42)
    assert _run("verify", _write(tmp_path, "ok.json", proof_to_json(proof, head))).exit_code == 0
    stale = sign_tree_head(key, tree.size - 1, tree.root_hash(tree.size - 1), 42)
    assert _run("verify", _write(tmp_path, "stale.json", proof_to_json(proof, stale))).exit_code == 1
