"""情報セキュリティ教育 (sessions and attendance) and the 要介護認定調査員名簿 pages."""

from fastapi import APIRouter

from server.web.training.roster import router as roster_router
from server.web.training.sessions import router as sessions_router

router = APIRouter(include_in_schema=False)
router.include_router(sessions_router)
router.include_router(roster_router)
