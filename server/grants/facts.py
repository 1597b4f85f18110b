"""The grants a batch of cabinet taps is judged by: loaded once per batch, a few set-based queries."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Connection

from server.bulk import among
from server.domain import grants as rule
from server.grants.models import CabinetGrant, ClosedDay, GrantOneOff
from server.people.models import Person

_GRANTS = (select(CabinetGrant.id, CabinetGrant.cabinet_id, CabinetGrant.person_id, CabinetGrant.role,
                  CabinetGrant.expires_at, CabinetGrant.hours)
           .where(among(CabinetGrant.cabinet_id, "cabinets")))
# The ingest reads only the grants that can matter to the batch's people: their own, and every role grant.
_GRANTS_OF = _GRANTS.where(or_(among(CabinetGrant.person_id, "people"),
                               CabinetGrant.role.is_not(None)))
_GRANTED = (select(CabinetGrant.cabinet_id).distinct()
            .where(among(CabinetGrant.cabinet_id, "cabinets")))
_ONE_OFFS = (select(GrantOneOff.grant_id, GrantOneOff.day, GrantOneOff.starts, GrantOneOff.ends, GrantOneOff.reason)
             .where(among(GrantOneOff.grant_id, "ids"),
                    GrantOneOff.day.between(bindparam("first"), bindparam("last"))))
_CLOSED = select(ClosedDay.day).where(ClosedDay.day.between(bindparam("first"), bindparam("last")))
_ROLES = select(Person.id, Person.roles).where(among(Person.id, "ids"))


def load_grants(conn: Connection, cabinets: list[str], *, first: date, last: date,
                people: list[int] | None = None) -> dict[str, list[rule.Grant]]:
    """cabinet -> its grants (only those of `people` and the role grants, if given), with the one-off
    openings from `first` to `last` (office dates)."""
    if not cabinets:
        return {}
    if people is None:
        rows = conn.execute(_GRANTS, {"cabinets": cabinets}).all()
    else:
        rows = conn.execute(_GRANTS_OF, {"cabinets": cabinets, "people": people}).all()
    one_offs: dict[int, list[rule.OneOff]] = {}
    if any(hours for *_facts, hours in rows):  # a grant at any time has no use for one-offs
        for grant_id, day, starts, ends, reason in conn.execute(_ONE_OFFS, {
                "ids": [r[0] for r in rows if r[5]], "first": first, "last": last}):
            one_offs.setdefault(grant_id, []).append(rule.OneOff(day, starts, ends, reason))
    grants: dict[str, list[rule.Grant]] = {}
    for grant_id, cabinet_id, person_id, role, expires_at, hours in rows:
        grants.setdefault(cabinet_id, []).append(rule.Grant(grant_id, cabinet_id, person_id, role, expires_at,
                                                            rule.parse_hours(hours),
                                                            tuple(one_offs.get(grant_id, ()))))
    return grants


def own_closed_days(conn: Connection, first: date, last: date) -> frozenset[date]:
    return frozenset(conn.execute(_CLOSED, {"first": first, "last": last}).scalars())


def roles_of(conn: Connection, person_ids: list[int]) -> dict[int, tuple[str, ...]]:
    if not person_ids:
        return {}
    return {pid: tuple(roles or ()) for pid, roles in conn.execute(_ROLES, {"ids": person_ids})}


class GrantBook:
    """The batch's grants: `refusal` answers for one staff tap at a cabinet, without I/O.

    A cabinet with no grant at all is open to every key holder, as before grants existed (a
    cabinet registered after the upgrade, until a manager gives its first grant).
    """

    def __init__(self, granted: set[str], grants: dict[str, list[rule.Grant]], roles: dict[int, tuple[str, ...]],
                 own_closed: frozenset[date], zone: ZoneInfo):
        self.granted = granted  # the cabinets with any grant at all
        self.grants, self.roles, self.own_closed, self.zone = grants, roles, own_closed, zone

    @classmethod
    def load(cls, conn: Connection, cabinets: list[str], person_ids: list[int], times: list[datetime],
             zone: ZoneInfo) -> GrantBook:
        """For taps at `cabinets` by `person_ids` at `times`: one query when no cabinet has grants, a few
        small ones when they do."""
        if not cabinets or not times:
            return cls(set(), {}, {}, frozenset(), zone)
        granted = set(conn.execute(_GRANTED, {"cabinets": cabinets}).scalars())
        if not granted:  # no cabinet of the batch has grants: every key holder opens them, as before grants
            return cls(granted, {}, {}, frozenset(), zone)
        first, last = min(times).astimezone(zone).date(), max(times).astimezone(zone).date()
        grants = load_grants(conn, sorted(granted), first=first, last=last, people=person_ids)
        with_roles = any(g.role is not None for gs in grants.values() for g in gs)
        timed = any(not g.any_time for gs in grants.values() for g in gs)
        return cls(granted, grants, roles_of(conn, person_ids) if with_roles else {},
                   own_closed_days(conn, first, last) if timed else frozenset(), zone)

    def refusal(self, cabinet_id: str, person_id: int, at: datetime) -> str | None:
        if cabinet_id not in self.granted:
            return None
        return rule.refusal(self.grants.get(cabinet_id, ()), person_id=person_id, roles=self.roles.get(person_id, ()),
                            at=at, zone=self.zone, own_closed=self.own_closed)
