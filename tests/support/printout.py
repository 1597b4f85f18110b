"""A printout's HTML (templates/print_base.html) read back as a person sees it on paper."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Printout:
    body_class: str = ""
    head: str = ""  # the header repeated on every page: title, office, period
    foot: str = ""  # the footer repeated on every page: printed at / by
    stamps: list[str] = field(default_factory=list)  # the first page's stamp boxes, left to right
    page_stamp: str = ""  # the per-page 確認印 box
    columns: list[str] = field(default_factory=list)  # the ledger's c-<key> column classes
    rows: list[list[tuple[str, str]]] = field(default_factory=list)  # (column class, text) per cell


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.out = Printout()
        self._where: list[str] = []  # the open elements that matter: head, foot, stamps, stamp, page_stamp, cell
        self._depth: list[tuple[str, str | None]] = []
        self._in_ledger = self._ledger_body = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        role = None
        if tag == "body":
            self.out.body_class = a.get("class") or ""
        elif "print-head" in classes:
            role = "head"
        elif "print-foot" in classes:
            role = "foot"
        elif "print-page-stamp" in classes:
            role = "page_stamp"
        elif "print-stamps" in classes:
            role = "stamps"
        elif tag == "div" and self._where and self._where[-1] == "stamps":
            self.out.stamps.append("")
            role = "stamp"
        elif tag == "table" and "print-ledger" in classes:
            self._in_ledger = True
        elif self._in_ledger and tag == "col":
            self.out.columns.append(a.get("class") or "")
        elif self._in_ledger and tag == "tbody":
            self._ledger_body = True
        elif self._ledger_body and tag == "tr" and "empty" not in classes:
            self.out.rows.append([])
        elif self._ledger_body and tag == "td" and self.out.rows:
            self.out.rows[-1].append((a.get("class") or "", ""))
            role = "cell"
        if tag not in ("col", "meta", "link", "br", "input"):
            self._depth.append((tag, role))
            if role:
                self._where.append(role)

    def handle_endtag(self, tag):
        while self._depth:
            open_tag, role = self._depth.pop()
            if role:
                self._where.pop()
            if open_tag == tag:
                break
        if tag == "table":
            self._in_ledger = self._ledger_body = False

    def handle_data(self, data):
        if not self._where:
            return
        where = self._where[-1]
        if where == "cell":
            css, text = self.out.rows[-1][-1]
            self.out.rows[-1][-1] = (css, text + data)
        elif where == "stamp":
            self.out.stamps[-1] += data
        elif where == "page_stamp":
            self.out.page_stamp += data
        elif "head" in self._where:
            self.out.head += data
        elif "foot" in self._where:
            self.out.foot += data


def read_printout(html: str) -> Printout:
    reader = _Reader()
    reader.feed(html)
    return reader.out


def column(printout: Printout, key: str) -> list[str]:
    """Every row's text in the column c-<key>."""
    return [text for row in printout.rows for css, text in row if css == f"c-{key}"]
