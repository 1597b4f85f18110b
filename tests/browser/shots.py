"""Screenshots for the docs: `save(page, "dashboard")` writes docs/screenshots/dashboard.png (the full page)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def save(page: Page, name: str) -> Path:
    """The whole page as PNG, named for what it shows; the caret is hidden so reruns give the same picture."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    return path
