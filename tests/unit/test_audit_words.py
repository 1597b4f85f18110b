"""The audit log reads in words: every action has a label, every fact a name, every code a word."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from server.audit.actions import ACTIONS
from server.audit.service import record
from server.web.audit_words import CODES, Words
from server.web.i18n import MESSAGES, translator
from server.web.render import duration

ROOT = Path(__file__).resolve().parents[2]
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
# record(db, at, action, actor, facts, …) and the pages' audit(db, request, action, facts)
ACTION_ARG = {"record": 2, "audit": 2}
FACTS_ARG = {"record": 4, "audit": 3}


def _calls() -> list[tuple[Path, ast.Call, str]]:
    calls = []
    for path in ROOT.glob("server/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ACTION_ARG:
                calls.append((path, node, node.func.id))
    return calls


def _strings(node: ast.AST) -> list[str]:
    """The action codes an argument can be: a literal, or either side of `a if … else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _words(lang: str = "ja") -> Words:
    return Words(translator(lang), lang, ZoneInfo("Asia/Tokyo"), lambda s: duration(s, lang))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_audit_action_has_a_label_in_both_languages(lang):
    t = translator(lang)
    missing = sorted(a for a in ACTIONS if t(f"audit.action.{a}") == f"audit.action.{a}")
    assert missing == []


def test_every_action_recorded_anywhere_in_server_is_registered():
    used = {code for _path, call, name in _calls() if len(call.args) > ACTION_ARG[name]
            for code in _strings(call.args[ACTION_ARG[name]])}
    assert used and used <= ACTIONS, sorted(used - ACTIONS)
    labelled = {key.removeprefix("audit.action.") for key in MESSAGES if key.startswith("audit.action.")}
    assert labelled == ACTIONS, "a label without an action, or an action without a label"


def test_every_fact_written_at_a_call_site_has_a_name():
    keys = set()
    for _path, call, name in _calls():
        facts = call.args[FACTS_ARG[name]] if len(call.args) > FACTS_ARG[name] else None
        if isinstance(facts, ast.Dict):
            for key, value in zip(facts.keys, facts.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "changes":  # worded by the fields changed
                    if isinstance(value, ast.Dict):
                        keys |= {k.value for k in value.keys if isinstance(k, ast.Constant)}
                elif isinstance(key, ast.Constant):
                    keys.add(key.value)
    assert {"item", "visit", "account"} <= keys  # the scan finds the call sites
    assert sorted(k for k in keys if f"audit.fact.{k}" not in MESSAGES) == []


def test_every_code_a_fact_holds_is_worded():
    from server.domain.stocktake import OUTCOMES  # noqa: F401  (the outcomes are facts' names, not values)

    values = {"role": ["admin", "manager", "receptionist", "surveyor", "auditor"], "reader_role": ["entrance", "cabinet"],
              "kind": ["folder", "phone", "media", "laptop", "key"], "status": ["active", "lost", "retired"],
              "who": ["all", "visitor", "staff"], "report": ["transactions", "out", "overdue", "access"],
              "state": ["open", "finished", "cancelled"], "where": ["login", "unlock"],
              "outcome": ["returned", "signed_out", "cancelled"],
              "reason": ["other_login", "unknown_account", "wrong_password", "broker_away", "alert_reconnected",
                         "alert_erased", "alert_marked_lost"]}
    words = _words()
    unworded = [(key, v) for key, codes in values.items() for v in codes if words.value(key, v) == CODES[key] + v]
    assert unworded == []


def test_a_change_reads_as_before_and_after_in_words():
    detail = '{"item": "携帯 1", "changes": {"status": ["active", "lost"], "encrypted": [false, true]}}'
    assert _words().detail(detail) == "物品：携帯 1、状態：使用中 → 紛失、暗号化：いいえ → はい"
    assert _words("en").detail(detail) == "item: 携帯 1; status: In use → Lost; encrypted: no → yes"


def test_cards_show_their_last_four_characters_and_times_are_office_time():
    words = _words()
    assert words.detail('{"card": "04A1B2C3D4E5F6", "until": "2026-11-27T00:45:00+00:00"}') == \
        "カード：…E5F6、ロック解除予定：2026/11/27 09:45"
    assert not SNAKE.search(words.detail('{"role": "receptionist", "reason": "wrong_password", "failures": 3}'))


def test_an_entry_from_before_facts_were_kept_reads_as_it_was_written():
    assert _words().detail("visit 12 (walk-in)") == "visit 12 (walk-in) （以前の形式の記録）"
    assert _words().detail("") == ""


def test_an_unregistered_action_is_refused_so_it_cannot_reach_the_page_as_a_code():
    with pytest.raises(ValueError, match="server/audit/actions.py"):
        record(None, None, "something_new", "sato", {})  # type: ignore[arg-type]
