"""A standalone SVG of a small kinship/ownership subgraph, drawn from a networkx layout (no graphviz)."""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from jobs.kinship.vocabulary import FAMILY, step_label

FONT = "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"
COLOURS = {"Family": "#5b7fa6", "Ownership": "#b07a2a", "Directorship": "#8a4f9e"}
HIGHLIGHT = "#c0392b"


def render_svg(
    graph: nx.Graph,
    *,
    highlight: Iterable[tuple[str, str]] = (),
    width: int = 820,
    height: int = 560,
    title: str = "关系图",
) -> str:
    """Nodes carry ``name`` and ``kind`` (person/company); edges carry ``relationship``/``schema`` rows."""
    marked = {frozenset(pair) for pair in highlight}
    margin = 70
    if graph.number_of_nodes() == 0:
        pos = {}
    elif graph.number_of_nodes() == 1:
        pos = {next(iter(graph.nodes)): (width / 2, height / 2)}
    else:
        raw = nx.spring_layout(nx.Graph(graph), seed=7)
        xs = [p[0] for p in raw.values()]
        ys = [p[1] for p in raw.values()]
        span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
        pos = {
            n: (
                margin + (p[0] - min(xs)) / span_x * (width - 2 * margin),
                margin + (p[1] - min(ys)) / span_y * (height - 2 * margin),
            )
            for n, p in raw.items()
        }

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family={quoteattr(FONT)} font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for u, v, data in _edges(graph):
        (x1, y1), (x2, y2) = pos[u], pos[v]
        hot = frozenset((u, v)) in marked
        colour = HIGHLIGHT if hot else COLOURS.get(data.get("schema", ""), "#888888")
        dash = "" if data.get("schema") == FAMILY else ' stroke-dasharray="6,4"'
        out.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-width="{3 if hot else 1.5}"{dash}/>'
        )
        label = step_label(str(data.get("relationship", "")), True)
        source = data.get("source", u)
        text = f"{graph.nodes[source]['name'] if source in graph else source}→{label}"
        out.append(
            f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 4:.1f}" text-anchor="middle" '
            f'fill="{colour}" font-size="11">{escape(text)}</text>'
        )
    for node, attrs in graph.nodes(data=True):
        x, y = pos[node]
        name = str(attrs.get("name") or node)
        fill = "#fdf2e9" if attrs.get("kind") == "company" else "#eaf2fb"
        stroke = HIGHLIGHT if any(node in pair for pair in marked) else "#34495e"
        if attrs.get("kind") == "company":
            w = max(60, 14 * len(name) + 16)
            out.append(
                f'<rect x="{x - w / 2:.1f}" y="{y - 16:.1f}" width="{w}" height="32" rx="4" '
                f'fill="{fill}" stroke="{stroke}"/>'
            )
        else:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="24" fill="{fill}" stroke="{stroke}"/>')
        out.append(
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" fill="#1b2631">{escape(name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _edges(graph: nx.Graph):
    if graph.is_multigraph():
        seen = set()
        for u, v, data in graph.edges(data=True):
            key = (frozenset((u, v)), data.get("relationship"))
            if key not in seen:
                seen.add(key)
                yield u, v, data
    else:
        yield from graph.edges(data=True)
