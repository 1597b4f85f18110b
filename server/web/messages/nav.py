"""The header menu's group names (server/web/menu.py): the office's words for what each group holds."""

from server.web.glossary import term

MESSAGES: dict[str, tuple[str, str]] = {
    "nav.group.reception": ("受付・在館", "Reception"),
    "nav.group.take_out": (term("take_out")[0], "Take-outs"),
    "nav.group.cases": ("受付簿", "Request book"),
    "nav.group.training": ("教育・名簿", "Training"),
    "nav.group.keys": ("鍵と権限", "Access"),
    "nav.group.audit": ("監査・証跡", "Audit"),
}
