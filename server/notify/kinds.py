"""The kinds of notice, their names in both languages, and which account roles may receive them.

Data only. A person chooses among the kinds their role may receive (`/account/notices`); a kind
not listed here cannot be made.
"""

from __future__ import annotations

from dataclasses import dataclass

EVERYONE = ("admin", "manager", "receptionist", "surveyor", "auditor")
MANAGERS = ("admin", "manager")


@dataclass(frozen=True)
class NoticeKind:
    name: str
    ja: str
    en: str
    roles: tuple[str, ...]  # account roles that may receive it


KINDS: dict[str, NoticeKind] = {kind.name: kind for kind in (
    # To the host of the visit.
    NoticeKind("visitor_arrived", "来所者の到着", "Visitor arrived", EVERYONE),
    # To the person holding the item.
    NoticeKind("due_soon", "返却期限前のお知らせ", "Due back soon", EVERYONE),
    NoticeKind("overdue", "返却期限超過", "Overdue", EVERYONE),
    # To managers, when an overdue item is still out.
    NoticeKind("escalated", "返却期限超過（督促）", "Overdue (escalated)", MANAGERS),
    # A device came back without its data erasure confirmed: the holder and managers.
    NoticeKind("not_erased", "データ消去未確認", "Data erasure not confirmed", (*MANAGERS, "surveyor")),
    # At closing time: reception and managers.
    NoticeKind("visitor_not_signed_out", "退室未確認の来所者", "Visitor not signed out", (*MANAGERS, "receptionist")),
    # Cabinet doors and readers: managers.
    NoticeKind("door_forced", "扉のこじ開け（解錠なしの開扉）", "Door forced (opened without an unlock)", MANAGERS),
    NoticeKind("door_held_open", "扉の開放時間超過", "Door held open too long", MANAGERS),
    NoticeKind("reader_offline", "読取機オフライン", "Reader offline", MANAGERS),
    NoticeKind("reader_online", "読取機の再接続", "Reader back online", MANAGERS),
    NoticeKind("reader_degraded", "読取機がカードを読み取れない", "Reader cannot read cards", MANAGERS),
    # The evidence chain (docs/evidence.md): the day's head hash, kept outside the database; a failed check.
    NoticeKind("chain_anchor", "証跡チェーンの日次記録", "Evidence chain: the day's anchor", (*MANAGERS, "auditor")),
    NoticeKind("chain_broken", "証跡チェーンの検証失敗", "Evidence chain check failed", (*MANAGERS, "auditor")),
    # The 受付簿: the surveyor in charge and managers.
    NoticeKind("case_deadline_near", "調査期限が近い依頼", "Survey deadline near", (*MANAGERS, "surveyor")),
    NoticeKind("case_deadline_passed", "調査期限を過ぎた依頼", "Survey deadline passed", (*MANAGERS, "surveyor")),
    NoticeKind("case_report_late", "調査票の未提出", "Report not submitted", (*MANAGERS, "surveyor")),
    NoticeKind("case_retention_ended", "保管期限を過ぎたメモの未廃棄", "Retention ended, memos not destroyed",
               MANAGERS),
    # 情報セキュリティ教育: the person and managers.
    NoticeKind("training_due", "情報セキュリティ教育の期限前のお知らせ", "Training lapses soon", EVERYONE),
    NoticeKind("training_lapsed", "情報セキュリティ教育の期限切れ", "Training lapsed", EVERYONE),
    NoticeKind("case_folder_out", "調査後も返却されていない書類", "Papers still out after the survey",
               (*MANAGERS, "surveyor")),
    # Incidents: the ward not told (第一報) in time: managers.
    NoticeKind("incident_report_late", "区への事故等の第一報の遅れ", "Incident not yet reported to the ward", MANAGERS),
)}


def kinds_for_role(role: str) -> list[NoticeKind]:
    return [kind for kind in KINDS.values() if role in kind.roles]
