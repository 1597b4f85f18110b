"""Names, labels and organisations are one line: a newline stored in one broke the host's arrival e-mail."""

from __future__ import annotations

import pytest

from tests.support.office import SITE

pytestmark = pytest.mark.integration

BREAKS = ["\n", "\r", "\t", "\x1b", "\x85", "\u2028"]


def refusals(brk: str) -> list[tuple[str, dict]]:
    return [
        ("/readers", {"id": "entrance", "site": SITE, "role": "entrance", "name": f"入口{brk}1"}),
        ("/people", {"name": f"山田{brk}太郎"}),
        ("/visitor-badges", {"uid": "0A0B0C0D", "label": f"来訪者{brk}1"}),
        ("/items", {"label": f"ファイル{brk}1", "kind": "folder", "tag_uid": "0A0B0C0E", "cabinet": "cabinet-1"}),
        ("/items", {"label": "ファイル", "kind": "folder", "tag_uid": "0A0B0C0F", "cabinet": "cabinet-1",
                    "case": f"R8-{brk}12"}),
        ("/visits", {"visitor_name": f"鈴木{brk}Bcc: x@example.jp"}),
        ("/visits", {"visitor_name": "鈴木", "organisation": f"株式会社{brk}サンプル"}),
        ("/visits", {"visitor_name": "鈴木", "host": f"佐藤{brk}"+"花子"}),
        ("/visits", {"visitor_name": "鈴木", "purpose": f"打合せ{brk}"+"Bcc: x"}),
    ]


def test_the_api_refuses_control_characters_in_every_one_line_field(office):
    office.add_reader("cabinet-1", "cabinet")
    for brk in BREAKS:
        for path, body in refusals(brk):
            detail = office.post(path, body, expect=422)["detail"]
            assert any(problem["type"] == "single_line" for problem in detail), (repr(brk), path, detail)
    assert office.get("/people") == [] and office.get("/visits") == []


def test_a_trailing_newline_is_trimmed_not_refused(office):
    """Pasting from Excel leaves a newline at the end; it is whitespace, not part of the name."""
    person = office.post("/people", {"name": "山田 太郎\r\n"})
    assert person["name"] == "山田 太郎"
