"""The relation vocabulary and its Chinese step labels, shared by the Spark jobs and graphs/ (no pyspark here)."""

from __future__ import annotations

FAMILY, OWNERSHIP, DIRECTORSHIP = "Family", "Ownership", "Directorship"
DECLARED_PREFIX = "declared:"
# The label of a step names the next node relative to the previous one: A —配偶— B means B is A's spouse.
FORWARD = {
    "spouse": "配偶",
    "parent": "子女",
    "sibling": "兄弟姐妹",
    "legal_representative": "任法定代表人",
    "shareholder": "持股",
}
BACKWARD = {
    "spouse": "配偶",
    "parent": "父母",
    "sibling": "兄弟姐妹",
    "legal_representative": "法定代表人",
    "shareholder": "股东",
}
DECLARED_INVERSE = {
    "配偶": "配偶",
    "夫妻": "配偶",
    "丈夫": "配偶",
    "妻子": "配偶",
    "兄弟姐妹": "兄弟姐妹",
    "兄弟": "兄弟姐妹",
    "姐妹": "兄弟姐妹",
    "父母": "子女",
    "父亲": "子女",
    "母亲": "子女",
    "子女": "父母",
    "儿子": "父母",
    "女儿": "父母",
    "子": "父母",
    "女": "父母",
}


def step_label(relationship: str, forward: bool) -> str:
    """The Chinese label of traversing ``relationship`` from source to target (forward) or back."""
    if relationship.startswith(DECLARED_PREFIX):
        text = relationship[len(DECLARED_PREFIX) :]
        return text if forward else DECLARED_INVERSE.get(text, f"{text}(反向)")
    table = FORWARD if forward else BACKWARD
    return table.get(relationship, relationship)
