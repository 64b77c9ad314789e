"""The relation path and subgraph of a clue as inline SVG.

``qingfeng.graphs`` draws it when it offers ``render_svg``; until then (or when it fails on a
clue) the path text the rules wrote is drawn here as a simple chain, so the page always shows it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from markupsafe import Markup, escape

from qingfeng.web.masking import Masker

log = logging.getLogger(__name__)
_EDGE = re.compile(r"\s*—([^—]+)—\s*")


def clue_svg(clue: dict[str, Any], masker: Masker) -> Markup | None:
    """SVG for a clue with a path (kinship/ownership rules), else None."""
    if not clue.get("path"):
        return None
    drawn = _from_graphs(clue, masker)
    return drawn if drawn is not None else path_chain_svg(masker.text(clue["path"]))


def _from_graphs(clue: dict[str, Any], masker: Masker) -> Markup | None:
    try:
        from qingfeng import graphs
    except ImportError:
        return None
    render = getattr(graphs, "render_svg", None)
    if render is None:
        return None
    try:
        svg = render(clue, mask=not masker.full)
    except Exception:  # a drawing problem must not hide the clue; the chain below still shows the path
        log.exception("qingfeng.graphs.render_svg failed for clue %s", clue.get("id"))
        return None
    return Markup(svg) if svg and svg.lstrip().startswith("<svg") else None


def path_chain_svg(path: str) -> Markup:
    """``张三(村书记) —配偶— 李四 —兄弟姐妹— 李五`` → nodes in a row joined by labelled edges."""
    tokens = _EDGE.split(path.strip())
    nodes, edges = tokens[0::2], tokens[1::2]
    box_w, gap, h = 150, 90, 120
    width = len(nodes) * box_w + max(0, len(nodes) - 1) * gap + 20
    parts = [
        f'<svg class="relation-graph" role="img" aria-label="关系路径" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {h}" width="{width}" height="{h}">'
    ]
    for i, name in enumerate(nodes):
        x = 10 + i * (box_w + gap)
        first_or_last = i in (0, len(nodes) - 1)
        fill = "#fdecea" if first_or_last else "#eef5ff"
        parts.append(
            f'<g class="node"><rect x="{x}" y="40" width="{box_w}" height="40" rx="8" fill="{fill}" stroke="#555"/>'
            f'<text x="{x + box_w / 2}" y="65" text-anchor="middle" font-size="13">{escape(name.strip())}</text></g>'
        )
        if i < len(edges):
            x1, x2 = x + box_w, x + box_w + gap
            parts.append(
                f'<g class="edge"><line x1="{x1}" y1="60" x2="{x2}" y2="60" stroke="#b22222" stroke-width="2"/>'
                f'<text x="{(x1 + x2) / 2}" y="52" text-anchor="middle" font-size="12">{escape(edges[i].strip())}</text></g>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
