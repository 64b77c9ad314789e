"""The public page (向社会公开) as HTML: one template, ``public.html``, for ``GET /public``, its 429 answer
and ``qingfeng campaigns export-public``. Its own Jinja environment: no request, no session, no
``url_for``; the masking boundary of every page applies as for an anonymous viewer (defence in depth:
the data, ``campaigns.disclosure``, holds no personal number to begin with)."""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from qingfeng.campaigns.disclosure import FIGURE_TITLES, FIGURES, Disclosure
from qingfeng.web import formatting, masking

HERE = Path(__file__).parent
TEMPLATE = "public.html"
STYLESHEET = HERE / "static" / "public.css"
EXPORT_PAGE, EXPORT_STYLESHEET = "index.html", "public.css"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
    )
    env.filters.update(formatting.FILTERS)
    masking.install(env)
    return env


def render_disclosure(disclosure: Disclosure, *, stylesheet: str) -> str:
    return (
        environment()
        .get_template(TEMPLATE)
        .render(
            disclosure=disclosure,
            figures=FIGURES,
            titles=FIGURE_TITLES,
            stylesheet=stylesheet,
            refusal=False,
        )
    )


def render_refusal(retry_after: int, stylesheet: str) -> str:
    return (
        environment()
        .get_template(TEMPLATE)
        .render(refusal=True, retry_after=retry_after, stylesheet=stylesheet)
    )


def export(disclosure: Disclosure, out: Path) -> list[Path]:
    """``out/index.html`` and its stylesheet beside it (a relative link), for the government site.
    Each file is written whole or not at all (a temporary file renamed over the old one)."""
    out.mkdir(parents=True, exist_ok=True)
    page = out / EXPORT_PAGE
    sheet = out / EXPORT_STYLESHEET
    _replace(sheet, STYLESHEET.read_bytes())
    _replace(page, render_disclosure(disclosure, stylesheet=EXPORT_STYLESHEET).encode("utf-8"))
    return [page, sheet]


def _replace(target: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)  # a web server's user reads it
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
