"""The words of an alert's notes: who did what, and the reasons the system gives when it resolves one."""

MESSAGES: dict[str, tuple[str, str]] = {
    "alert.note_line": ("{at} {by}（{what}）：{words}", "{at} {by} ({what}): {words}"),
    "alert.what.acknowledged": ("確認", "acknowledged"),
    "alert.what.resolved": ("解決", "resolved"),
    "alert.what.door_closed": ("扉の閉鎖", "door closed"),
    "alert.what.revised": ("訂正", "revised"),
    "alert.why.reconnected": ("読取機が再接続しました", "the reader is back online"),
    "alert.why.erased": ("調査データの消去が確認されました", "survey data confirmed erased"),
    "alert.why.marked_lost": ("紛失として登録しました（紛失記録 No.{lost}）", "marked lost (lost-item record {lost})"),
    "alert.why.door_closed": ("扉が閉まりました（開いていた時間 {open_for}）", "the door closed (open for {open_for})"),
    "alert.why.unlock_arrived_late": ("{door_at} の開扉は、後から届いた解錠の記録で説明されました（こじ開けではありません）",
                                      "the door opening at {door_at} is explained by an unlock that arrived later "
                                      "(not forced)"),
    "audit.reason.alert_reconnected": ("読取機の再接続", "the reader came back online"),
    "audit.reason.alert_clock_in_step": ("読取機の時計が正しく戻った", "the reader's clock was right again"),
    "alert.why.clock_in_step": ("読取機の時計が正しく戻りました", "the reader's clock is right again"),
    "alert.why.recovered": ("読取機がカードを読み取れるようになりました", "the reader reads cards again"),
    "audit.reason.alert_recovered": ("読取機の復旧", "the reader reads cards again"),
    "audit.reason.alert_erased": ("調査データの消去確認", "survey data confirmed erased"),
    "audit.reason.alert_marked_lost": ("紛失として登録", "marked lost"),
}
