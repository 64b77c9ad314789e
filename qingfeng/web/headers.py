"""Security headers on every response (issue #14 point 8), as a pure ASGI middleware.

* ``Content-Security-Policy``: scripts, styles and images from this site only. No inline script, no
  inline style (no ``style=`` attributes, no ``<style>`` blocks), no inline event handlers: the templates
  link ``/static/app.js`` and ``/static/style.css``. The server-rendered SVG charts and relation graph use
  presentation attributes (``fill=``, ``stroke=``, ``font-size=``), which CSP does not treat as inline
  style. ``img-src data:`` is kept for the browser's own data-URL images (none are served today).
* ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` (older browsers): no framing, no clickjacking.
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (queue filters and subject paths
  never leave the site in a Referer), ``Permissions-Policy`` (no camera, microphone, location, payment,
  USB), ``Cross-Origin-Opener-Policy`` and ``Cross-Origin-Resource-Policy: same-origin``.
* ``Cache-Control: no-store`` on every response except the static files and ``/healthz``: every page,
  export and error page may carry personal data, and must not stay in a browser's or a proxy's cache.
* ``Strict-Transport-Security`` when the server is told it is behind TLS (``qingfeng serve --behind-tls``).
* The public zone (``/public``, 向社会公开, served without a session) is stricter still: ``default-src
  'none'`` with only its own stylesheet, no script, no form, no base; ``Cache-Control: public,
  max-age=300`` on its pages (which hold no personal data) and ``no-store`` on its refusals and errors.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HSTS = "max-age=31536000"  # one year; no includeSubDomains: other hosts of the domain are not ours to bind
CACHEABLE_PREFIXES = ("/static/",)
CACHEABLE_PATHS = frozenset({"/healthz"})
PUBLIC_PREFIX = "/public"
PUBLIC_CSP = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'none'",
        "base-uri 'none'",
    )
)
PUBLIC_CACHE = "public, max-age=300"


def route_path(scope: Scope) -> str:
    """The path as the app routes it: behind a proxy at a prefix (``--root-path``), without the prefix."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root) :]
    return path


def public(path: str) -> bool:
    """The public zone: no session, its own rate limit, the strictest headers (``web.public_zone``)."""
    return path == PUBLIC_PREFIX or path.startswith(PUBLIC_PREFIX + "/")


def cacheable(path: str) -> bool:
    """Responses without personal data, which a browser may cache: the static files and the health check."""
    return path in CACHEABLE_PATHS or path.startswith(CACHEABLE_PREFIXES)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        keep = cacheable(path)
        zone = public(path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if self.hsts:
                    headers["Strict-Transport-Security"] = HSTS
                if zone:
                    headers["Content-Security-Policy"] = PUBLIC_CSP
                if zone and message["status"] == 200:
                    headers["Cache-Control"] = PUBLIC_CACHE
                elif not keep:
                    headers["Cache-Control"] = "no-store"
                    headers["Pragma"] = "no-cache"  # HTTP/1.0 caches and proxies
            await send(message)

        await self.app(scope, receive, send_with_headers)
