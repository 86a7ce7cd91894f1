"""Regenerate the committed blank templates: ``python templates/make_templates.py``.

tests/test_templates.py fails when these files drift from what the column specs
would generate today.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from bulkpo.columns import Kind
from bulkpo.sheets.template_writer import write_template
from bulkpo.templates import template_spec

HERE = Path(__file__).resolve().parent
FORMATS: tuple[Literal["xlsx", "csv"], ...] = ("xlsx", "csv")


def make_templates(directory: Path = HERE) -> list[Path]:
    """Write every kind's template in xlsx and csv into ``directory``."""
    written: list[Path] = []
    for kind in Kind:
        for fmt in FORMATS:
            path = directory / f"{kind.value}.{fmt}"
            write_template(template_spec(kind), path, fmt)
            written.append(path)
    return written


if __name__ == "__main__":
    for path in make_templates():
        print(path.name)
