MESSAGES = {
    "notices.title": ("通知の設定", "Notices"),
    "notices.link": ("メール通知の設定", "E-mail notices"),
    "notices.explain": ("来所者の到着や返却期限などのお知らせをメールで受け取れます。受け取るものにチェックを入れてください。",
                        "Get an e-mail when your visitor arrives, before an item is due back, and more. Tick the "
                        "ones you want."),
    "notices.email": ("メールアドレス", "E-mail address"),
    "notices.email_hint": ("空欄にすると、メールは届きません。", "Leave it empty to get no e-mail."),
    "notices.kinds": ("受け取るお知らせ", "Notices to receive"),
    "notices.saved": ("保存しました。", "Saved."),
    "notices.email_bad": ("メールアドレスの形式が正しくありません（例: yamada@example.jp）。",
                          "This is not an e-mail address (e.g. yamada@example.jp)."),
    "notices.email_too_long": ("メールアドレスが長すぎます（254文字まで）。", "Too long for an e-mail address (254 characters at most)."),
    "notices.email_off": ("このサーバーはメールを送る設定になっていません。設定は保存されますが、メールは届きません。",
                          "This server is not set up to send e-mail: your choices are kept, but no e-mail goes out "
                          "yet."),
    "audit.action.notices_changed": ("通知設定の変更", "notice choices changed"),
}
