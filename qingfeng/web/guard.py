"""Refuse requests no form of the UI sends, before any route (and the database) sees them:

* a body larger than ``MAX_BODY`` (the largest form, the rectification, is under 100 KB): 413. The body
  is read to its end and dropped, so that the client reads the answer instead of a reset connection;
* a NUL character (``%00``) in the path, the query string or a form body: 400. PostgreSQL cannot store
  NUL in text, so a NUL in a filter or a comment would otherwise fail deep in the driver with a 500.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 1024 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024  # beyond this the connection is simply closed
TEXT = "text/plain; charset=utf-8"
TOO_LARGE = "请求内容过大(超过 1 MB),未处理。"
NUL = "请求中含有空字符(NUL),未处理。"


async def _answer(send: Send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    headers = [(b"content-type", TEXT.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _has_nul(data: bytes) -> bool:
    return b"\x00" in data or b"%00" in data


class InputGuard:
    def __init__(self, app: ASGIApp, *, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if (
            "\x00" in path
            or _has_nul(scope.get("raw_path") or b"")
            or _has_nul(scope.get("query_string", b""))
        ):
            await _answer(send, 400, NUL)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= self.max_body:
                chunks.append(chunk)
            elif size > DRAIN_LIMIT:
                break
            more = message.get("more_body", False)
        if size > self.max_body:
            await _answer(send, 413, TOO_LARGE)
            return
        body = b"".join(chunks)
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
        if content_type.startswith(b"application/x-www-form-urlencoded") and _has_nul(body):
            await _answer(send, 400, NUL)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would send it

        await self.app(scope, replay, send)
