"""The inspection pack's pages (立入検査・監査): the summary, a page per rule, the self-inspection, print and ZIP."""

from fastapi import APIRouter

from server.web.inspection.answer import router as answer_router
from server.web.inspection.download import router as download_router
from server.web.inspection.pages import router as pages_router

router = APIRouter(include_in_schema=False)
router.include_router(pages_router)
router.include_router(answer_router)
router.include_router(download_router)
