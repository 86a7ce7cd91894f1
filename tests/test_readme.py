"""The README's column and issue-code references are the specs, rendered (run it to refresh)."""

from __future__ import annotations

import re
import sys

from bulkpo import issues
from bulkpo.columns import Kind, markdown_table
from tests.conftest import REPO

README = REPO / "README.md"


def rendered(text: str) -> str:
    for kind in Kind:
        text = re.sub(
            rf"(<!-- columns:{kind.value} -->\n).*?(<!-- /columns:{kind.value} -->)",
            lambda m, kind=kind: m.group(1) + markdown_table(kind).rstrip() + "\n" + m.group(2),
            text,
            flags=re.S,
        )
    return re.sub(
        r"(<!-- issues -->\n).*?(<!-- /issues -->)",
        lambda m: m.group(1) + issues.markdown_table() + m.group(2),
        text,
        flags=re.S,
    )


def test_readme_column_tables_match_the_specs() -> None:
    text = README.read_text(encoding="utf-8")
    assert text == rendered(text), "run: python -m tests.test_readme"


def test_readme_lists_every_issue_code_with_its_meaning() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- issues -->", 1)[1].split("<!-- /issues -->", 1)[0]
    for code in issues.IssueCode:
        assert f"| `{code}` | {issues.MEANINGS[code]} |" in section


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.read_text(encoding="utf-8").split("```")[1]
    assert "bulkpo --sandbox import samples/purchase-orders.xlsx" in first_block
    assert "python -m pytest" in first_block


if __name__ == "__main__":
    README.write_text(rendered(README.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
