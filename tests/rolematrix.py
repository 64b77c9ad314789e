"""The role matrix of docs/ui.md, read from the document itself: the tests check the code against the
table that the commission reads, not against a second copy."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "ui.md"
ROLES = ("admin", "supervisor", "analyst", "liaison", "auditor")


def matrix(name: str) -> dict[str, set[str]]:
    """``name`` is ``routes`` or ``actions``: row → the roles marked ✓."""
    text = DOC.read_text(encoding="utf-8")
    start, end = f"<!-- role-matrix:{name} -->", f"<!-- /role-matrix:{name} -->"
    body = text[text.index(start) + len(start) : text.index(end)]
    lines = [line.strip() for line in body.strip().splitlines()]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert tuple(header[1:]) == ROLES, f"role columns of the {name} matrix: {header}"
    table: dict[str, set[str]] = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert all(c in ("✓", "✗") for c in cells[1:]), f"only ✓ or ✗ in {line}"
        table[cells[0]] = {role for role, mark in zip(ROLES, cells[1:], strict=True) if mark == "✓"}
    return table
