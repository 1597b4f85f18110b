"""The words of the error pages: what went wrong and what to do, never the server's own codes."""

MESSAGES: dict[str, tuple[str, str]] = {
    "error.back": ("前のページに戻る", "Back to the previous page"),
    "error.csrf": ("このフォームは古くなっています。ページを読み込み直してから、もう一度送信してください。",
                   "This form has expired: reload the page and send it again."),
    "error.403.title": ("権限がありません", "Not allowed"),
    "error.403.explain": ("このページを開く権限がありません。必要な場合は管理責任者に相談してください。",
                          "You may not open this page. Ask a manager if you need to."),
    "error.404.title": ("見つかりません", "Not found"),
    "error.404.explain": ("お探しのページまたは記録は見つかりませんでした。削除されたか、アドレスが違う可能性があります。"
                          "一覧から探し直してください。",
                          "There is no such page or record: it may have been removed, or the address is wrong. "
                          "Look for it again from the list."),
    "error.405.title": ("この操作はできません", "Not possible here"),
    "error.405.explain": ("このページではその操作はできません。ページを開き直してから、ボタンやリンクから操作してください。",
                          "This page does not take that request. Open the page again and use its buttons and links."),
    "error.409.title": ("ほかの操作と重なりました", "Changed meanwhile"),
    "error.409.explain": ("同じ記録がほかの操作で変わっています。ページを読み込み直して、内容を確かめてください。",
                          "The record was changed by someone else meanwhile. Reload the page and check it."),
    "error.413.title": ("送信した内容が大きすぎます", "Too large"),
    "error.413.explain": ("送信した内容（ファイルなど）が大きすぎます。小さく分けてから送ってください。",
                          "What you sent (a file, perhaps) is too large. Split it and send it again."),
    "error.422.title": ("送信内容を読み取れませんでした", "Could not read the form"),
    "error.422.explain": ("送信された内容を読み取れませんでした。ページを読み込み直してから、もう一度入力してください。",
                          "The form could not be read. Reload the page and fill it in again."),
    "error.429.title": ("操作が多すぎます", "Too many requests"),
    "error.429.explain": ("短い時間に操作が多すぎました。しばらく待ってから、もう一度お試しください。",
                          "Too many requests in a short time. Wait a little and try again."),
    "error.500.title": ("エラーが発生しました", "Something went wrong"),
    "error.500.explain": ("サーバーで問題が起きたため、この操作を完了できませんでした（問題の内容はサーバーに記録されています）。"
                          "もう一度お試しいただき、続く場合はシステム管理者に連絡してください。",
                          "The server could not finish this request; the problem is logged. Try again, and tell "
                          "the administrator if it keeps happening."),
}
