"""Which cards a cabinet's offline allowlist holds, and when each may open (server/domain/grants.py on the wire)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import protocol
from server.domain import grants as rule
from server.grants.facts import load_grants, own_closed_days, roles_of
from server.people.models import Card

ANY_TIME: tuple = ()  # a card whose grants include one without hours


@dataclass(frozen=True, slots=True)
class Window:
    """One grant's hours as the wire says them (protocol.Hours without its cards and closed days)."""

    week: tuple[str, ...]
    extra: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CabinetCards:
    cards: tuple[tuple[str, tuple[Window, ...]], ...]  # (uid, its windows; ANY_TIME)
    closed: tuple[str, ...]  # closed days within the list's life, YYYY-MM-DD


def _window(grant: rule.Grant, first: date, last: date) -> Window:
    week = tuple(f"{s.weekday + 1} {s.start:%H:%M}-{s.end:%H:%M}" for s in grant.slots)
    extra = tuple(f"{o.on.isoformat()} {o.start:%H:%M}-{o.end:%H:%M}" for o in grant.one_offs if first <= o.on <= last)
    return Window(week, extra)


def cabinet_cards(db: Session, cabinets: list[str], uids: list[str], *, now: datetime, until: datetime,
                  zone) -> dict[str, CabinetCards]:
    """For each cabinet, the cards of `uids` (key holders fit to open, in the caller's order) its grants
    let in before the list expires. A grant that ends before `until` is left off (fail-secure, like
    training that lapses); a cabinet without any grant keeps every key holder, at any time."""
    first, last = now.astimezone(zone).date(), until.astimezone(zone).date()
    conn = db.connection()
    grants = load_grants(conn, cabinets, first=first, last=last)
    owners = dict(db.execute(select(Card.uid, Card.person_id).where(Card.uid.in_(uids))).all()) if grants else {}
    roles = roles_of(conn, sorted(set(owners.values()))) if any(
        g.role for gs in grants.values() for g in gs) else {}
    timed = any(not g.any_time for gs in grants.values() for g in gs)
    closed = tuple(d.isoformat() for d in rule.closed_days_between(first, last, own_closed_days(conn, first, last))) \
        if timed else ()
    result = {}
    for cabinet in cabinets:
        theirs = grants.get(cabinet)
        if not theirs:
            result[cabinet] = CabinetCards(tuple((uid, ANY_TIME) for uid in uids), ())
            continue
        cards = []
        for uid in uids:
            person = owners[uid]
            live = [g for g in theirs if g.covers(person, roles.get(person, ())) and g.live(until)]
            if not live:
                continue
            any_time = any(g.any_time for g in live)
            cards.append((uid, ANY_TIME if any_time else tuple(dict.fromkeys(_window(g, first, last) for g in live))))
        result[cabinet] = CabinetCards(tuple(cards), closed if any(w for _uid, w in cards) else ())
    return result


def wire_hours(index_of: dict[str, int], cards: CabinetCards) -> list[protocol.Hours] | None:
    """The list's `hours`: one entry per distinct window, naming the cards (by hash index) it holds for."""
    holders: dict[Window, list[int]] = {}
    for uid, windows in cards.cards:
        if uid in index_of:
            for window in windows:
                holders.setdefault(window, []).append(index_of[uid])
    if not holders:
        return None
    return [protocol.Hours(cards=sorted(idx), week=list(w.week), closed=list(cards.closed), extra=list(w.extra))
            for w, idx in holders.items()]
