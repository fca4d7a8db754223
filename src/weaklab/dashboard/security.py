"""Access token and CSRF protection, as one ASGI-level middleware.

* **Token.** With a token configured, every request needs it: the
  ``X-Weaklab-Token`` header, ``Authorization: Bearer <token>``, or the
  ``weaklab_token`` cookie, which a ``?token=<token>`` visit sets (and then
  redirects to the same address without the token).
* **CSRF.** Every visitor gets a random ``weaklab_csrf`` cookie (SameSite
  Strict); a POST must echo it in the ``csrf`` form field or the
  ``X-CSRF-Token`` header. Only POST changes state.
* **Host (DNS rebinding).** Without a token the dashboard is reachable only on
  loopback, so every request must name a loopback host (``localhost``,
  ``127.x.x.x``, ``[::1]``, any port) in its ``Host`` header: a page of another
  site whose name was re-pointed at 127.0.0.1 sends its own name and is
  refused (403).
* **Origin.** A POST that carries an ``Origin`` header (browsers send one)
  must come from the dashboard's own origin (the scheme and ``Host`` of the
  request); any other origin, ``null`` included, is refused (403).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse

__all__ = ["TOKEN_COOKIE", "CSRF_COOKIE", "CSRF_FIELD", "CSRF_HEADER", "TOKEN_HEADER", "security_middleware",
           "csrf_token", "is_loopback_host", "same_origin"]

TOKEN_COOKIE = "weaklab_token"
TOKEN_HEADER = "x-weaklab-token"
CSRF_COOKIE = "weaklab_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE = {"GET", "HEAD", "OPTIONS"}

Handler = Callable[[Request], Awaitable[Response]]


def csrf_token(request: Request) -> str:
    """The visitor's CSRF token (from the cookie, or the one minted for this request)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return str(token)


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def _presented_token(request: Request) -> str | None:
    header = request.headers.get(TOKEN_HEADER)
    if header:
        return header
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(TOKEN_COOKIE)


def _login_redirect(request: Request, token: str) -> Response:
    """A ``?token=`` visit: set the cookie and drop the token from the address."""
    query = {k: v for k, v in parse_qs(request.url.query).items() if k != "token"}
    target = request.url.path + ("?" + urlencode(query, doseq=True) if query else "")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
    return response


async def _csrf_ok(request: Request) -> bool:
    expected = request.cookies.get(CSRF_COOKIE)
    if _same(expected, request.headers.get(CSRF_HEADER)):
        return True
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = await request.body()  # cached: the route reads the same bytes again
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(CSRF_FIELD, [])
        return len(values) == 1 and _same(expected, values[0])
    return False


def is_loopback_host(host: str | None) -> bool:
    """Whether a ``Host`` header names this machine's loopback (``localhost``, 127.0.0.0/8, ``[::1]``; any port)."""
    if not host:
        return False
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:
        return False
    if name is None:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def same_origin(request: Request) -> bool:
    """A request without ``Origin``, or whose ``Origin`` is the scheme and ``Host`` it was sent to."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return bool(host) and origin.lower() == f"{request.url.scheme}://{host}".lower()


def security_middleware(token: str | None) -> Callable[[Request, Handler], Awaitable[Response]]:
    """An HTTP middleware enforcing the loopback Host (without a token), the access token (with one),
    the same Origin and CSRF on state-changing requests."""

    async def middleware(request: Request, call_next: Handler) -> Response:
        if token is None and not is_loopback_host(request.headers.get("host")):
            return PlainTextResponse("403 Forbidden: this dashboard answers only requests addressed to localhost "
                                     "or 127.0.0.1 (start it with --token to serve other names)", status_code=403)
        if request.method not in _SAFE and not same_origin(request):
            return PlainTextResponse("403 Forbidden: a form of another site cannot write to this dashboard "
                                     "(Origin does not match)", status_code=403)
        if token is not None:
            offered = request.query_params.get("token")
            if offered is not None and request.method in _SAFE and _same(offered, token):
                return _login_redirect(request, token)
            if not _same(_presented_token(request), token):
                return PlainTextResponse("401 Unauthorized: this dashboard needs its access token (open it once "
                                         "with ?token=<token>, or send the X-Weaklab-Token header)",
                                         status_code=401)
        if request.method not in _SAFE and not await _csrf_ok(request):
            return PlainTextResponse("403 Forbidden: missing or wrong CSRF token (reload the page and try "
                                     "again)", status_code=403)
        response = await call_next(request)
        minted = getattr(request.state, "new_csrf", None)
        if minted and not request.cookies.get(CSRF_COOKIE):
            response.set_cookie(CSRF_COOKIE, minted, httponly=False, samesite="strict")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                    "style-src 'self'; script-src 'self'; frame-ancestors 'none'")
        return response

    return middleware
