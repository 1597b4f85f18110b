"""One word per thing: no page, message, print or CSV names a glossary term by another word."""

from __future__ import annotations

from pathlib import Path

from server.web import glossary

ROOT = Path(__file__).resolve().parents[2]
# The CSV import still accepts last year's Excel headings; the glossary lists them, on purpose.
ACCEPTS_OLD_WORDS = {Path("server/web/glossary.py"), Path("server/web/admin/csv_import.py")}


def _page_sources() -> list[Path]:
    files = [*ROOT.glob("server/**/*.py"), *ROOT.glob("server/web/templates/**/*.html")]
    return [f for f in files if f.relative_to(ROOT) not in ACCEPTS_OLD_WORDS]


def test_no_template_message_or_print_uses_a_rejected_synonym():
    found = [f"{path.relative_to(ROOT)}:{number}: 「{word}」→「{use}」"
             for path in _page_sources()
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             for word, use in glossary.variants_in(line)]
    assert found == []


def test_the_scan_recognises_each_rejected_synonym():
    for word in glossary.TERMS.values():
        for pattern in word.rejected:
            example = pattern.replace("(?<!システム)", "").replace("\\", "")
            assert (example, word.ja) in glossary.variants_in(f"この{example}を")
    assert glossary.variants_in("システム管理者") == []


def test_docs_glossary_md_is_the_module_printed():
    assert (ROOT / "docs/glossary.md").read_text(encoding="utf-8") == glossary.markdown()
