"""The monthly self-inspection (自己点検): the seed's rules (7) and (8) that no tap can show, asked of a
manager once a month, and what an answer (or its absence) means for the inspection pack.

Pure: months and answers in, findings out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

NOTE_MAX = 500

# (key, the seed's rule section): the questions, in the seed's order and words (server/web/messages/inspection.py).
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("voicemail", "7"),  # (7)-1 留守番電話に個人情報を録音しない
    ("callback", "7"),  # (7)-2 電話の問い合わせはかけ直し、本人以外に伝えない
    ("third_party", "7"),  # (7)-3 第三者がいる場所で個人情報を含む会話をしない
    ("own_ids", "8"),  # (8)①-1 ID とパスワードを共用しない
    ("internet", "8"),  # (8)①-2 インターネット接続環境での不正アクセス対策
    ("antivirus", "8"),  # (8)①-3 ウィルス対策ソフトとパターンファイルの最新化
    ("patches", "8"),  # (8)①-4 OS・ミドルウェアへの修正プログラムの定期適用
    ("no_unapproved", "8"),  # (8)①-5 許可のない記録媒体・ソフトウェアを防ぐ措置
    ("screen_lock", "8"),  # (8)①-6 離席時のスクリーンセーバ等による自動ロック
    ("distinct_passwords", "8"),  # (8)②-1 システム・記録媒体ごとに異なるパスワード
    ("private_devices", "8"),  # (8)②-3 私物等の許可されていないシステム・媒体を使わない
    ("media_virus_check", "8"),  # (8)②-4 記録媒体を接続するときのウィルスチェック
    ("file_sharing", "8"),  # (8)②-5 ファイル交換ソフト・許可のないソフトをインストールしない
)
KEYS = tuple(key for key, _rule in QUESTIONS)


@dataclass(frozen=True)
class Answer:
    ok: bool  # はい: the rule was kept this month
    note: str = ""


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months(first: date, last: date, today: date) -> list[str]:
    """The months the period touches that have begun by `today` (a month to come needs no answer yet)."""
    out: list[str] = []
    year, month = first.year, first.month
    end = min(last, today)
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def problems(answers: dict[str, Answer]) -> dict[str, str]:
    """question -> what is wrong with its answer ('unanswered', 'note_needed', 'too_long'); empty when all is well.
    A いいえ (not kept) needs a note: what happened and what was done."""
    found: dict[str, str] = {}
    for key in KEYS:
        answer = answers.get(key)
        if answer is None:
            found[key] = "unanswered"
        elif len(answer.note) > NOTE_MAX:
            found[key] = "too_long"
        elif not answer.ok and not answer.note.strip():
            found[key] = "note_needed"
    return found


def findings(rule: str, month_list: list[str], latest: dict[str, dict[str, Answer]]) -> list[tuple[str, str, str | None]]:
    """For one rule: (month, 'missing', None) for a month without an answer, (month, 'not_kept', question) for
    each of its questions answered いいえ in the month's latest answer."""
    out: list[tuple[str, str, str | None]] = []
    for month in month_list:
        answers = latest.get(month)
        if answers is None:
            out.append((month, "missing", None))
            continue
        out += [(month, "not_kept", key) for key, of_rule in QUESTIONS
                if of_rule == rule and key in answers and not answers[key].ok]
    return out
