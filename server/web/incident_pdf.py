"""The 事故報告書 as a PDF the manager attaches to an e-mail to the ward: A4, the same words as the printed
page, the title, office and "page x / y" at the top of every page and who made it at the foot.

reportlab, with its built-in Japanese CID font (HeiseiKakuGo-W5: no font file on the server, no browser).
The document is laid out twice: the first pass counts the pages, so every page can say "x / y".
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "HeiseiKakuGo-W5"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
_BODY = ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=11.5, wordWrap="CJK")
_HEADING = ParagraphStyle("heading", parent=_BODY, fontSize=11, leading=15, spaceBefore=4 * mm, spaceAfter=2 * mm)
_GRID = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)])
_FACTS = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                     ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee"))])
_MARGIN = 15 * mm
_WIDTH = A4[0] - 2 * _MARGIN


@dataclass
class ReportPdf:
    """What the report says, already in the reader's words."""

    title: str
    office: str
    made: str  # "作成日時: … 作成者: …"
    page_words: str  # "{page} / {pages}"
    stamps: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    sections: list[tuple[str, list[str], list[list[str]], list[float]]] = field(default_factory=list)


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _story(report: ReportPdf) -> list:
    story: list = []
    if report.stamps:
        boxes = Table([[_p(label) for label in report.stamps], ["" for _ in report.stamps]],
                      colWidths=[22 * mm] * len(report.stamps), rowHeights=[5 * mm, 14 * mm], hAlign="RIGHT")
        boxes.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black)]))
        story += [boxes, Spacer(1, 3 * mm)]
    facts = Table([[_p(label), _p(value)] for label, value in report.facts], colWidths=[38 * mm, _WIDTH - 38 * mm])
    facts.setStyle(_FACTS)
    story.append(facts)
    for heading, columns, rows, widths in report.sections:
        story.append(_p(heading, _HEADING))
        table = Table([[_p(c) for c in columns]] + [[_p(cell) for cell in row] for row in rows],
                      colWidths=[w * _WIDTH for w in widths], repeatRows=1)
        table.setStyle(_GRID)
        story.append(table)
    return story


def _build(report: ReportPdf, pages: int) -> tuple[bytes, int]:
    out = io.BytesIO()
    counted = [0]

    def frame(canvas, doc) -> None:
        counted[0] = doc.page
        canvas.saveState()
        canvas.setFont(FONT, 13)
        canvas.drawString(_MARGIN, A4[1] - 12 * mm, report.title)
        canvas.setFont(FONT, 8.5)
        canvas.drawString(_MARGIN, A4[1] - 17 * mm, report.office)
        canvas.drawRightString(A4[0] - _MARGIN, A4[1] - 12 * mm, report.page_words.format(page=doc.page, pages=pages))
        canvas.drawString(_MARGIN, 9 * mm, report.made)
        canvas.restoreState()

    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=22 * mm,
                            bottomMargin=15 * mm, title=report.title, author=report.office)
    doc.build(_story(report), onFirstPage=frame, onLaterPages=frame)
    return out.getvalue(), counted[0]


def render(report: ReportPdf) -> bytes:
    """The PDF's bytes."""
    _, pages = _build(report, 0)
    data, _ = _build(report, pages)
    return data
