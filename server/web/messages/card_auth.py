"""Cards that cannot be copied: the alert, the deny reason, the card kinds and the audit entries."""

MESSAGES = {
    "alert.type.clone_suspected": ("複製カードの疑い", "Copied card suspected"),
    "alert.what.clone_suspected": ("{reader}：{at} に読み取ったカードが本物であることを確認できませんでした"
                                   "（{person}、複製の疑い）。カードを回収して確認してください。",
                                   "{reader}: the card read at {at} could not prove it is genuine ({person}; "
                                   "possibly a copy). Take the card back and check it."),
    "alert.reason.clone_suspected": ("複製カードの疑い", "possibly a copied card"),
    "card_auth.kind.ntag424_sun": ("NTAG 424 DNA（毎回変わる認証コード）", "NTAG 424 DNA (a new code at every read)"),
    "card_auth.kind.felica_lite_s_mac": ("FeliCa Lite-S（カード鍵による認証）", "FeliCa Lite-S (card key)"),
    "card_auth.kind.none": ("番号だけのカード", "plain card (its number only)"),
    "audit.action.card_auth_changed": ("カード認証の設定変更", "card authentication setting changed"),
    "audit.fact.card_kind": ("カードの種類", "kind of card"),
    "audit.fact.required": ("カードの認証を必須にする", "card must prove it is genuine"),
}
