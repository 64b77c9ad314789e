"""The masking policy for one viewer, and the template boundary that applies it to every page."""

from __future__ import annotations

import re
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from qingfeng.register.safe_output import (
    FULL_NOTE,
    mask_identifier,
    mask_key,
    mask_subject_id,
    mask_text,
    mask_tree,
)

__all__ = ["Masker", "Unmasked", "install", "mask_text"]

_TAG = re.compile(r"(<[^>]*>)")


class Unmasked(str):
    """A value the page boundary writes as it is: the CSRF token, an opaque link (no personal data)."""


class Masker:
    """The masking policy (``register.safe_output``) for one viewer: applied, or skipped for a role that
    may see full numbers (``permissions.sees_full_ids``). Every page passes through ``html`` (the template
    boundary below), every export cell through ``text``."""

    def __init__(self, full: bool) -> None:
        self.full = full

    def id(self, value: str | None) -> str:
        return str(value or "") if self.full else mask_identifier(value)

    def text(self, value: Any) -> str:
        return ("" if value is None else str(value)) if self.full else mask_text(value)

    def key(self, name: str, value: Any) -> Any:
        return value if self.full else mask_key(name, value)

    def subject_id(self, kind: str, value: str | None) -> str:
        """Persons (and accounts, which are personal bank data) are masked; companies, projects are not."""
        return str(value or "") if self.full else str(mask_subject_id(kind, value) or "")

    def tree(self, value: Any) -> Any:
        """JSON-like data (an API answer, a record): every string, keys and subjects whole."""
        return value if self.full else mask_tree(value)

    def html(self, value: Any) -> Any:
        """One value written into a page: text masked; markup built by the code (an SVG, a macro's
        output) masked in its text, its tags (whose values were masked when they were written) kept."""
        if self.full or not isinstance(value, str) or isinstance(value, Unmasked):
            return value
        if isinstance(value, Markup):
            parts = _TAG.split(str(value))
            return Markup("".join(p if i % 2 else mask_text(p) for i, p in enumerate(parts)))
        return mask_text(value)

    def audit_detail(self, detail: str | None) -> str | None:
        """The detail of a view or export row, marked when this viewer was shown full numbers."""
        if not self.full:
            return detail
        return f"{detail}; {FULL_NOTE}" if detail else FULL_NOTE


MASKED = Masker(full=False)


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    """Jinja's ``finalize``: every ``{{ … }}`` of every template goes through the viewer's masker (the
    context's ``masker``; a page rendered without one is masked)."""
    masker = context.get("masker")
    return (masker if isinstance(masker, Masker) else MASKED).html(value)


def _own_links(url_for: Any) -> Any:
    """The app's own addresses pass as they are: they carry no personal number (subject ids and search
    terms are sealed, ``web.opaque``), and a masked address (a user name that is a phone number) would
    only be a broken link."""

    @pass_context
    def url_for_unmasked(context: Context, name: str, /, **params: Any) -> Unmasked:
        return Unmasked(url_for(context, name, **params))

    url_for_unmasked.unmasked = True  # type: ignore[attr-defined]
    return url_for_unmasked


def install(env: Environment) -> None:
    """Make the masking policy the boundary of every template of ``env`` (idempotent; ``deps.render``
    calls it once the app has set the environment's globals)."""
    if env.finalize is not _finalize:
        env.finalize = _finalize
        if env.cache is not None:
            env.cache.clear()  # a template compiled before would write without the boundary
    url_for = env.globals.get("url_for")
    if callable(url_for) and not getattr(url_for, "unmasked", False):
        env.globals["url_for"] = _own_links(url_for)
