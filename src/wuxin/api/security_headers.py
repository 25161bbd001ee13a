"""Security headers on every HTTP response: no framing, no MIME sniffing, no referrer, and a
Content-Security-Policy. A response that sets its own policy keeps it (the console page: scripts
from the platform only; the credit report: no scripts at all); everything else gets API_CSP, which
allows nothing (JSON needs nothing), or DOCS_CSP on the interactive API docs.

A pure ASGI middleware (it edits the response head only), so streamed bodies pass untouched."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# FastAPI's Swagger UI and ReDoc pages load their bundles from jsDelivr and start them with an inline
# script; they show the API's schema, no borrower data.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; font-src https://fonts.gstatic.com; "
    "connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, docs_paths: tuple[str | None, ...] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(p for p in docs_paths if p)
        fixed = [(name.lower().encode(), value.encode()) for name, value in ALWAYS.items()]
        self.api_headers = fixed + [(b"content-security-policy", API_CSP.encode())]
        self.docs_headers = fixed + [(b"content-security-policy", DOCS_CSP.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs_headers if scope["path"] in self.docs_paths else self.api_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                message["headers"] = headers + [h for h in extra if h[0] not in present]  # a response's own policy wins
            await send(message)

        await self.app(scope, receive, send_with_headers)
