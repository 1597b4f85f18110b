"""Screenshots for the docs: `save(page, "dashboard-ja")` writes docs/screenshots/dashboard-ja.png.

Every run takes them (so a broken page shows up as a failed screenshot step), but only a run with
MAMORI_SCREENSHOTS=1 replaces the committed pictures; otherwise they go to a temporary folder of this
test process, removed when it ends (so runs side by side never write the same file), and the times on
the page do not churn the repository.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

from playwright.sync_api import Page

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def save(page: Page, name: str) -> Path:
    """The whole page as PNG; the caret is hidden so reruns give the same picture."""
    folder = DOCS if os.environ.get("MAMORI_SCREENSHOTS") == "1" else _scratch()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    assert path.stat().st_size > 10_000, f"the {name} screenshot is nearly empty"
    return path


@cache
def _scratch() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="mamori-shots-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder
