"""An incident's timeline lines and process-log steps in the reader's words: for the page, the A4 print
and the PDF alike (times in office time; codes through the catalogue)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from server.incidents.models import IncidentEvent, TimelineLine
from server.web.render import office_time


class IncidentWords:
    def __init__(self, t: Callable[..., str], zone: ZoneInfo, lang: str) -> None:
        self.t, self.zone, self.lang = t, zone, lang

    def time(self, value: datetime | str | None) -> str:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return office_time(value, self.zone, self.lang)

    def _code(self, prefix: str, code: str | None, fallback: str = "") -> str:
        key = f"{prefix}{code}"
        words = self.t(key)
        return fallback or str(code or "—") if words == key else words

    def line(self, line: TimelineLine) -> dict[str, str]:
        """when, what, who, detail, source (the ledger and row, and the chain position when known)."""
        f, t = line.facts, self.t
        detail = getattr(self, f"_{line.kind}")(f)
        source = f"{self._code('inc.tl.source.', line.source_table, line.source_table)} #{line.source_id}"
        if line.chain_seq is not None:
            source += t("inc.tl.chain", seq=line.chain_seq)
        who = f.get("person") or f.get("by") or "—"
        return {"when": self.time(line.at), "what": self._code("inc.tl.kind.", line.kind), "who": who,
                "detail": detail, "source": source}

    def _tap(self, f: dict) -> str:
        t = self.t
        if f.get("result") == "deny":
            result = t("inc.tl.deny", reason=self._code("alert.reason.", f.get("reason"), t("alert.reason.other")))
        else:
            result = self._code("inc.tl.tap.", f.get("action"), t("inc.tl.tap.other"))
        if f.get("duplicate"):
            result += t("inc.tl.duplicate")
        item = t("inc.tl.tap_item", item=f["item"]) if f.get("item") else ""
        return t("inc.tl.tap_detail", reader=f.get("reader") or "—", result=result, item=item)

    def _checkout(self, f: dict) -> str:
        return self.t("inc.tl.checkout_detail", item=f.get("item") or "—", due=self.time(f.get("due_at")),
                      purpose=f.get("purpose") or "—")

    def _return(self, f: dict) -> str:
        return self.t("inc.tl.return_detail", item=f.get("item") or "—", out=self.time(f.get("out_at")))

    def _session(self, f: dict) -> str:
        closed = self.time(f["closed_at"]) if f.get("closed_at") else self.t("inc.tl.not_back")
        return self.t("inc.tl.session_detail", reader=f.get("reader") or "—", closed=closed)

    def _door(self, f: dict) -> str:
        return f"{f.get('reader') or '—'}：{self._code('inc.tl.door.', f.get('event'))}" if self.lang == "ja" else \
            f"{f.get('reader') or '—'}: {self._code('inc.tl.door.', f.get('event'))}"

    def _presence(self, f: dict) -> str:
        return self.t(f"inc.tl.presence.{'exit' if f.get('direction') == 'exit' else 'entry'}",
                      reader=f.get("reader") or "—")

    def _alert(self, f: dict) -> str:
        t = self.t
        kind = self._code("alert.type.", f.get("type"), t("alert.type.other"))
        what = " — ".join(str(v) for v in (f.get("item"), f.get("person"), f.get("reader")) if v)
        return t("inc.tl.alert_detail", type=kind, what=f" — {what}" if what else "", count=f.get("count") or 1,
                 state=self._code("alert.state.", f.get("state")))

    def _unlock(self, f: dict) -> str:
        return self.t("inc.tl.unlock_detail", reader=f.get("reader") or "—", by=f.get("by") or "—",
                      failed=self.t("inc.tl.unlock_failed") if f.get("failed") else "")

    def _lost(self, f: dict) -> str:
        return self.t("inc.tl.lost_detail", item=f.get("item") or "—", by=f.get("by") or "—")

    _found = _lost

    def step(self, event: IncidentEvent) -> dict[str, str]:
        """when written, by whom, what (the step, when it happened, the words)."""
        t, changes = self.t, event.changes or {}
        name = t(f"inc.step.{event.action}", lines=changes.get("lines", 0))
        if event.happened_at:
            name += t("inc.log.happened", at=self.time(event.happened_at))
        return {"when": self.time(event.at), "who": event.by_name, "what": name, "text": event.text or ""}
