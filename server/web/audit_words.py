"""An audit entry's facts in the reader's words: labels from the catalog, codes as words, times in office time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from server.audit.service import facts_of
from server.notify.kinds import KINDS as NOTICE_KINDS
from server.wareki import wareki
from server.web.grant_words import hours_words
from server.web.render import uid_tail

# fact -> the catalog prefix that words its code
CODES = {"role": "role.", "reader_role": "admin.readers.role.", "kind": "admin.items.kind.",
         "status": "admin.items.status.", "who": "log.who.", "report": "reg.report.", "loan_state": "reg.state.",
         "state": "st.state.", "case_state": "cases.state.", "case_kind": "cases.kind.", "method": "cases.method.", "alert_type": "alert.type.", "reason": "audit.reason.", "where": "audit.where.",
         "outcome": "audit.outcome.", "shown_action": "audit.action.", "job_role": "role.",
         "qualification": "roster.qualification.", "download": "audit.download.", "card_kind": "card_auth.kind.",
         "incident_kind": "inc.kind.", "step": "inc.step."}
TIMES = {"until", "cutoff", "returned", "expires_at", "signed_at", "expired_at"}
DATES = {"from", "to", "day", "training_on", "held_on", "last_day", "registered_on"}
UIDS = {"card", "tag"}  # only the last four characters: enough to tell cards apart, not to copy one


class Words:
    """Renders the facts of one entry; `t` is the reader's translator."""

    def __init__(self, t: Callable[..., str], lang: str, zone: ZoneInfo,
                 duration: Callable[[float], str]) -> None:
        self.t, self.lang, self.zone, self.duration = t, lang, zone, duration
        self.sep = "、" if lang == "ja" else "; "
        self.colon = "：" if lang == "ja" else ": "

    def action(self, code: str) -> str:
        return self.t(f"audit.action.{code}")

    def detail(self, stored: str) -> str:
        """The details column: the facts in words, or an older entry's text as it was written."""
        facts = facts_of(stored)
        if facts is None:
            return stored and f"{stored} {self.t('audit.old_entry')}"
        parts = []
        for key, value in facts.items():
            if key == "changes" and isinstance(value, dict):
                parts += [f"{self.t(f'audit.fact.{field}')}{self.colon}{self.value(field, before)} → "
                          f"{self.value(field, after)}" for field, (before, after) in value.items()]
            elif value not in (None, "", [], {}):
                parts.append(f"{self.t(f'audit.fact.{key}')}{self.colon}{self.value(key, value)}")
        return self.sep.join(parts)

    def value(self, key: str, value: object) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return self.t("audit.yes" if value else "audit.no")
        if key == "rule" and isinstance(value, dict):
            return self._rule(value)
        if key == "hours" and isinstance(value, list):  # a grant's weekly hours (server/domain/grants.py)
            return hours_words(value, self.t, self.lang)
        if key == "off" and isinstance(value, list):
            names = {k.name: (k.ja if self.lang == "ja" else k.en) for k in NOTICE_KINDS.values()}
            return self.sep.join(names.get(str(v), str(v)) for v in value) or "—"
        if isinstance(value, list):
            return self.sep.join(self.value(key, v) for v in value)
        text = str(value)
        if key in CODES:
            return self.t(CODES[key] + text)
        if key in UIDS:
            return ", ".join(uid_tail(uid) for uid in text.split(","))
        if key in TIMES:
            return self._time(text)
        if key in DATES:
            return self._date(text)
        return text

    def _rule(self, rule: dict) -> str:
        if rule.get("due_time"):
            return self.t("audit.rule.due", time=rule["due_time"])
        return self.t("audit.rule.minutes", length=self.duration(int(rule.get("minutes") or 0) * 60))

    def _time(self, text: str) -> str:
        try:
            moment = datetime.fromisoformat(text).astimezone(self.zone)
        except ValueError:
            return text
        return f"{moment:%Y/%m/%d %H:%M}"

    def _date(self, text: str) -> str:
        try:
            day = date.fromisoformat(text[:10])
        except ValueError:
            return text
        return f"{wareki(day)}（{day:%Y/%m/%d}）" if self.lang == "ja" else f"{day:%Y/%m/%d}"
