"""Explain a pair: the shortest kinship/ownership path between two entities, edge by edge, with provenance.

Edges are rows of curated/relation (the relation vocabulary of docs/architecture.md), as
``graphs.relation`` reads them: only the neighbourhood of the pair, never the whole graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

import networkx as nx

from jobs.kinship.vocabulary import FAMILY, step_label

Edge = Mapping[str, Any]


@dataclass(frozen=True)
class Step:
    """One edge of a path, oriented from the previous node to the next."""

    from_id: str
    from_name: str
    to_id: str
    to_name: str
    relationship: str
    schema: str
    label: str
    feed: str | None
    file: str | None
    line: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def to_graph(edges: Iterable[Edge]) -> nx.MultiGraph:
    """An undirected multigraph; each edge keeps its row (direction is in ``source``/``target``)."""
    graph = nx.MultiGraph()
    for e in edges:
        for node, name in ((e["source"], e.get("source_name")), (e["target"], e.get("target_name"))):
            kind = "person" if e.get("schema") == FAMILY or node == e["source"] else "company"
            if node not in graph:
                graph.add_node(node, name=name or node, kind=kind)
            elif kind == "company":
                graph.nodes[node]["kind"] = "company"
        graph.add_edge(e["source"], e["target"], **dict(e))
    return graph


def explain(a: str, b: str, edges: Iterable[Edge], *, max_steps: int | None = None) -> list[Step] | None:
    """The shortest path from ``a`` to ``b`` as steps with provenance; None when they are not connected."""
    graph = to_graph(edges)
    if a not in graph or b not in graph:
        return None
    try:
        nodes = nx.shortest_path(graph, a, b)
    except nx.NetworkXNoPath:
        return None
    if max_steps is not None and len(nodes) - 1 > max_steps:
        return None
    steps = []
    for u, v in pairwise(nodes):
        # Several sources may state the same link: prefer family, then the earliest file and line.
        data = min(
            graph.get_edge_data(u, v).values(),
            key=lambda d: (d.get("schema") != FAMILY, str(d.get("file")), d.get("line") or 0),
        )
        forward = data["source"] == u
        steps.append(
            Step(
                from_id=u,
                from_name=graph.nodes[u]["name"],
                to_id=v,
                to_name=graph.nodes[v]["name"],
                relationship=data["relationship"],
                schema=data["schema"],
                label=step_label(data["relationship"], forward),
                feed=data.get("feed"),
                file=data.get("file"),
                line=data.get("line"),
            )
        )
    return steps


def path_text(steps: list[Step], *, start_label: str | None = None) -> str:
    """``张三(村书记) —配偶— 李四 —兄弟姐妹— 李五``, as in curated/kin."""
    if not steps:
        return start_label or ""
    parts = [start_label or steps[0].from_name]
    for s in steps:
        parts.append(f"—{s.label}— {s.to_name}")
    return " ".join(parts)


def neighbourhood(graph: nx.MultiGraph, path_nodes: list[str], *, max_nodes: int = 40) -> nx.MultiGraph:
    """The path and, while the picture stays readable, the direct neighbours of its nodes."""
    keep = list(dict.fromkeys(path_nodes))
    for node in path_nodes:
        for other in sorted(graph.neighbors(node)):
            if len(keep) >= max_nodes:
                break
            if other not in keep:
                keep.append(other)
    return graph.subgraph(keep).copy()


def explain_svg(a: str, b: str, edges: Iterable[Edge]) -> tuple[list[Step] | None, str]:
    """The path and an SVG of its neighbourhood (the path highlighted)."""
    from graphs.svg import render_svg

    edges = list(edges)
    graph = to_graph(edges)
    steps = explain(a, b, edges)
    nodes = [a] + [s.to_id for s in steps] if steps else [n for n in (a, b) if n in graph]
    highlight = {(s.from_id, s.to_id) for s in steps or []}
    return steps, render_svg(neighbourhood(graph, nodes), highlight=highlight)
