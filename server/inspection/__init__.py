"""The inspection pack (立入検査・監査): each seed rule's evidence for a period, and the monthly self-inspection."""
