"""A cap on request bodies, before anything reads them: a declared length over the cap is refused at once,
a streamed (chunked) body as soon as its bytes pass the cap."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.web.deps import choose_language
from server.web.i18n import translator


class BodyLimit:
    """Pure ASGI middleware. `caps` are (path prefix, bytes) pairs checked in order; `default` for the rest."""

    def __init__(self, app: ASGIApp, *, default: int, caps: tuple[tuple[str, int], ...] = ()):
        self.app, self.default, self.caps = app, default, caps

    def cap_for(self, path: str) -> int:
        return next((cap for prefix, cap in self.caps if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            await too_large(scope, cap)(scope, receive, send)
            return
        seen, refused, started = 0, False, False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    refused = True
                    if not started:
                        await too_large(scope, cap)(scope, receive, send)
                    return {"type": "http.disconnect"}  # the app stops reading; its own answer is dropped
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)


def too_large(scope: Scope, cap: int) -> Response:
    """413, in the API's JSON or as a short page in the person's language."""
    kib = cap // 1024
    if scope["path"].startswith("/api/"):
        return JSONResponse({"detail": f"the request body is over {kib} KiB; send less at a time"}, status_code=413)
    t = translator(choose_language(Request(scope), None))
    return Response(f"<!doctype html><meta charset=utf-8><title>{t('error.too_large.title')}</title>"
                    f"<h1>{t('error.too_large.title')}</h1><p>{t('error.too_large.explain', kib=kib)}</p>",
                    status_code=413, media_type="text/html")
