"""Words of the cabinets' access rights: grants, hours, one-off openings, closed days, revoking a lost card, the
quarterly access review."""

from server.web.glossary import term

MESSAGES: dict[str, tuple[str, str]] = {
    "nav.grants": ("キャビネットの利用権限", "Cabinet access rights"),
    "grants.title": ("キャビネットの利用権限", "Cabinet access rights"),
    "grants.explain": ("キャビネットごとに、開けられる職員（または役割）と時間を決めます。開けるには、これに加えて"
                       "在職中・有効なカード・鍵を持つ職員・情報セキュリティ教育が必要です。時間を決めた権限は、"
                       "休業日（祝日・年末年始・事務所の休業日）には開きません（臨時の利用を除く）。変更はすぐに"
                       "キャビネットの読取機にも送られます。",
                       "For each cabinet, who (a person or a role) may open it and when. They must also be active, "
                       "hold an active card, be a key holder and have current training. Hours never apply on a closed "
                       "day (public holidays, the year-end closing, the office's own) unless a one-off opening says "
                       "so. Changes reach the cabinet readers at once."),
    "grants.open_to_all": ("利用権限がまだありません: 鍵を持つ職員なら誰でも、いつでも開けられます。",
                           "No access rights yet: every key holder may open it at any time."),
    "grants.who": ("対象", "Who"),
    "grants.hours": ("利用できる時間", "Hours"),
    "grants.expires": ("有効期限", "Valid until"),
    "grants.no_expiry": ("期限なし", "no end"),
    "grants.expired": ("期限切れ", "expired"),
    "grants.one_offs": ("臨時の利用", "One-off openings"),
    "grants.one_off_line": ("{day} {start}〜{end}（{reason}）", "{day} {start}–{end} ({reason})"),
    "grants.everyone_with": ("{role}の全員", "every {role}"),
    "grants.any_time": ("いつでも", "any time"),
    "grants.hours_span": ("{days} {start}〜{end}", "{days} {start}–{end}"),
    "grants.day_span": ("{first}〜{last}", "{first}–{last}"),
    "grants.day.mon": ("月", "Mon"),
    "grants.day.tue": ("火", "Tue"),
    "grants.day.wed": ("水", "Wed"),
    "grants.day.thu": ("木", "Thu"),
    "grants.day.fri": ("金", "Fri"),
    "grants.day.sat": ("土", "Sat"),
    "grants.day.sun": ("日", "Sun"),
    "grants.add": ("利用権限を追加", "Add an access right"),
    "grants.cabinet": term("cabinet"),
    "grants.choose": ("選んでください", "Choose"),
    "grants.days": ("曜日（選ばなければ、いつでも）", "Days (none ticked: any time)"),
    "grants.starts": ("開始", "From"),
    "grants.ends": ("終了", "To"),
    "grants.expires_on": ("有効期限（この日まで。空欄なら期限なし）", "Valid until (this day included; blank: no end)"),
    "grants.change": ("時間・期限を変更", "Change hours or end"),
    "grants.remove": ("利用権限を削除", "Remove"),
    "grants.one_off_add": ("臨時の利用を追加", "Add a one-off opening"),
    "grants.one_off_day": ("日付", "Day"),
    "grants.one_off_reason": ("理由", "Reason"),
    "grants.closed_title": ("休業日", "Closed days"),
    "grants.closed_explain": ("祝日（ライブラリ holidays による）と年末年始（12月29日〜1月3日）は自動で休業日です。"
                              "事務所独自の休業日をここに追加します。",
                              "Public holidays (from the holidays library) and the year-end closing (29 Dec – 3 Jan) "
                              "are closed days by themselves. Add the office's own closed days here."),
    "grants.own_closed": ("事務所の休業日", "The office's own closed days"),
    "grants.holidays_ahead": ("これからの祝日", "Public holidays ahead"),
    "grants.closed_day": ("日付", "Day"),
    "grants.closed_label": ("名称（例: 庁舎停電）", "Label (e.g. building power cut)"),
    "grants.closed_add": ("休業日を追加", "Add a closed day"),
    "grants.closed_remove": ("削除", "Remove"),
    "grants.err.cabinet": ("キャビネットを選んでください。", "Choose a cabinet."),
    "grants.err.who": ("職員か役割を選んでください。", "Choose a person or a role."),
    "grants.err.time": ("時刻を 08:00 のように入力してください。", "Type times as 08:00."),
    "grants.err.order": ("終了は開始より後にしてください。", "The end must come after the start."),
    "grants.err.date": ("日付を 2026-12-05 のように入力してください。", "Type the day as 2026-12-05."),
    "grants.err.past": ("今日以降の日付にしてください。", "Choose today or a later day."),
    "grants.err.reason": ("理由を入力してください。", "Give the reason."),
    "grants.err.label": ("名称を100文字以内で入力してください。", "Give a label of at most 100 characters."),
    "grants.err.closed_twice": ("この日はすでに休業日です。", "This day is already a closed day."),
    "grants.err.last": ("キャビネットの最後の利用権限は削除できません（削除すると鍵を持つ職員全員が開けられるように"
                        "なります）。先に別の利用権限を追加してください。",
                        "A cabinet's last access right cannot be removed (without any, every key holder could open "
                        "it). Add another one first."),
    "grants.err.no_card": ("このカードは登録されていません。", "This card is not registered."),
    "grants.err.revoked_already": ("このカードはすでに無効です。", "This card is already revoked."),
    # a lost card
    "revoke.title": ("カードの紛失・無効化", "Lost card: revoke"),
    "revoke.explain": ("紛失したカードを無効にします。すぐにどのキャビネットも開けられなくなり、読取機の"
                       "オフライン用リストからも外れます。",
                       "Revokes a lost card: it opens no cabinet from now on and leaves the readers' offline lists "
                       "at once."),
    "revoke.button": ("紛失として無効にする", "Revoke as lost"),
    "revoke.done": ("カードを無効にしました。読取機のリストを更新しています。",
                    "The card is revoked; the readers' lists are being updated."),
    # the quarterly access review
    "nav.access_review": ("利用権限の点検", "Access review"),
    "review.title": ("利用権限の点検（四半期ごと）", "Quarterly access review"),
    "review.explain": ("{quarter} の点検: 下の利用権限の一覧（誰が・どのキャビネットを・いつ開けられるか）を確認し、"
                       "管理責任者が承認します。承認した一覧の内容（ハッシュ値）と承認者・日時が記録され、"
                       "あとから変更できません。",
                       "Review for {quarter}: check the access rights below (who can open which cabinet, when) and "
                       "sign them off. The list signed (its hash), who signed and when are kept and cannot be "
                       "changed afterwards."),
    "review.signed_now": ("{quarter} の点検は承認済みです（{name}、{at}）。",
                          "{quarter} is signed off ({name}, {at})."),
    "review.due": ("{quarter} の点検はまだ承認されていません。期限: {due}",
                   "{quarter} is not signed off yet. Due by {due}."),
    "review.sign": ("この内容で承認する", "Sign off this list"),
    "review.note": ("所見（任意）", "Remarks (optional)"),
    "review.history": ("これまでの承認", "Sign-offs so far"),
    "review.quarter": ("四半期", "Quarter"),
    "review.signed_by": ("承認者", "Signed by"),
    "review.signed_at": ("承認日時", "Signed at"),
    "review.digest": ("一覧のハッシュ値", "Digest of the list"),
    "review.lines": ("行数", "Lines"),
    "review.csv": ("CSV", "CSV"),
    "review.print": ("印刷", "Print"),
    "review.done": ("承認を記録しました。", "The sign-off is recorded."),
    "alert.type.access_review_overdue": ("利用権限の点検の遅れ", "Access review overdue"),
    # audit
    "audit.action.grant_added": ("利用権限の追加", "access right added"),
    "audit.action.grant_changed": ("利用権限の変更", "access right changed"),
    "audit.action.grant_removed": ("利用権限の削除", "access right removed"),
    "audit.action.grant_one_off_added": ("臨時の利用の追加", "one-off opening added"),
    "audit.action.closed_day_added": ("休業日の追加", "closed day added"),
    "audit.action.closed_day_removed": ("休業日の削除", "closed day removed"),
    "audit.action.card_revoked": ("カードの無効化（紛失）", "card revoked (lost)"),
    "audit.action.access_review_signed": ("利用権限の点検の承認", "access review signed off"),
    "audit.fact.job_role": ("役割", "role"),
    "audit.fact.hours": ("利用できる時間", "hours"),
    "audit.fact.expires_at": ("有効期限", "valid until"),
    "audit.fact.quarter": ("四半期", "quarter"),
    "audit.fact.digest": ("ハッシュ値", "digest"),
    "audit.fact.signed_at": ("承認日時", "signed at"),
}
MESSAGES.update({
    "review.changed": ("一覧を開いた後に利用権限が変わりました。最新の一覧を確認してから承認してください。",
                       "The access rights changed after you opened the list: check the current list, then sign."),
    "review.report_link": ("持ち出し管理簿の利用権限（CSV・印刷）", "The access-rights report (CSV, print)"),
    "alert.what.access_review_overdue": ("前の四半期の利用権限の点検が、期限までに承認されていません。",
                                         "Last quarter's access review was not signed off by its due date."),
})
