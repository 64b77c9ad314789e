"""The lake's ``curated/relation`` as the UI reads it: the edges around a few nodes.

``load_edges`` reads only the neighbourhood of the seeds, with a pushed-down pyarrow filter, so
the whole graph is never loaded. ``relation_edges`` is the one accessor the UI uses: it keeps
the neighbourhoods it has read for as long as the table's snapshot (``qingfeng.lake.table_snapshot``)
stays the same. The graph stage renames a new folder into place on every run, which changes the
snapshot, so the next request reads the new edges and the old ones are dropped.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qingfeng.lake import TableSnapshot, table_path, table_snapshot

if TYPE_CHECKING:
    from qingfeng.settings import Settings

Edges = list[dict[str, Any]]


def load_edges(relation_dir: Path, seeds: Iterable[str], *, hops: int = 3) -> Edges:
    """The relation rows within ``hops`` edges of any seed, read with a pushed-down filter."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    dataset = ds.dataset(str(relation_dir), format="parquet", ignore_prefixes=[".", "_"])
    nodes = set(seeds)
    rows: dict[tuple, dict[str, Any]] = {}
    for _ in range(hops):
        value_set = list(nodes)
        table = dataset.to_table(
            filter=pc.field("source").isin(value_set) | pc.field("target").isin(value_set)
        )
        for row in table.to_pylist():
            rows[(row["source"], row["target"], row["relationship"], row["file"], row["line"])] = row
        grown = nodes | {r["source"] for r in rows.values()} | {r["target"] for r in rows.values()}
        if grown == nodes:
            break
        nodes = grown
    return list(rows.values())


class CachedRelation:
    """The neighbourhoods read from one relation folder, kept while its snapshot holds (least
    recently used dropped beyond ``max_entries``)."""

    def __init__(self, folder: Path, *, max_entries: int = 512) -> None:
        self.folder = folder
        self.max_entries = max_entries
        self._snapshot: TableSnapshot = ()
        self._edges: OrderedDict[tuple[frozenset[str], int], Edges] = OrderedDict()
        self._lock = threading.Lock()

    def edges_around(self, seeds: Iterable[str], *, hops: int) -> Edges | None:
        """The edges within ``hops`` of the seeds, or None when the table has not been written.
        The list is shared by the requests that ask for the same neighbourhood: read it, do not change it."""
        snapshot = table_snapshot(self.folder)
        if not snapshot:
            return None
        key = (frozenset(seeds), hops)
        with self._lock:
            if snapshot != self._snapshot:
                self._snapshot, self._edges = snapshot, OrderedDict()
            elif key in self._edges:
                self._edges.move_to_end(key)
                return self._edges[key]
        edges = load_edges(self.folder, key[0], hops=hops)
        with self._lock:
            if snapshot == self._snapshot:  # another request may have seen a newer run meanwhile
                self._edges[key] = edges
                if len(self._edges) > self.max_entries:
                    self._edges.popitem(last=False)
        return edges


_tables: dict[Path, CachedRelation] = {}
_tables_lock = threading.Lock()


def relation_edges(settings: Settings, seeds: Iterable[str], *, hops: int) -> Edges | None:
    """The edges of the settings' ``curated/relation`` within ``hops`` of the seeds (None without the table)."""
    folder = table_path(settings, "curated", "relation")
    with _tables_lock:
        table = _tables.get(folder)
        if table is None:
            table = _tables[folder] = CachedRelation(folder)
    return table.edges_around(seeds, hops=hops)
