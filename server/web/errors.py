"""What a page request gets when it may not go on: the login page, the lock screen, or a 403 page."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from server.web.deps import POLL_HEADER, CsrfRejected, Forbidden, LoginRequired, ScreenLocked
from server.web.i18n import translator
from server.web.render import page


def _scripted(request: Request) -> bool:
    """A refresh or fetch from a page's script wants a status it can act on, not a redirect."""
    return POLL_HEADER in request.headers or request.headers.get("x-requested-with") == "fetch"


def install_page_errors(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if _scripted(request):
            return JSONResponse({"detail": "log in", "login": f"/login?next={exc.next_url}"}, status_code=401)
        return RedirectResponse(f"/login?next={exc.next_url}", status_code=303)

    @app.exception_handler(ScreenLocked)
    async def _locked(request: Request, exc: ScreenLocked) -> Response:
        if _scripted(request):
            return JSONResponse({"detail": "the screen is locked", "locked": True}, status_code=401)
        return RedirectResponse(f"/lock?next={exc.next_url}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        t = translator(getattr(request.state, "lang", "ja"))
        message = t("forbidden.explain", roles=" / ".join(t("role." + r) for r in exc.roles), role=t("role." + exc.role))
        return page(request, "forbidden.html", {"message": message}, status_code=403)

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, exc: CsrfRejected) -> Response:
        lang = getattr(request.state, "lang", "ja")
        message = ("このフォームは古くなっています。ページを読み込み直してから、もう一度送信してください。" if lang == "ja"
                   else "This form has expired: reload the page and send it again.")
        return page(request, "forbidden.html", {"message": message}, status_code=403)
