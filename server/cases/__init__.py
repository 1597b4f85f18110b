"""The 受付簿: survey requests (調査依頼) from receipt to the destruction of their memos."""
