"""The header menu's grouping: each role's groups hold only its links, and the page it is on is marked."""

from __future__ import annotations

from server.accounts.models import ROLES
from server.web.i18n import MESSAGES
from server.web.menu import GROUPS, NAV, menu_for


def test_every_link_is_in_one_group_and_every_word_is_in_the_catalogue():
    hrefs = [href for href, _, _ in NAV]
    assert len(hrefs) == len(set(hrefs))
    assert all(key in MESSAGES for key, _ in GROUPS)
    assert all(key in MESSAGES for _, key, _ in NAV)


def test_a_role_sees_only_its_links_and_no_empty_group():
    for role in ROLES:
        for group in menu_for(role, "/dashboard"):
            assert group.links
            assert all(role in dict((h, r) for h, _, r in NAV)[link.href] for link in group.links)


def test_the_receptionist_sees_the_desk_only():
    groups = menu_for("receptionist", "/reception")
    assert [g.key for g in groups] == ["nav.group.reception"]
    assert [link.href for link in groups[0].links] == ["/reception", "/rollcall", "/entry-log", "/admin/badges"]


def test_the_current_page_and_the_pages_under_a_link_are_marked():
    def marks(path):
        return {link.href: link.current for g in menu_for("manager", path) for link in g.links if link.current}

    assert marks("/register") == {"/register": "page"}
    assert marks("/register/overdue") == {"/register": "true"}
    assert marks("/admin/people/3") == {"/admin/people": "true"}
    assert marks("/admin/peoplex") == {}
    assert [g.key for g in menu_for("manager", "/audit") if g.current] == ["nav.group.audit"]
