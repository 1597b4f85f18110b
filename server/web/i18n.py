"""Japanese first, English second: every word the pages show, in one catalogue."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

LANGUAGES = ("ja", "en")

# key: (日本語, English). Words from the ward's training material where it has them.
MESSAGES: dict[str, tuple[str, str]] = {
    "app.title": ("mamori 入退室・持ち出し管理", "mamori visitor log and take-out ledger"),
    "nav.dashboard": ("ダッシュボード", "Dashboard"),
    "nav.people": ("職員", "Staff"),
    "nav.badges": ("来所者カード", "Visitor badges"),
    "nav.items": ("持ち出し物品", "Items"),
    "nav.readers": ("読取機", "Readers"),
    "nav.import": ("一括登録 (CSV)", "CSV import"),
    "nav.audit": ("操作記録", "Audit log"),
    "nav.logout": ("ログアウト", "Log out"),
    "nav.password": ("パスワード変更", "Password"),
    "nav.notices": ("通知の設定", "Notices"),
    "nav.language": ("English", "日本語"),
    "nav.skip": ("本文へ移動", "Skip to content"),
    "nav.menu": ("メニュー", "Menu"),
    "login.title": ("ログイン", "Log in"),
    "login.name": ("ユーザー名", "User name"),
    "login.password": ("パスワード", "Password"),
    "login.submit": ("ログイン", "Log in"),
    "login.wrong": ("ユーザー名またはパスワードが違います。", "The user name or password is wrong."),
    "login.locked": ("失敗が続いたため、この端末からのこのユーザー名でのログインは {until} までロックされています。急ぐ場合は"
                     "システム管理者にロック解除を依頼してください。",
                     "Too many wrong passwords: this user name cannot log in from this device until {until}. Ask an "
                     "administrator to unlock it if you need it sooner."),
    "login.expired": ("ログイン画面の有効期限が切れました。もう一度入力してください。",
                      "The login form had expired; please enter your name and password again."),
    "login.note": ("個人ごとのIDでログインしてください。IDの共用は禁止されています。",
                   "Log in with your own account; shared accounts are not allowed."),
    "lock.title": ("画面ロック", "Screen locked"),
    "lock.explain": ("一定時間操作がなかったため、画面をロックしました。続けるにはパスワードを入力してください。",
                     "The screen locked after a while without activity. Enter your password to go on."),
    "lock.submit": ("ロック解除", "Unlock"),
    "lock.other_user": ("別のユーザーでログイン", "Log in as someone else"),
    "forbidden.title": ("権限がありません", "Not allowed"),
    "error.too_large.title": ("送信内容が大きすぎます", "Too much sent at once"),
    "error.too_large.explain": ("一度に送れるのは {kib} KB までです。ファイルを分けるなどして、もう一度送ってください。",
                                "At most {kib} KB can be sent at once. Split the file and send it again."),
    "forbidden.explain": ("この操作には {roles} の権限が必要です（あなたは {role}）。",
                          "This needs the {roles} role (you are {role})."),
    "role.admin": ("システム管理者", "administrator"),
    "role.manager": ("管理責任者", "manager"),
    "role.receptionist": ("受付", "receptionist"),
    "role.surveyor": ("認定調査員", "surveyor"),
    "role.auditor": ("監査担当（閲覧のみ）", "auditor (read-only)"),
    "common.save": ("保存", "Save"),
    "common.cancel": ("キャンセル", "Cancel"),
    "common.none": ("ありません", "None"),
    "common.logged_in_as": ("{name}（{role}）", "{name} ({role})"),
}


def _gather_feature_messages() -> None:
    """Pages add their words in server/web/messages/<feature>.py; a key defined twice is a mistake."""
    from server.web import messages

    for info in pkgutil.iter_modules(messages.__path__):
        module = importlib.import_module(f"{messages.__name__}.{info.name}")
        twice = MESSAGES.keys() & module.MESSAGES.keys()
        if twice:
            raise RuntimeError(f"message keys defined twice ({info.name}): {sorted(twice)}")
        MESSAGES.update(module.MESSAGES)


_gather_feature_messages()


def translator(lang: str) -> Callable[..., str]:
    """`t("key", **values)` in `lang`; a missing key shows itself, so it is noticed and added."""
    index = 1 if lang == "en" else 0

    def t(key: str, **values: object) -> str:
        text = MESSAGES[key][index] if key in MESSAGES else key
        return text.format(**values) if values else text

    return t


def from_accept_language(header: str | None) -> str:
    """The first of ja/en the browser asks for (q-values respected); Japanese when it names neither."""
    best, best_q = "ja", -1.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower()[:2]
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best
