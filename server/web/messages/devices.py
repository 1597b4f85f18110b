"""Words of 「端末の返却・データ消去確認」 (/devices), its audit actions and its alert."""

MESSAGES: dict[str, tuple[str, str]] = {
    "nav.devices": ("端末の返却・データ消去確認", "Devices: return and data erasure"),
    "dev.title": ("端末の返却・データ消去確認", "Devices: return and data erasure"),
    "dev.explain": ("携帯電話・記録媒体・ノートPCは、持ち出したら用途を選び、返却したら調査データを消去して"
                    "「調査データ消去済み」を確認してください。返却から {hours} 時間を過ぎても確認がないと、"
                    "本人と管理責任者に通知されます。",
                    "Choose what a phone, medium or laptop is taken out for; once it is back, erase the survey data "
                    "and confirm it here. Without a confirmation {hours} h after the return, the holder and the "
                    "managers are told."),
    "dev.scope.own": ("あなたが持ち出した端末のみを表示しています。", "Showing the devices you took out."),
    "dev.scope.all": ("全員の端末を表示しています。", "Showing everyone's devices."),
    "dev.unlinked": ("このアカウントは職員（カード）に紐付いていないため、表示する端末がありません。"
                     "システム管理者に紐付けを依頼してください。",
                     "This account is not linked to a staff member (card), so no devices are shown. Ask an "
                     "administrator to link it."),
    # devices out without a purpose
    "dev.no_purpose": ("用途が未入力の持ち出し中の端末", "Devices out without a purpose"),
    "dev.no_purpose_none": ("用途が未入力の端末はありません。", "Every device out has its purpose."),
    "dev.purpose": ("用途", "Purpose"),
    "dev.purpose_hint": ("ケース番号、または「訪問調査」など（{max}文字以内。住民の氏名は書かないでください）。",
                         "A case number, or e.g. “home visit” (at most {max} characters; never a resident's name)."),
    "dev.purpose_for": ("{label} の用途", "Purpose of {label}"),
    "dev.purpose_save": ("用途を保存", "Save the purpose"),
    # devices back, waiting for the confirmation
    "dev.waiting": ("データ消去の確認待ち", "Waiting for the data erasure confirmation"),
    "dev.waiting_none": ("消去の確認待ちの端末はありません。", "No device is waiting for its confirmation."),
    "dev.item": ("端末", "Device"),
    "dev.kind": ("種別", "Kind"),
    "dev.holder": ("持ち出した人", "Taken out by"),
    "dev.out_at": ("持ち出し日時", "Out"),
    "dev.returned_by": ("返却した人", "Returned by"),
    "dev.returned_at": ("返却日時", "Returned"),
    "dev.waited": ("待ち時間", "Waiting"),
    "dev.late": ("期限超過", "overdue"),
    "dev.confirm": ("調査データ消去済み", "Survey data erased"),
    "dev.confirm_label": ("{label} の調査データ消去を確認", "Confirm the survey data of {label} erased"),
    "dev.choose": ("選択", "Choose"),
    "dev.choose_label": ("{label}（{at} 返却）を選ぶ", "Choose {label} (returned {at})"),
    "dev.confirm_chosen": ("選んだ端末の調査データ消去を確認", "Confirm the chosen devices erased"),
    "dev.confirm_chosen_hint": ("消去を済ませた端末に印を付けて、まとめて確認できます。",
                                "Tick the devices you have erased to confirm them together."),
    "dev.done.erased_many": ("選んだ端末の調査データ消去を確認しました。", "The chosen devices are confirmed erased."),
    "dev.err.none_chosen": ("確認する端末に印を付けてください。", "Tick the devices to confirm first."),
    "dev.not_yours_short": ("本人または管理責任者のみ", "holder or a manager only"),
    # outcomes
    "dev.done.erased": ("調査データの消去を確認しました。", "The survey data is confirmed erased."),
    "dev.done.purpose": ("用途を保存しました。", "The purpose is saved."),
    "dev.err.missing": ("この持ち出し記録は見つかりません。", "There is no such checkout."),
    "dev.err.not_yours": ("本人（持ち出した職員）または管理責任者のみが操作できます。",
                          "Only the person who took it out, or a manager, may do this."),
    "dev.err.already": ("この端末の調査データ消去は、すでに {name} さんが {at} に確認済みです。",
                        "The survey data of this device was already confirmed erased by {name} at {at}."),
    "dev.err.not_returned": ("この端末はまだ返却されていません。キャビネットに返却してから消去を確認してください。",
                             "This device is not back yet: return it to the cabinet, then confirm the erasure."),
    "dev.err.not_device": ("携帯電話・記録媒体・ノートPC以外の物品です（用途はケース番号が自動で入ります）。",
                           "This is not a phone, medium or laptop (a folder's purpose is its case number)."),
    "dev.err.control": ("1行の文字で入力してください（制御文字は使えません）。",
                        "One line of text, please (no control characters)."),
    # the audit log
    "audit.action.checkout_erased": ("調査データ消去の確認", "survey data confirmed erased"),
    "audit.action.checkout_purpose": ("端末の用途の入力", "device purpose set"),
}
