"""Pieces every API schema shares: office-time serialisation and validated uids."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator
from pydantic_core import PydanticCustomError

from server.single_line import has_control

office_zone: ContextVar[ZoneInfo] = ContextVar("office_zone", default=ZoneInfo("Asia/Tokyo"))


class OfficeZone:
    """ASGI middleware: times in this app's responses are shown in its office's zone (`MAMORI_TZ`)."""

    def __init__(self, app, zone: ZoneInfo):
        self.app, self.zone = app, zone

    async def __call__(self, scope, receive, send) -> None:
        token = office_zone.set(self.zone)
        try:
            await self.app(scope, receive, send)
        finally:
            office_zone.reset(token)


def _office_time(value: datetime) -> str:
    return value.astimezone(office_zone.get()).isoformat(timespec="seconds")


OfficeTime = Annotated[datetime, PlainSerializer(_office_time, return_type=str)]


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


CardUid = Annotated[str, BeforeValidator(_upper),
                    Field(pattern=r"^[0-9A-F]{8,20}$", description="upper-case hex, 8–20 digits")]


def _one_line(value: str) -> str:
    if has_control(value):
        raise PydanticCustomError("single_line", "must be one line: no line breaks, tabs or other control characters")
    return value


Line = Annotated[str, AfterValidator(_one_line)]
"""Text typed on one line: a name, label, organisation."""


def line(max_length: int, min_length: int = 0) -> Any:
    """One line of limited length; the limits come before the check so that pydantic still reports them
    as string_too_long/string_too_short, also inside `line(64) | None`."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_one_line)]


Name = line(200, min_length=1)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


RowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the record's number")]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        # PostgreSQL cannot store NUL in text; refuse it everywhere alike.
        if _has_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data


class Change(In):
    """A PATCH body: only the fields sent are changed; `null` only where a field may be empty."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Change:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name} cannot be null; leave it out to keep it as it is")
        return self
