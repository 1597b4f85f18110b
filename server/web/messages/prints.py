"""The words every printout shares: its footer, the stamp boxes and the print button."""

MESSAGES = {
    "print.printed": ("印刷日時: {time}　印刷者: {name}", "Printed {time} by {name}"),
    "print.now": ("印刷する", "Print"),
    "print.page_stamp": ("確認印", "Checked"),
    "print.stamps": ("決裁欄", "Approval stamps"),
    # The approval stamps the office may list in MAMORI_PRINT_STAMPS; a label not listed here is
    # printed as the office wrote it, in both languages.
    "print.stamp.担当": ("担当", "Prepared"),
    "print.stamp.担当者": ("担当者", "Prepared"),
    "print.stamp.確認": ("確認", "Checked"),
    "print.stamp.確認者": ("確認者", "Checked"),
    "print.stamp.管理責任者": ("管理責任者", "Manager"),
    "print.stamp.情報セキュリティ責任者": ("情報セキュリティ責任者", "Security officer"),
    "print.stamp.監査": ("監査", "Auditor"),
    "print.stamp.所長": ("所長", "Head of office"),
}
