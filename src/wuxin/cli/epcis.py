"""`wuxin epcis ...`: validate GS1 EPCIS 2.0 JSON/JSON-LD documents and print CBV 2.0 event hash IDs.

Exit codes: 0 ok, 1 the document breaks the EPCIS 2.0 schema, 2 unreadable or not JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import typer

from wuxin.trace.epcis import (
    EpcisError,
    event_hash_ids,
    events_of,
    hash_context,
    load_document,
    prehash_string,
    validation_errors,
)

app = typer.Typer(no_args_is_help=True)

EXIT_INVALID = 1
EXIT_UNREADABLE = 2


@app.callback()
def epcis() -> None:
    """GS1 EPCIS 2.0 documents: validate, print event hash IDs."""


@app.command()
def validate(file: Path = typer.Argument(..., help="An EPCISDocument or EPCISQueryDocument (JSON / JSON-LD).")) -> None:
    """Validate against the GS1 EPCIS 2.0 JSON Schema; prints 'valid: N events' or one error per line."""
    document = _read(file)
    errors = validation_errors(document)
    if errors:
        for error in errors:
            typer.echo(f"{file}: {error}", err=True)
        raise typer.Exit(EXIT_INVALID)
    typer.echo(f"valid: {len(_events(document))} events")


@app.command("hash")
def hash_ids(
    file: Path = typer.Argument(..., help="An EPCISDocument or EPCISQueryDocument (JSON / JSON-LD)."),
    prehash: bool = typer.Option(False, "--prehash", help="Also print each canonical pre-hash string after its ID."),
) -> None:
    """Print the CBV 2.0 event hash ID of each event, one per line, in document order."""
    document = _read(file)
    try:
        hash_ids = event_hash_ids(document)
    except EpcisError as error:
        _fail(EXIT_INVALID, f"{file}: {error}")
    context = hash_context(document)
    for hash_id, event in zip(hash_ids, _events(document)):
        typer.echo(hash_id)
        if prehash:
            typer.echo(prehash_string(event, context))


def _read(file: Path) -> Any:
    try:
        return load_document(file.read_bytes())
    except OSError as error:
        _fail(EXIT_UNREADABLE, f"{file}: cannot read: {error.strerror}")
    except EpcisError as error:
        _fail(EXIT_UNREADABLE, f"{file}: {error}")


def _events(document: Any) -> list[Any]:
    try:
        return events_of(document)
    except EpcisError as error:
        _fail(EXIT_INVALID, str(error))


def _fail(exit_code: int, line: str) -> NoReturn:
    typer.echo(line, err=True)
    raise typer.Exit(exit_code)
