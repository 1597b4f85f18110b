"""Every kind of entry the audit log knows; the pages name each one in words (audit.action.<code>)."""

from __future__ import annotations

ACTIONS = frozenset({
    # logging in and the screen lock
    "login", "logout", "login_failed", "login_refused_locked", "login_throttled", "lockout", "unlock",
    "unlock_failed",
    # accounts
    "account_added", "account_activated", "account_deactivated", "account_unlocked", "account_contact_changed",
    "password_changed", "password_reset", "notices_changed", "token_created", "token_revoked",
    # the registers behind the ledgers
    "person_added", "person_changed", "badge_added", "badge_changed", "item_added", "item_changed",
    "reader_added", "reader_changed", "reader_provisioned", "reader_revoked", "card_auth_changed", "import_people",
    "import_items", "import_cases", "loan_rule_changed",
    # the cabinet and the dashboard
    "alert_acknowledged", "alert_resolved", "remote_unlock", "remote_unlock_failed", "checkout_erased",
    "checkout_purpose", "item_marked_lost", "item_found", "stocktake_started", "stocktake_finished",
    "stocktake_cancelled",
    # reception
    "visit_registered", "visit_badge_lent", "visit_badge_back", "visit_cancelled", "visit_marked_in",
    "visit_marked_out", "visits_anonymised",
    # exports and printouts
    "checkout_register_exported", "checkout_register_printed", "entry_log_exported", "entry_log_printed",
    "stocktake_printed", "lost_item_printed", "audit_log_exported", "audit_log_printed",
    # the 受付簿
    "case_destroyed", "case_book_exported", "case_book_printed", "case_destructions_printed",
    # the inspection pack (立入検査・監査) and the monthly self-inspection
    "inspection_pack_printed", "inspection_pack_downloaded", "self_inspection_answered",
    # who may open which cabinet, and when; a lost card; the quarterly access review
    "grant_added", "grant_changed", "grant_removed", "grant_one_off_added", "closed_day_added", "closed_day_removed",
    "card_revoked", "access_review_signed",
    # 情報セキュリティ教育, the 要介護認定調査員名簿, and the ward's auditor
    "training_recorded", "training_carried_over", "training_attendee_added", "training_withdrawn",
    "roster_exported", "roster_printed", "roster_changes_printed", "login_refused_expired", "auditor_viewed",
    # incidents (情報セキュリティ事故等)
    "incident_opened", "incident_step", "incident_timeline_extended", "incident_closed", "incident_report_printed",
    "incident_report_downloaded",
    # the evidence chain
    "chain_verified",
})
