"""Admin pages: people, visitor badges, items, readers, enrolment, CSV import, the audit log."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
