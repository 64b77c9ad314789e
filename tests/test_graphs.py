"""graphs/: explain a pair with provenance, a standalone SVG, and the cached relation reader (no Spark needed)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pyarrow as pa
import pyarrow.parquet as pq

import graphs.relation
from graphs.explain import explain, explain_svg, path_text
from graphs.relation import CachedRelation, load_edges
from qingfeng.lake import replace_dir_atomically

SVG = "{http://www.w3.org/2000/svg}"
REG, CAD, CO = "户籍人口信息_20231231.csv", "村社干部名册_2023.xlsx", "企业股东信息.csv"


def rel(source, target, relationship, schema, source_name, target_name, feed, file, line):
    return dict(
        source=source,
        target=target,
        relationship=relationship,
        schema=schema,
        source_name=source_name,
        target_name=target_name,
        feed=feed,
        file=file,
        line=line,
    )


EDGES = [
    rel("C", "W", "spouse", "Family", "张三", "李四", "marriage", "婚姻登记信息_2023.csv", 4),
    rel("WH", "W", "parent", "Family", "李老爹", "李四", "household_registry", REG, 9),
    rel("W", "W2", "sibling", "Family", "李四", "李五", "household_registry", REG, 10),
    rel(
        "W2",
        "91330102MA0000001C",
        "shareholder",
        "Ownership",
        "李五",
        "清风建筑工程有限公司",
        "company",
        CO,
        2,
    ),
    rel(
        "Z",
        "91330102MA0000001C",
        "legal_representative",
        "Directorship",
        "赵六",
        "清风建筑工程有限公司",
        "company",
        "企业基本信息.csv",
        2,
    ),
    rel("C", "P", "declared:父亲", "Family", "张三", "张老汉", "cadre", CAD, 3),
    rel("U", "V", "spouse", "Family", "无关甲", "无关乙", "household_registry", REG, 20),
]


def test_explain_returns_the_shortest_path_with_each_edges_provenance():
    steps = explain("C", "91330102MA0000001C", EDGES)
    assert [(s.from_id, s.to_id, s.label) for s in steps] == [
        ("C", "W", "配偶"),
        ("W", "W2", "兄弟姐妹"),
        ("W2", "91330102MA0000001C", "持股"),
    ]
    assert [(s.feed, s.file, s.line) for s in steps] == [
        ("marriage", "婚姻登记信息_2023.csv", 4),
        ("household_registry", REG, 10),
        ("company", CO, 2),
    ]
    assert (
        path_text(steps, start_label="张三(村书记)")
        == "张三(村书记) —配偶— 李四 —兄弟姐妹— 李五 —持股— 清风建筑工程有限公司"
    )


def test_explain_orients_labels_against_the_edge_direction_and_declared_relations():
    back = explain("W", "WH", EDGES)
    assert [s.label for s in back] == ["父母"]
    assert [s.label for s in explain("P", "C", EDGES)] == ["子女"]
    assert explain("C", "U", EDGES) is None
    assert explain("C", "nobody", EDGES) is None
    assert explain("C", "W2", EDGES, max_steps=1) is None


def test_svg_is_valid_xml_with_the_chinese_names_and_the_path_highlighted():
    steps, svg = explain_svg("C", "W2", EDGES)
    assert [s.to_id for s in steps] == ["W", "W2"]
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for name in ("张三", "李四", "李五", "李老爹"):
        assert name in texts
    assert "无关甲" not in texts  # outside the neighbourhood
    assert any(line.get("stroke") == "#c0392b" for line in root.iter(f"{SVG}line"))
    assert any("配偶" in (t or "") for t in texts)


def test_load_edges_reads_only_the_neighbourhood(tmp_path):
    folder = tmp_path / "relation"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(EDGES), folder / "part-0.parquet")
    near = load_edges(folder, ["C"], hops=1)
    assert {(e["source"], e["target"]) for e in near} == {("C", "W"), ("C", "P")}
    wider = load_edges(folder, ["C"], hops=3)
    assert ("U", "V") not in {(e["source"], e["target"]) for e in wider}
    assert explain("C", "91330102MA0000001C", wider) is not None


def test_cached_relation_reads_each_neighbourhood_once_per_run(tmp_path, monkeypatch):
    folder = tmp_path / "curated" / "relation"
    reads = []

    def counting_load(*args, **kwargs):
        reads.append(args[1])
        return load_edges(*args, **kwargs)

    def graph_stage_writes(rows):  # as the graph stage does: a new folder renamed into place
        staged = tmp_path / "curated" / ".relation.tmp"
        staged.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), staged / "part-0.parquet")
        replace_dir_atomically(staged, folder)

    monkeypatch.setattr(graphs.relation, "load_edges", counting_load)
    relation = CachedRelation(folder)
    assert relation.edges_around(["C", "W2"], hops=2) is None  # not written yet
    graph_stage_writes(EDGES[:3])
    first = relation.edges_around(["C", "W2"], hops=2)
    assert relation.edges_around(["W2", "C"], hops=2) is first
    assert len(reads) == 1
    relation.edges_around(["C", "W2"], hops=1)
    assert len(reads) == 2  # another neighbourhood is another read
    graph_stage_writes(EDGES)
    after = relation.edges_around(["C", "W2"], hops=2)
    assert len(reads) == 3 and len(after) > len(first)
