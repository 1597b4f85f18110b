"""Admin pages: people, visitor badges, items, readers, enrolment, CSV import, the audit log, loan rules."""

from fastapi import APIRouter

from server.web.admin import audit_log, badges, enrol, grants, imports, items, loan_rules, people, readers, revoke

router = APIRouter(include_in_schema=False)
for _module in (people, badges, items, readers, enrol, imports, audit_log, loan_rules, grants, revoke):
    router.include_router(_module.router)
