"""The issue-code catalogue: every code has a one-line meaning, and codes publish as plain text."""

from __future__ import annotations

import json

from bulkpo.issues import MEANINGS, IssueCode


def test_every_code_has_one_line_meaning() -> None:
    assert set(MEANINGS) == set(IssueCode)
    for code, meaning in MEANINGS.items():
        assert meaning.strip() and "\n" not in meaning, code
        assert meaning.endswith("."), code


def test_codes_are_published_as_their_plain_text() -> None:
    # validate --format json writes codes through json.dumps: a StrEnum must not change that.
    assert json.dumps({"code": IssueCode.BAD_DATE}) == '{"code": "bad_date"}'
    assert str(IssueCode.PO_CONFLICT) == "po_conflict"
    assert IssueCode("wrong_port_kind") is IssueCode.WRONG_PORT_KIND
