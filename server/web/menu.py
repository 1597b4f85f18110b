"""The header's menu: links grouped as the office works, each role shown only what it may open.

A group is a disclosure menu (`<details>` in `base.html`); a group with one link for a role is shown as
that link. Each page's own guard decides access; `tests/integration/test_page_matrix.py` checks the menu
shows each link exactly to the roles its page's guard lets in.
"""

from __future__ import annotations

from dataclasses import dataclass

EVERYONE = ("admin", "manager", "receptionist", "surveyor", "auditor")
OVERSIGHT = ("admin", "manager", "auditor")
DESK = ("admin", "manager", "receptionist", "auditor")

# (group's message key, [(path, message key, roles that see it)]), in the order the header shows them.
GROUPS: list[tuple[str, list[tuple[str, str, tuple[str, ...]]]]] = [
    ("nav.group.reception", [
        ("/reception", "nav.reception", ("admin", "manager", "receptionist")),
        ("/visits/new", "nav.preregister", ("surveyor",)),
        ("/rollcall", "nav.rollcall", EVERYONE),
        ("/entry-log", "nav.entry_log", DESK),
        ("/admin/badges", "nav.badges", DESK),
    ]),
    ("nav.group.take_out", [
        ("/my", "nav.my", ("surveyor",)),
        ("/register", "nav.register", ("admin", "manager", "auditor", "surveyor")),
        ("/devices", "nav.devices", ("admin", "manager", "surveyor", "auditor")),
        ("/lost", "nav.lost", OVERSIGHT),
        ("/stocktakes", "nav.stocktakes", OVERSIGHT),
    ]),
    ("nav.group.cases", [
        ("/cases", "nav.cases", ("admin", "manager", "surveyor", "auditor")),
    ]),
    ("nav.group.training", [
        ("/training", "nav.training", OVERSIGHT),
        ("/roster", "nav.roster", OVERSIGHT),
    ]),
    ("nav.group.keys", [
        ("/admin/people", "nav.people", OVERSIGHT),
        ("/admin/items", "nav.items", OVERSIGHT),
        ("/admin/loan-rules", "nav.loan_rules", OVERSIGHT),
        ("/admin/grants", "nav.grants", OVERSIGHT),
        ("/access-review", "nav.access_review", OVERSIGHT),
        ("/admin/readers", "nav.readers", OVERSIGHT),
        ("/admin/import", "nav.import", ("admin", "manager")),
        ("/admin/accounts", "acct.nav", OVERSIGHT),
    ]),
    ("nav.group.audit", [
        ("/incidents", "nav.incidents", OVERSIGHT),
        ("/inspection", "nav.inspection", OVERSIGHT),
        ("/audit", "nav.audit", OVERSIGHT),
        ("/ledger/chain", "nav.chain", OVERSIGHT),
    ]),
]
# Every link flat, as (path, message key, roles).
NAV = [link for _, links in GROUPS for link in links]


@dataclass(frozen=True)
class Link:
    href: str
    key: str
    current: str | None  # aria-current: "page" on its own page, "true" on one of its pages, else None


@dataclass(frozen=True)
class Group:
    key: str
    links: tuple[Link, ...]

    @property
    def current(self) -> bool:
        return any(link.current for link in self.links)


def aria_current(href: str, path: str) -> str | None:
    """aria-current for a link: "page" on its page, "true" on a page under it (/admin/people/3), else None."""
    if path == href:
        return "page"
    return "true" if path.startswith(href.rstrip("/") + "/") else None


def menu_for(role: str | None, path: str) -> list[Group]:
    """The groups `role` sees, each with only the links it may open; the one for `path` marked current."""
    groups = []
    for key, links in GROUPS:
        shown = tuple(Link(href, label, aria_current(href, path)) for href, label, roles in links if role in roles)
        if shown:
            groups.append(Group(key, shown))
    return groups
