"""Serves the console: index.html at / and /console, static files (and vendored assets) under /console/static."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
# Scripts only from the platform's own files (no inline script, no eval, no event-handler attributes):
# a borrower's name that got into the page as HTML could not run. Styles may be inline: ECharts writes
# style attributes into its tooltip HTML, the console sets a few, and the credit report (opened from
# the console as a blob: document, which inherits this policy) carries its own <style>.
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
router = APIRouter(include_in_schema=False)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/console")


@router.get("/console")
def console_page() -> FileResponse:
    """The single page; the hash part of the URL (#/portfolio, #/enterprise/3 ...) picks the view."""
    return FileResponse(
        STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache", "Content-Security-Policy": CONSOLE_CSP}
    )


def mount_console(app: FastAPI) -> None:
    """Add the page routes and the static files to the API application."""
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
