"""Pieces every API schema shares: office-time serialisation and validated uids."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from server.config import get_settings


def _office_time(value: datetime) -> str:
    return value.astimezone(get_settings().zone).isoformat(timespec="seconds")


OfficeTime = Annotated[datetime, PlainSerializer(_office_time, return_type=str)]


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


CardUid = Annotated[str, BeforeValidator(_upper),
                    Field(pattern=r"^[0-9A-F]{8,20}$", description="upper-case hex, 8–20 digits")]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
