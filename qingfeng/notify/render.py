"""The Chinese templates (``templates/<event>.txt``: blocks ``subject``, ``sms`` and ``email``) and the
policy's last word: every rendered text passes the register's masking (``safe_output.mask_text``),
so a resident ID, bank account or mobile number that reached a title never leaves in a message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from qingfeng.register.safe_output import mask_text

TEMPLATES = Path(__file__).parent / "templates"
SUBJECT_MAX = 300  # notification.subject
_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=False,  # plain text: e-mail bodies and SMS, never HTML
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    email: str
    sms: str

    def body(self, channel: str | None) -> str:
        return self.sms if channel == "sms" else self.email


def render(event: str, context: Mapping[str, Any]) -> Rendered:
    template = _ENV.get_template(f"{event}.txt")
    values = template.new_context(dict(context))

    def block(name: str) -> str:
        return mask_text("".join(template.blocks[name](values)).strip())

    return Rendered(
        subject=" ".join(block("subject").split())[:SUBJECT_MAX],
        email=block("email") + "\n",
        sms=" ".join(block("sms").split()),
    )


def shorten(text: str | None, limit: int) -> str:
    """A title on one line, at most ``limit`` characters (SMS are short); masked first, so that a cut
    never leaves part of a number that the masking would no longer recognise."""
    flat = " ".join(mask_text(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
