"""The relation path and subgraph of a clue as inline SVG, drawn by ``graphs``.

For a clue whose keys name a cadre and a person or company (S03, E04, A05 …), the edges around
the pair come from the lake's ``curated/relation`` through ``graphs.relation.relation_edges``
(pushed-down filter, never the whole graph; read once per run of the graph stage)
and ``graphs.explain.explain_svg`` draws the neighbourhood with the path highlighted; the steps
carry each edge's source file and line. Without the relation table (e.g. a register copied away
from its lake) the clue's stored path text is drawn as a simple chain, so the page always shows it.

The drawing is made from the register's data as it is (the relation table is keyed by resident ID, and a
node without a name is labelled with its ID); like every value of a page it is masked for the viewer at
the template boundary (``qingfeng.web.masking``: the SVG's text, never its markup).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from qingfeng.register.safe_output import mask_text
from qingfeng.settings import Settings

log = logging.getLogger(__name__)
_EDGE = re.compile(r"\s*—([^—]+)—\s*")
HOPS = 2  # from both ends: paths of up to four edges (kin within 2 steps, then ownership)


@dataclass
class ClueGraph:
    svg: Markup
    steps: list[Any]  # graphs.explain.Step, with feed/file/line per edge
    source: str  # "relation" (lake edges) or "path" (stored text only)


def _pair(keys: dict[str, Any]) -> tuple[str, str] | None:
    cadre = keys.get("cadre")
    other = keys.get("person") or keys.get("company")
    return (str(cadre), str(other)) if cadre and other else None


def clue_graph(clue: dict[str, Any], settings: Settings, shown_path: str) -> ClueGraph | None:
    """The drawing for a clue with a path, or None for clues without one."""
    if not clue.get("path"):
        return None
    pair = _pair(clue.get("keys") or {})
    if pair is not None:
        drawn = _from_relation(settings, *pair)
        if drawn is not None:
            return drawn
    return ClueGraph(path_chain_svg(shown_path), [], "path")


def _from_relation(settings: Settings, a: str, b: str) -> ClueGraph | None:
    try:
        from graphs.explain import explain_svg
        from graphs.relation import relation_edges

        edges = relation_edges(settings, [a, b], hops=HOPS)
        if edges is None:
            return None
        steps, svg = explain_svg(a, b, edges)
    except Exception:  # a broken relation file must not hide the clue: the stored path is still drawn
        log.exception("relation graph for %s–%s failed", mask_text(a), mask_text(b))
        return None
    if not steps:
        return None
    return ClueGraph(Markup(svg), steps, "relation")


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
        fill = "#fdecea" if i in (0, len(nodes) - 1) else "#eef5ff"
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
