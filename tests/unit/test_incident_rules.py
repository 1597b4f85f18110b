"""The rules of an incident record (server/domain/incidents.py) and its PDF (server/web/incident_pdf.py)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from server.domain import incidents as rules
from server.web.incident_pdf import ReportPdf, render

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo


def facts(**overrides) -> rules.IncidentFacts:
    values = {"discovered_at": NOW - timedelta(minutes=30), "ward_reported_at": None, "cause": None,
              "prevention": None, "closed": False}
    return rules.IncidentFacts(**{**values, **overrides})


def test_the_timeline_starts_at_midnight_of_the_day_the_item_went_out_and_ends_now():
    out = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 12/1 08:30 in Tokyo
    start, end = rules.default_period(NOW, TOKYO, discovered_at=NOW - timedelta(hours=1), out_at=out)
    assert start == datetime(2026, 12, 1, tzinfo=TOKYO) and end == NOW


def test_the_timeline_of_an_item_not_seen_for_a_year_covers_the_last_92_days():
    start, _ = rules.default_period(NOW, TOKYO, discovered_at=NOW, last_seen_at=NOW - timedelta(days=365))
    assert start == NOW - rules.MAX_PERIOD


def test_a_period_is_ordered_at_most_92_days_and_an_extension_never_narrows():
    assert rules.period_problem(NOW, NOW - timedelta(hours=1)) == "period_order"
    assert rules.period_problem(NOW - timedelta(days=93), NOW) == "period_too_long"
    before = (NOW - timedelta(days=2), NOW - timedelta(days=1))
    assert rules.period_problem(NOW - timedelta(days=1), NOW, before=before) == "period_narrower"
    assert rules.period_problem(NOW - timedelta(days=3), NOW, before=before) is None


def test_the_first_report_is_late_only_past_the_limit_without_a_report_and_while_open():
    within = timedelta(minutes=60)
    assert not rules.ward_report_late(facts(), NOW, within)
    assert rules.ward_report_late(facts(), NOW + timedelta(minutes=30), within)
    assert not rules.ward_report_late(facts(ward_reported_at=NOW), NOW + timedelta(hours=5), within)
    assert not rules.ward_report_late(facts(closed=True), NOW + timedelta(hours=5), within)


def test_a_step_needs_its_words_or_for_a_report_its_time_and_nothing_is_added_after_closing():
    assert rules.step_refusal(facts(), "ward_reported", "", None, NOW) == "when_required"
    assert rules.step_refusal(facts(), "ward_reported", "", NOW, NOW) is None
    assert rules.step_refusal(facts(), "cause", "  ", None, NOW) == "text_required"
    assert rules.step_refusal(facts(), "note", "x" * (rules.TEXT_MAX + 1), None, NOW) == "text_too_long"
    assert rules.step_refusal(facts(), "manager_reported", "", NOW + timedelta(hours=1), NOW) == "in_future"
    assert rules.step_refusal(facts(), "opened", "x", None, NOW) == "unknown_step"
    assert rules.step_refusal(facts(closed=True), "note", "x", None, NOW) == "closed"


def test_closing_needs_the_ward_told_the_cause_and_the_prevention():
    assert rules.close_refusal(facts()) == "ward_not_reported"
    assert rules.close_refusal(facts(ward_reported_at=NOW)) == "no_cause"
    assert rules.close_refusal(facts(ward_reported_at=NOW, cause="鞄")) == "no_prevention"
    assert rules.close_refusal(facts(ward_reported_at=NOW, cause="鞄", prevention="確認")) is None


def test_every_page_of_the_pdf_has_the_title_the_office_and_page_x_of_y():
    rows = [[f"2026/12/0{n % 9 + 1}(火) 09:{n % 60:02d}", "読み取り", "佐藤 花子", f"書庫 1：持ち出し「調査書類 R8-{n:05d}」",
             f"読み取り #{n}（証跡チェーン #{n}）"] for n in range(150)]
    report = ReportPdf(title="事故報告書　事故等 No.7", office="練馬区 認定調査 受託事業所",
                       made="作成日時: 2026/12/03(木) 10:00　作成者: 田中", page_words="{page} / {pages}",
                       stamps=["担当", "確認", "管理責任者", "監査"], facts=[("種類", "紛失・盗難"), ("原因", "鞄の口")],
                       sections=[("台帳から保全した経過", ["日時", "内容", "職員", "詳細", "証拠"], rows,
                                  [0.17, 0.12, 0.13, 0.38, 0.2])])
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(render(report))).pages]
    assert len(pages) >= 3
    for number, page in enumerate(pages, 1):
        assert "事故報告書　事故等 No.7" in page and "練馬区 認定調査 受託事業所" in page
        assert f"{number} / {len(pages)}" in page and "作成者: 田中" in page
    text = "\n".join(pages)
    assert all(f"R8-{n:05d}" in text for n in range(150)) and "管理責任者" in pages[0]
