"""A request body past the limit is refused (413) while it streams in, never buffered whole first.

A pure ASGI middleware: a Content-Length over the limit is refused before a byte of the body is
read; any other body (chunked, or a length that lies) is counted as the server hands it over, and
at the first byte past the limit the 413 goes out, the application's reading stops, and the
connection is closed so the server stops reading the rest from the network.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wuxin.api.problems import problem_response


class BodyTooLarge(Exception):
    """Raised into the application's `receive` once the body passed the limit (the 413 is already sent)."""


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(
                scope, send, f"body of {declared.decode('latin-1')} bytes is over the limit of {self.max_bytes}"
            )
            return
        await _LimitedRequest(self, scope, receive, send).run()

    async def _refuse(self, scope: Scope, send: Send, message: str) -> None:
        response = problem_response(413, "body_too_large", message, scope.get("path"), {"connection": "close"})
        await response(scope, _no_receive, send)


class _LimitedRequest:
    """One request: counts the body bytes the application receives, refuses at the first past the limit."""

    def __init__(self, limit: BodyLimit, scope: Scope, receive: Receive, send: Send) -> None:
        self.limit, self.scope, self._receive, self._send = limit, scope, receive, send
        self.received_bytes = 0
        self.refused = self.response_started = False

    async def run(self) -> None:
        try:
            await self.limit.app(self.scope, self.receive, self.send)
        except Exception:
            if not self.refused:  # after a refusal, whatever the application made of it is moot
                raise

    async def receive(self) -> Message:
        if self.refused:
            raise BodyTooLarge(f"body is over the limit of {self.limit.max_bytes} bytes")
        message = await self._receive()
        if message["type"] == "http.request":
            self.received_bytes += len(message.get("body", b""))
            if self.received_bytes > self.limit.max_bytes:
                self.refused = True
                if not self.response_started:
                    await self.limit._refuse(
                        self.scope,
                        self._send,
                        (
                            f"body is over the limit of {self.limit.max_bytes} bytes (refused at {self.received_bytes} "
                            f"bytes, while it streamed in)"
                        ),
                    )
                raise BodyTooLarge(f"body is over the limit of {self.limit.max_bytes} bytes")
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return  # the 413 went out; the application's answer to its aborted read is dropped
        if message["type"] == "http.response.start":
            self.response_started = True
        await self._send(message)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
