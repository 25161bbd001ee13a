"""`wuxin ledger ...`: check exported ledger proofs offline (no database, no network); publish tree heads.

Exit codes of `verify`: 0 valid, 1 well-formed but does not verify, 2 malformed or unreadable.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from wuxin.ledger.merkle import ProofFormatError, ProofVerificationError
from wuxin.ledger.proofs import verify_json

app = typer.Typer(no_args_is_help=True)

EXIT_INVALID = 1
EXIT_MALFORMED = 2


@app.callback()
def ledger() -> None:
    """The evidence ledger: verify exported proofs offline, publish signed tree heads."""


@app.command()
def verify(
    file: Path = typer.Argument(..., help="An exported proof: inclusion, consistency or tree_head JSON."),
    public_key: str = typer.Option(
        None, "--public-key", help="Trusted Ed25519 public key (hex) the tree head must carry."
    ),
) -> None:
    """Verify an exported inclusion/consistency proof or signed tree head; exit 0 when valid."""
    try:
        summary = verify_json(file.read_bytes(), _trusted_key(public_key))
    except OSError as error:
        _fail(EXIT_MALFORMED, f"malformed: cannot read {file}: {error.strerror}")
    except ProofFormatError as error:
        _fail(EXIT_MALFORMED, f"malformed: {error}")
    except ProofVerificationError as error:
        _fail(EXIT_INVALID, f"invalid: {error}")
    typer.echo(summary)


@app.command()
def publish() -> None:
    """Sign and publish the current tree head of the platform's ledger (WUXIN_DATABASE_URL); prints it as JSON."""
    import json

    from wuxin.bootstrap import build_platform
    from wuxin.services.evidence.ledger import publish_tree_head

    platform = build_platform()
    try:
        typer.echo(json.dumps(publish_tree_head(platform), indent=2))
    finally:
        platform.close()


def _trusted_key(public_key_hex: str | None) -> bytes | None:
    if public_key_hex is None:
        return None
    try:
        return bytes.fromhex(public_key_hex)
    except ValueError:
        _fail(EXIT_MALFORMED, f"malformed: --public-key is not hex: {public_key_hex!r}")


def _fail(exit_code: int, line: str) -> NoReturn:
    typer.echo(" ".join(line.split()), err=True)
    raise typer.Exit(exit_code)
