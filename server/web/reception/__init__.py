"""Reception's pages: the desk, visitor registration, name tags, the roll call and the 入退室記録簿."""

from fastapi import APIRouter

from server.web.reception import desk, entry_log, rollcall

router = APIRouter(include_in_schema=False)
for module in (desk, rollcall, entry_log):
    router.include_router(module.router)
