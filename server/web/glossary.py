"""The office's words: one name per thing, on every page, print and CSV; the ward's word where its material has one.

Each term lists the synonyms the pages must not use (regular expressions). `python -m server.web.glossary`
prints docs/glossary.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    ja: str
    en: str
    rejected: tuple[str, ...] = ()  # patterns for the other names of the same thing
    source: str = ""  # where the word comes from, for docs/glossary.md


SEED = "区の教材"  # /work/shared/seed: the ward's information-security training material

TERMS: dict[str, Term] = {
    "case_number": Term("ケース番号", "case number", ("案件番号", "ケースNo"), ""),
    "people_inside": Term("在館者", "people in the office", ("在室者", "在室中"), SEED + "（入館）"),
    "folder": Term("調査書類", "case folder", (r"ファイル（書類）", "ケースファイル", "書類ファイル"), SEED),
    "key_holder": Term("鍵を持つ職員", "key holder", ("鍵管理者", "鍵保有者", "鍵所持者"), SEED + "（鍵を持つ従事者）"),
    "take_out": Term("持ち出し", "take-out", ("持出",), SEED),
    "return": Term("返却", "return", ("返納", "返還"), ""),
    "overdue": Term("返却期限超過", "overdue", ("返却期限切れ", "延滞"), ""),
    "cabinet": Term("キャビネット", "cabinet", ("保管庫", "ロッカー"), SEED + "（施錠できるキャビネット）"),
    "visitor": Term("来所者", "visitor", ("来訪者", "来客", "訪問者"), SEED),
    "visitor_badge": Term("来所者カード", "visitor badge", ("入館証", "ゲストカード", "来訪者カード"), ""),
    "name_tag": Term("名札", "name tag", ("ネームタグ", "ネームプレート"), SEED),
    "reader": Term("読取機", "reader", ("読み取り機", "リーダー", "カードリーダ"), ""),
    "surveyor": Term("認定調査員", "surveyor", ("調査担当者",), SEED),
    "manager": Term("管理責任者", "manager", (r"(?<!システム)管理者",), SEED),
    "staff": Term("職員", "staff", ("従業員", "スタッフ"), ""),
    "item": Term("物品", "item", ("備品",), ""),
    "training": Term("情報セキュリティ教育", "information-security training", ("研修",), SEED),
    "roster": Term("要介護認定調査員名簿", "surveyor roster", ("調査員リスト", "調査員一覧"), SEED),
    "entry_log": Term("入退室記録簿", "visitor log", ("入館記録簿", "入退館記録"), SEED),
    "take_out_ledger": Term("持ち出し管理簿", "take-out ledger", ("持ち出し記録簿", "貸出簿"), SEED),
    "audit_log": Term("操作記録", "audit log", ("監査ログ", "操作ログ"), ""),
    "stocktake": Term("棚卸", "stock-take", ("棚卸し",), ""),
    "lost": Term("紛失", "lost", ("遺失",), SEED),
    "erased": Term("データ消去", "data erased", ("データ削除",), SEED),
    "incident": Term("事故等", "incident", ("インシデント", "セキュリティ事故報告"), SEED + "（情報セキュリティ事故等）"),
    "evidence_chain": Term("証跡チェーン", "evidence chain", ("ハッシュチェーン", "監査チェーン"), ""),
}


def term(key: str, *, heading: bool = True) -> tuple[str, str]:
    """(日本語, English) of a glossary term for the catalog's entries that name it; a heading starts with a capital."""
    word = TERMS[key]
    return word.ja, word.en[:1].upper() + word.en[1:] if heading else word.en


def variants_in(text: str) -> list[tuple[str, str]]:
    """(rejected word found, the term to use instead) for every rejected synonym in `text`."""
    found = []
    for word in TERMS.values():
        for pattern in word.rejected:
            found += [(m.group(0), word.ja) for m in re.finditer(pattern, text)]
    return found


def markdown() -> str:
    """docs/glossary.md: the table a writer checks a word against."""
    lines = ["# Glossary (用語集)", "",
             "One word per thing on every page, printout and CSV. Generated from `server/web/glossary.py`",
             "(`python -m server.web.glossary > docs/glossary.md`); a test fails when a page or message uses a",
             "word from the last column.", "",
             "| 日本語 | English | 出典 | 使わない言い方 |", "|---|---|---|---|"]
    for word in TERMS.values():
        rejected = "、".join(p.replace("(?<!システム)", "") for p in word.rejected)
        lines.append(f"| {word.ja} | {word.en} | {word.source or '—'} | {rejected} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
