"""The evidence chain's page, its printout footer and its problems, in words (docs/evidence.md)."""

from server.web.glossary import term

CHAIN = term("evidence_chain")

MESSAGES = {
    "nav.chain": CHAIN,
    "chain.title": CHAIN,
    "chain.explain": ("受付・持ち出し・操作記録などの記録は、書き込まれた順に1件ずつ前の記録とハッシュでつながれています。"
                      "後から1件でも書き換え・削除・追加されると、検証でその記録が示されます。",
                      "Every record (reception, take-outs, the audit log and more) is linked to the one before by a "
                      "hash, in the order written. If a single record is later changed, deleted or added, the check "
                      "names it."),
    "chain.head": ("現在の末尾", "The chain now"),
    "chain.head.none": ("まだ記録がありません。", "Nothing is chained yet."),
    "chain.head.seq": ("第{seq}号（{at}）", "Link {seq} ({at})"),
    "chain.anchor": ("控え（メール・印刷物と照合）", "Anchor (compare with the e-mail and printouts)"),
    "chain.anchor.explain": ("毎日、前日の末尾の控えが管理責任者にメールで届き、印刷物の下にも印字されます。"
                             "控えと照合すると、記録全体が作り直されていないことも確かめられます。",
                             "Each day the day before's anchor is e-mailed to the managers, and every printout "
                             "carries the current one at its foot. Checked against an anchor, even a chain rebuilt "
                             "from the start is caught."),
    "chain.last": ("最後の検証", "Last check"),
    "chain.last.none": ("まだ検証していません。", "Not checked yet."),
    "chain.ok": ("異常なし", "Intact"),
    "chain.broken": ("不整合あり（{count}件）", "Problems found ({count})"),
    "chain.when": ("日時", "When"),
    "chain.by": ("実行者", "By"),
    "chain.result": ("結果", "Result"),
    "chain.links": ("確認した記録", "Links checked"),
    "chain.first": ("最初の不整合", "First problem"),
    "chain.history": ("これまでの検証", "Earlier checks"),
    "chain.run": ("いま検証する", "Check now"),
    "chain.run.explain": ("記録が多いと数十秒かかります。", "With many records this takes up to a minute."),
    "chain.done.ok": ("検証しました。異常はありません。", "Checked: the chain is intact."),
    "chain.done.broken": ("検証しました。不整合が見つかりました。", "Checked: problems were found."),
    "chain.by.nightly": ("自動（夜間）", "Automatic (nightly)"),
    "chain.anchor.given": ("控え {anchor} との照合", "against the anchor {anchor}"),
    "print.chain": (CHAIN[0] + " 第{seq}号まで: {anchor}", CHAIN[1] + " to link {seq}: {anchor}"),
    # What a problem is (evidence.problem.<what>): {kind} is worded below, {id} the record's number.
    "evidence.problem.missing_link": ("第{seq}号の記録がありません（抜き取られています）。",
                                      "Link {seq} is missing (removed)."),
    "evidence.problem.bad_hash": ("第{seq}号（{kind} {id}）が前の記録とつながりません（書き換え・挿入・入れ替え）。",
                                  "Link {seq} ({kind} {id}) does not follow from the one before (edited, inserted or "
                                  "reordered)."),
    "evidence.problem.head_mismatch": ("末尾の記録が消されているか、末尾の控えが書き換えられています。",
                                       "Links were removed from the end, or the head was edited."),
    "evidence.problem.not_chained": ("{kind} {id} はチェーンにない記録です（アプリを通さずに追加）。",
                                     "{kind} {id} is not in the chain (added around the application)."),
    "evidence.problem.differs": ("{kind} {id} の内容が記録時（第{seq}号）と異なります。",
                                 "{kind} {id} differs from what was chained (link {seq})."),
    "evidence.problem.withdrawn_present": ("{kind} {id} は取り消し済み（第{seq}号）のはずが残っています。",
                                           "{kind} {id} was withdrawn (link {seq}) but is there."),
    "evidence.problem.deleted": ("{kind} {id} が削除されています（第{seq}号で記録）。",
                                 "{kind} {id} was deleted (chained by link {seq})."),
    "evidence.problem.immutable_changed": ("{kind} {id} は変更できない記録ですが、第{seq}号で変更されています。",
                                           "{kind} {id} may not change, yet link {seq} changes it."),
    "evidence.problem.unchained_write": ("{kind} {id} がアプリを通さずに書き換えられています。",
                                         "{kind} {id} was written around the application."),
    "evidence.problem.anchor_missing": ("控えの記録がチェーンにありません。記録全体が作り直されています。",
                                        "The anchor is not in the chain: the chain was rebuilt."),
    "evidence.problem.anchor_late": ("控えの記録の日付が合いません。", "The anchor's date does not match."),
    # The kinds of record (evidence.kind.<table>).
    "evidence.kind.scans": ("読取記録", "scan"),
    "evidence.kind.reader_events": ("読取機のできごと", "reader event"),
    "evidence.kind.audit_events": term("audit_log"),
    "evidence.kind.case_events": ("受付簿の履歴", "request book history"),
    "evidence.kind.cabinet_sessions": ("キャビネットの利用", "cabinet session"),
    "evidence.kind.checkouts": term("take_out", heading=False),
    "evidence.kind.visits": ("来所", "visit"),
    "evidence.kind.presence_events": ("入退室", "entry or exit"),
    "evidence.kind.alerts": ("アラート", "alert"),
    "evidence.kind.alert_occurrences": ("アラートの発生", "alert occurrence"),
    "evidence.kind.lost_items": term("lost", heading=False),
    "evidence.kind.stocktakes": term("stocktake", heading=False),
    "evidence.kind.stocktake_lines": ("棚卸の明細", "stock-take line"),
    "evidence.kind.cases": ("受付簿", "request book"),
    "audit.action.chain_verified": (CHAIN[0] + "の検証", "evidence chain checked"),
    "audit.fact.links": ("確認した記録", "links checked"),
    "audit.fact.problems": ("不整合", "problems"),
}
