"""The 受付簿's pages: the book (screen, CSV, print), the 廃棄記録 print, receiving a request, and one case's page."""

from fastapi import APIRouter

from server.web.cases.book import router as book_router
from server.web.cases.case import router as case_router
from server.web.cases.receive import router as receive_router

router = APIRouter(include_in_schema=False)
router.include_router(book_router)  # first: /cases/print is not a case number
router.include_router(receive_router)  # before /cases/{id}: "new" is not a case
router.include_router(case_router)
