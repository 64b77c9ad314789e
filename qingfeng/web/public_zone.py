"""The public zone, ``/public`` and below (向社会公开): the only part of the site served without a session.

* ``Sessions``: the signed-cookie session everywhere else; in the zone the request gets an empty
  throwaway session instead, so the cookie is neither read (a signed-in user is nobody here) nor
  refreshed nor set, whatever a page or an error handler of the zone writes into it.
* ``PublicRateLimit``: every request of the zone takes a token of its client address
  (``web.ratelimit``; ``public_burst`` and ``public_per_minute`` in ``web.settings``), separate from
  the login throttle; a refusal is 429 with ``Retry-After`` and a Chinese page, answered before the
  app (no database). An address's first refusal since its bucket was last full is written to the
  server log and the access log (one record per episode, not per request); the episode's count is
  logged when it ends.

The headers of the zone are ``web.headers``'s (``PUBLIC_CSP``, ``PUBLIC_CACHE``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import Session as CookieSession
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from qingfeng.web.headers import public, route_path
from qingfeng.web.ratelimit import RateLimiter

log = logging.getLogger(__name__)
STYLESHEET_PATH = "/public/style.css"


class Sessions(SessionMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and public(route_path(scope)):
            scope["session"] = CookieSession()  # throwaway: no cookie read, none written
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class PublicRateLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        refusal_page: Callable[[int, str], str],
        audit: Callable[[str, str, str], None],
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.refusal_page = refusal_page  # (retry_after, stylesheet href) -> HTML
        self.audit = audit  # (client address, request, detail): one access-log record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not public(route_path(scope)):
            await self.app(scope, receive, send)
            return
        client = _client(scope)
        verdict = self.limiter.hit(client)
        if verdict.episode_ended:
            refused, since = verdict.episode_ended
            log.warning(
                "public page: %s had %d requests refused over %.0f s", client, refused, self._ago(since)
            )
        if verdict.allowed:
            await self.app(scope, receive, send)
            return
        if verdict.episode_started:
            detail = f"rate limit: more than {self.limiter.burst} requests at once or {self.limiter.rate * 60:g} a minute"
            log.warning("public page: %s refused (%s)", client, detail)
            target = f"{scope.get('method', 'GET')} {route_path(scope)}"[:200]
            try:
                await run_in_threadpool(self.audit, client, target, detail)
            except Exception:  # the refusal stands without its record; the log says why
                log.exception("public page: the refusal of %s was not written to the access log", client)
        body = self.refusal_page(verdict.retry_after, str(scope.get("root_path", "")) + STYLESHEET_PATH)
        data = body.encode("utf-8")
        headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(data)).encode()),
            (b"retry-after", str(verdict.retry_after).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    def _ago(self, since: float) -> float:
        return max(0.0, self.limiter.clock() - since)


def audit_refusal(sessions: sessionmaker[Session]) -> Callable[[str, str, str], None]:
    """An access-log writer for the zone's refusals, over the app's register sessions (anonymous)."""

    def write(client: str, target: str, detail: str) -> None:
        from qingfeng.register import users

        with sessions() as session:
            users.audit(session, None, "denied", target=target, detail=detail, ip=client)
            session.commit()

    return write
