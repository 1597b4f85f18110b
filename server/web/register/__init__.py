"""The 持ち出し管理簿 pages: transactions, currently out, overdue and cabinet access rights."""

from server.web.register.pages import router

__all__ = ["router"]
