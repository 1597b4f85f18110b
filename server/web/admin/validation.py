"""The API's validation rules, as messages a person can act on: field -> (message key, values).

Pure: no database, no request. The admin forms and the CSV import both run the API's own
schemas (`PersonIn`, `ItemIn`, ...) and explain their complaints with these keys.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Problem = tuple[str, dict[str, Any]]  # (message key, values for it)

UID_FIELDS = frozenset({"card_uid", "uid", "tag_uid"})
READER_NAME_FIELDS = frozenset({"id", "site"})
M = TypeVar("M", bound=BaseModel)
DATE_ERRORS = frozenset({"date_from_datetime_parsing", "date_parsing", "date_type", "date_from_datetime_inexact"})


def explain_error(error: dict[str, Any]) -> tuple[str, Problem]:
    """One pydantic error as (field, problem); the field is "" for a problem with the whole record."""
    field = str(error["loc"][0]) if error.get("loc") else ""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind in ("missing", "string_too_short"):
        return field, ("admin.err.required", {})
    if kind == "string_too_long":
        return field, ("admin.err.too_long", {"max": ctx.get("max_length", "?")})
    if kind == "string_pattern_mismatch":
        if field in UID_FIELDS:
            return field, ("admin.err.uid_format", {})
        if field in READER_NAME_FIELDS:
            return field, ("admin.err.reader_name", {})
    if kind == "literal_error":
        return field, ("admin.err.kind" if field == "kind" else "admin.err.choice", {})
    if kind in DATE_ERRORS:
        return field, ("admin.err.date", {})
    if kind == "single_line":
        return field, ("admin.err.single_line", {})
    if kind == "bool_parsing":
        return field, ("admin.err.bool", {})
    if "NUL" in str(error.get("msg", "")):
        return field, ("admin.err.nul", {})
    return field, ("admin.err.invalid", {"detail": error.get("msg", kind)})


def check(model: type[M], data: dict[str, Any]) -> tuple[M | None, dict[str, Problem]]:
    """Validate `data` with `model`: the instance, or None and the first problem of each field."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        problems: dict[str, Problem] = {}
        for error in exc.errors():
            field, problem = explain_error(error)
            problems.setdefault(field, problem)
        return None, problems
