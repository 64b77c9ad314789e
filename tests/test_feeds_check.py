"""`qingfeng feeds check` finds every kind of problem of a feed file and the suite generated from it,
with the file and the field, without Spark; a broken feed file leaves the other feeds loadable and
ingestible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from qingfeng.feeds.check import CheckResult, check_feeds
from qingfeng.feeds.model import FeedFileError, load_feeds
from qingfeng.settings import PROJECT_ROOT

FEEDS = PROJECT_ROOT / "feeds"
SAMPLE = Path(__file__).parent / "fixtures" / "sample"

TOY = """
feed: toy
title: toy visits
schedule: "@monthly"
files:
  - table: toy_visit
    pattern: 'toy_visits_\\d{4}\\.csv'
    examples: [toy_visits_2023.csv]
    encoding: gbk
    columns:
      编号: {name: visit_no, nullable: false}
      金额: {name: fee, type: money}
      证件号: {name: visitor_id, type: resident_id}
    keys: [visit_no]
    checks:
      - reason: negative_fee
        column: fee
        when: "fee < 0 AND visitor_id_status = 'valid'"
    expectations:
      - {type: expect_column_values_to_not_be_null, kwargs: {column: _file}}
"""


def _layout(tmp_path: Path, feed: str = TOY, name: str = "toy") -> Path:
    feeds = tmp_path / "feeds"
    feeds.mkdir(exist_ok=True)
    (feeds / f"{name}.yml").write_text(feed, encoding="utf-8")
    return feeds


def _check(feeds: Path, samples: Path | None = None) -> CheckResult:
    return check_feeds(feeds, samples=samples)


def _lines(result: CheckResult, severity: str = "error") -> list[str]:
    return [str(p) for p in result.problems if p.severity == severity]


def test_a_good_toy_feed_passes(tmp_path: Path) -> None:
    result = _check(_layout(tmp_path))
    assert result.problems == [], result.problems
    assert (result.feeds, result.tables) == (1, 1)


def test_a_toy_feed_with_a_period_and_the_shrink_guard_passes(tmp_path: Path) -> None:
    feed = TOY.replace("'toy_visits_\\d{4}\\.csv'", "'toy_visits_(?P<period>\\d{4}|\\d{6})\\.csv'")
    feed = feed.replace("[toy_visits_2023.csv]", "[toy_visits_2023.csv, toy_visits_202302.csv]")
    feed = feed.replace("schedule:", "max_shrink: 0.2\nschedule:").replace(
        "    keys: [visit_no]", "    keys: [visit_no]\n    coverage: [visitor_id_status]\n    max_shrink: 0"
    )
    result = _check(_layout(tmp_path, feed))
    assert result.problems == [], result.problems


# (what is broken, the edit to the toy feed, what the error says: field and message)
FEED_ERRORS = [
    ("typo'd top key", lambda t: t.replace("schedule:", "schedul:"), "toy.yml: schedul: unknown key 'schedul' (did you mean 'schedule'?)"),
    ("typo'd file key", lambda t: t.replace("    columns:", "    colums:"), "toy.yml: files.0.colums: unknown key 'colums' (did you mean 'columns'?)"),
    ("typo'd column key", lambda t: t.replace("type: money", "tpye: money"), "files.0.columns.金额.tpye: unknown key 'tpye' (did you mean 'type'?)"),
    ("unknown column type", lambda t: t.replace("type: money", "type: mony"), "files.0.columns.金额.type: unknown column type 'mony' (did you mean 'money'?)"),
    ("key naming no column", lambda t: t.replace("keys: [visit_no]", "keys: [visit_num]"), "files.0.keys: key 'visit_num' is not a declared column (did you mean 'visit_no'?)"),
    ("check naming no column", lambda t: t.replace("column: fee", "column: fees"), "files.0.checks: checks.0 (negative_fee): column 'fees' is not a declared column"),
    ("csv without encoding", lambda t: t.replace("    encoding: gbk\n", ""), "files.0.encoding: table toy_visit: a csv file kind must declare its encoding"),
    ("xlsx without sheet", lambda t: t.replace("encoding: gbk", "format: xlsx"), "files.0.sheet: table toy_visit: an xlsx file kind must name its sheet"),
    ("enum without values", lambda t: t.replace("{name: visit_no, nullable: false}", "{name: visit_no, type: enum}"), "files.0.columns.编号.values: column 'visit_no' is an enum but lists no values"),
    ("missing field", lambda t: t.replace("title: toy visits\n", ""), "toy.yml: title: required field is missing"),
    ("bad pattern", lambda t: t.replace("'toy_visits_\\d{4}\\.csv'", "'toy_(visits.csv'"), "files.0.pattern: pattern 'toy_(visits.csv' is not a regular expression"),
    ("feed name", lambda t: t.replace("feed: toy", "feed: toys"), "toy.yml: feed: feed name 'toys' must equal the file name 'toy'"),
    ("yaml syntax", lambda t: t.replace("title: toy visits", "title: [toy visits"), "not valid YAML"),
    ("not a mapping", lambda t: "- just\n- a list\n", "a feed file must be a mapping"),
    ("invalid Spark SQL", lambda t: t.replace("fee < 0 AND", "fee < AND"), "files.0.checks.0.when: not valid Spark SQL: an operand is missing near character 9 of: fee < AND"),
    ("two statements", lambda t: t.replace('when: "fee < 0 AND', 'when: "fee < 0; DROP TABLE x; SELECT 1 WHERE'), "files.0.checks.0.when: must be one predicate, not several statements"),
    ("check naming no column in SQL", lambda t: t.replace("visitor_id_status =", "visitor_status ="), "files.0.checks.0.when: names 'visitor_status', not a column of table toy_visit (did you mean 'visitor_id_status'?)"),
    ("example not matched", lambda t: t.replace("[toy_visits_2023.csv]", "[toy_visits_2023.csv, toy_visit_2023.csv]"), "files.0.examples.1: 'toy_visit_2023.csv' does not match the pattern"),
    ("period group not a date shape", lambda t: t.replace("'toy_visits_\\d{4}\\.csv'", "'toy_visits_(?P<period>\\d{4,6})\\.csv'"), "toy.yml: files.0.pattern: the period group (?P<period>\\d{4,6}) must be \\d{4} (a year), \\d{6} (a month) or \\d{8} (a day)"),
    ("example period not a date", lambda t: t.replace("'toy_visits_\\d{4}\\.csv'", "'toy_visits_(?P<period>\\d{6})\\.csv'").replace("[toy_visits_2023.csv]", "[toy_visits_202313.csv]"), "toy.yml: files.0.examples.0: 'toy_visits_202313.csv': the period '202313' of the name is not a date"),
    ("max_shrink not a fraction", lambda t: t.replace("    encoding: gbk\n", "    encoding: gbk\n    max_shrink: 10\n"), "toy.yml: files.0.max_shrink: max_shrink 10 is not a fraction between 0 and 1"),
    ("max_shrink as a percentage", lambda t: t.replace("schedule:", "max_shrink: 10%\nschedule:"), "toy.yml: max_shrink: max_shrink '10%': write a fraction, e.g. 0.1 for 10%"),
    ("coverage naming no column", lambda t: t.replace("    keys: [visit_no]", "    keys: [visit_no]\n    coverage: [visitor]"), "toy.yml: files.0.coverage: coverage column 'visitor' is not a declared column (did you mean 'visitor_id'?)"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "expected"), [e[1:] for e in FEED_ERRORS], ids=[e[0] for e in FEED_ERRORS])
def test_every_feed_error_kind_names_the_file_and_field(tmp_path: Path, edit, expected: str) -> None:
    result = _check(_layout(tmp_path, edit(TOY)))
    errors = _lines(result)
    assert any(expected in line for line in errors), errors
    assert all(str(tmp_path / "feeds" / "toy.yml") in line for line in errors), errors


EXTRA = "{type: expect_column_values_to_not_be_null, kwargs: {column: _file}}"

# (what is wrong with the file kind's extra expectation, the extra instead, what the error says)
EXTRA_ERRORS = [
    ("unknown expectation", "{type: expect_column_values_to_be_uniqe, kwargs: {column: fee}}", "toy.yml: files.0.expectations.0.type: unknown expectation type 'expect_column_values_to_be_uniqe' (did you mean 'expect_column_values_to_be_unique'?)"),
    ("bad expectation kwargs", "{type: expect_column_values_to_be_unique, kwargs: {colum: fee}}", "toy.yml: files.0.expectations.0.kwargs: expect_column_values_to_be_unique: not valid arguments"),
    ("GX's meta form", "{type: expect_column_values_to_be_unique, kwargs: {column: visit_no}, meta: {severity: warning}}", "toy.yml: files.0.expectations.0.meta: unknown key 'meta'"),
    ("severity", "{type: expect_column_values_to_be_unique, kwargs: {column: visit_no}, severity: fatal}", "toy.yml: files.0.expectations.0.severity: Input should be 'error' or 'warning'"),
    ("column not landed", "{type: expect_column_values_to_be_unique, kwargs: {column: visit_num}}", "toy.yml: files.0.expectations.0.kwargs.column: expect_column_values_to_be_unique: 'visit_num' is not a column of table toy_visit (did you mean 'visit_no'?)"),
    ("column list not landed", "{type: expect_compound_columns_to_be_unique, kwargs: {column_list: [visit_no, visitor]}}", "files.0.expectations.0.kwargs.column_list: expect_compound_columns_to_be_unique: 'visitor' is not a column"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "expected"), [e[1:] for e in EXTRA_ERRORS], ids=[e[0] for e in EXTRA_ERRORS]
)
def test_every_extra_expectation_error_kind_names_the_file_and_field(
    tmp_path: Path, extra: str, expected: str
) -> None:
    result = _check(_layout(tmp_path, TOY.replace(EXTRA, extra)))
    errors = _lines(result)
    assert any(expected in line for line in errors), errors


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    broken = TOY.replace("schedule:", "schedul:").replace("fee < 0 AND", "fee < AND")
    broken = broken.replace(
        EXTRA,
        "{type: expect_column_values_to_be_unique, kwargs: {column: nope}}\n      - {type: expect_nothing}",
    )
    feeds = _layout(tmp_path, broken)
    (feeds / "other.yml").write_text("feed: other\ntitle: [", encoding="utf-8")
    (feeds / "third.yml").write_text(
        TOY.replace("feed: toy", "feed: third")
        .replace("type: money", "type: mony")
        .replace("[visit_no]", "[num]"),
        encoding="utf-8",
    )
    errors = _lines(_check(feeds))
    # the feed file is broken (a typo'd key), and its file kind is still checked: SQL, suite
    for expected in (
        "schedul",
        "not valid Spark SQL",
        "unknown expectation type 'expect_nothing'",
        "'nope' is not a column",
        "'mony'",
    ):
        assert any(expected in line for line in errors), (expected, errors)
    assert any("other.yml: line 2, column 9: not valid YAML" in line for line in errors), errors
    # third.yml: the keys are not checked against columns that are broken themselves
    assert len(errors) == 6, errors


def test_examples_and_samples_run_against_every_feeds_pattern(tmp_path: Path) -> None:
    feeds = _layout(tmp_path)
    other = TOY.replace("feed: toy", "feed: toy2").replace("table: toy_visit", "table: toy_visit2")
    other = other.replace("'toy_visits_\\d{4}\\.csv'", "'toy_visits_.*\\.csv'")
    (feeds / "toy2.yml").write_text(other, encoding="utf-8")
    samples = tmp_path / "samples"
    samples.mkdir()
    for name in ("toy_visits_2024.csv", "unknown.csv"):
        (samples / name).write_text("x", encoding="utf-8")
    errors = _lines(_check(feeds, samples))
    assert any(
        "toy.yml: files.0.examples.0: 'toy_visits_2023.csv' is also matched by feed(s) toy2" in e
        for e in errors
    ), errors
    assert any("toy_visits_2024.csv: matched by several feeds (toy, toy2)" in e for e in errors), errors
    assert any("unknown.csv: no feed's pattern matches this file name" in e for e in errors), errors


def test_a_broken_feed_is_reported_once_not_again_through_its_suite_and_samples(tmp_path: Path) -> None:
    feeds = _layout(tmp_path, TOY.replace("    columns:", "    colums:"))
    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "toy_visits_2024.csv").write_text("x", encoding="utf-8")
    result = _check(feeds, samples)
    assert [(p.file.name, p.field) for p in result.problems] == [("toy.yml", "files.0.colums")], (
        result.problems
    )


def test_duplicate_tables_and_warnings(tmp_path: Path) -> None:
    feeds = _layout(tmp_path, TOY.replace("    examples: [toy_visits_2023.csv]\n", ""))
    result = _check(feeds)
    assert _lines(result) == []
    warnings = _lines(result, "warning")
    assert any("files.0.examples: table toy_visit: no example file names" in w for w in warnings), warnings

    (feeds / "toy2.yml").write_text(TOY.replace("feed: toy", "feed: toy2"), encoding="utf-8")
    errors = _lines(_check(feeds))
    assert any(
        "toy.yml: files.0.table: table 'toy_visit' is declared by both toy and toy2" in e for e in errors
    )
    assert any(
        "toy2.yml: files.0.table: table 'toy_visit' is declared by both toy and toy2" in e for e in errors
    )


def test_load_feeds_keeps_the_good_feeds_and_names_the_bad_file(tmp_path: Path) -> None:
    feeds = _layout(tmp_path)
    (feeds / "broken.yml").write_text(
        TOY.replace("feed: toy", "feed: broken")
        .replace("table: toy_visit", "table: b")
        .replace("columns:", "colums:"),
        encoding="utf-8",
    )
    (feeds / "typo.yaml").write_text(TOY, encoding="utf-8")
    loaded = load_feeds(feeds)
    assert [f.feed for f in loaded] == ["toy"]
    assert {p.file.name for p in loaded.problems} == {"broken.yml", "typo.yaml"}
    assert loaded.broken_feed_for("toy_visits_2023.csv") == feeds / "broken.yml"  # its pattern still reads
    assert "broken.yml: files.0.colums: unknown key 'colums'" in loaded.report()
    with pytest.raises(FeedFileError, match="colums"):
        load_feeds(feeds, strict=True)
    missing = load_feeds(tmp_path / "nowhere")
    assert list(missing) == [] and "does not exist" in missing.problems[0].message


def test_exit_codes(tmp_path: Path) -> None:
    from qingfeng.cli import main

    feeds = _layout(tmp_path)
    runner = CliRunner()
    ok = runner.invoke(main, ["feeds", "check", str(feeds)])
    assert ok.exit_code == 0, ok.output
    assert "ok: 1 feed file(s), 1 table(s); 0 error(s)" in ok.output
    (feeds / "toy.yml").write_text(TOY.replace("columns:", "colums:"), encoding="utf-8")
    bad = runner.invoke(main, ["feeds", "check", str(feeds), "--json"])
    assert bad.exit_code == 1, bad.output
    problems = {p["field"]: p for p in json.loads(bad.output)["problems"]}
    assert problems["files.0.colums"]["file"] == str(feeds / "toy.yml")
    assert problems["files.0.colums"]["message"] == "unknown key 'colums' (did you mean 'columns'?)"


def test_feeds_suite_prints_the_generated_suite_and_an_old_suites_folder_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qingfeng.cli import main

    feeds = _layout(tmp_path)
    runner = CliRunner()
    printed = runner.invoke(main, ["feeds", "suite", "toy_visit", "--feeds-dir", str(feeds)])
    assert printed.exit_code == 0, printed.output
    suite = json.loads(printed.output)
    assert suite["name"] == "toy_visit" and suite["meta"]["feed"] == "toy"
    assert suite["expectations"][-1]["kwargs"] == {"column": "_file"}  # the extra comes last
    missing = runner.invoke(main, ["feeds", "suite", "nope", "--feeds-dir", str(feeds)])
    assert missing.exit_code == 1 and "no feed" in missing.output

    monkeypatch.setenv("QINGFENG_EXPECTATIONS_DIR", str(tmp_path / "expectations"))
    result = runner.invoke(main, ["feeds", "check", str(feeds)])
    assert result.exit_code == 0, result.output
    assert "note: QINGFENG_EXPECTATIONS_DIR is no longer read" in result.output


# Runs `qingfeng feeds check` on the shipped feeds in a fresh interpreter, and reports what
# it imported: great_expectations (the suites are parsed by GX) but no pyspark.
NO_SPARK = r"""
import json, sys, time
seen = set()
class Watch:
    def find_spec(self, name, path=None, target=None):
        seen.add(name.split(".")[0])
        return None
sys.meta_path.insert(0, Watch())
from click.testing import CliRunner
from qingfeng.cli import main
t0 = time.perf_counter()
result = CliRunner().invoke(main, ["feeds", "check", *sys.argv[1:]])
print(json.dumps({"exit": result.exit_code, "output": result.output, "seconds": time.perf_counter() - t0,
                  "pyspark": sorted(m for m in sys.modules if m.split(".")[0] == "pyspark"),
                  "gx_imported": "great_expectations" in seen}))
"""


def test_the_shipped_feeds_pass_without_pyspark_in_seconds() -> None:
    t0 = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QINGFENG_")}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            NO_SPARK,
            str(FEEDS),
            "--samples",
            str(SAMPLE),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["exit"] == 0, out["output"]
    assert "0 error(s), 0 warning(s)" in out["output"], out["output"]
    assert out["pyspark"] == []
    assert out["gx_imported"]
    print(
        f"\nfeeds check: {out['seconds']:.1f} s in the command, {time.perf_counter() - t0:.1f} s with the interpreter"
    )
    # Almost all of it is importing GX (pandas, scipy, altair): ~3-5 s on a quiet laptop
    assert out["seconds"] < 120


# ---- `qingfeng ingest` with a broken feed file (no Spark: the engine is not reached or is faked) ----


def _ingest_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    feeds = _layout(tmp_path)
    broken = TOY.replace("feed: toy", "feed: broken").replace("table: toy_visit", "table: b")
    broken = broken.replace("toy_visits_", "broken_visits_").replace("columns:", "colums:")
    (feeds / "broken.yml").write_text(broken, encoding="utf-8")
    monkeypatch.setenv("QINGFENG_FEEDS_DIR", str(feeds))
    monkeypatch.setenv("QINGFENG_HOME", str(tmp_path / "home"))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return inbox


def test_ingest_of_a_broken_feed_fails_before_spark_naming_file_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qingfeng.spark
    from qingfeng.cli import main

    inbox = _ingest_layout(tmp_path, monkeypatch)
    monkeypatch.setattr(qingfeng.spark, "get_spark", lambda _s: pytest.fail("Spark started"))
    result = CliRunner().invoke(main, ["ingest", "--input", str(inbox), "--feed", "broken"])
    assert result.exit_code == 1
    assert "broken.yml: files.0.colums: unknown key 'colums'" in result.output
    assert "nothing was ingested" in result.output and "requested with --feed: broken" in result.output


def test_ingest_lands_the_good_feeds_and_fails_only_for_the_broken_feeds_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qingfeng.ingest.engine
    import qingfeng.spark
    from qingfeng.cli import main
    from qingfeng.ingest.report import FileResult, IngestReport

    inbox = _ingest_layout(tmp_path, monkeypatch)
    (inbox / "toy_visits_2023.csv").write_text("x", encoding="utf-8")
    seen: dict[str, object] = {}

    def fake_ingest(settings, input_dir, *, spark, feeds=None, progress=None):
        # what the engine loads: the good feed only
        seen["feeds"], seen["loaded"] = feeds, [f.feed for f in load_feeds(settings.feeds_dir)]
        report = IngestReport(input_dir=str(input_dir))
        for path in sorted(input_dir.iterdir()):
            status = "ingested" if path.name.startswith("toy") else "unrecognised"
            report.files.append(FileResult(file=path.name, status=status))  # type: ignore[arg-type]
        return report

    monkeypatch.setattr(qingfeng.spark, "get_spark", lambda _s: None)
    monkeypatch.setattr(qingfeng.ingest.engine, "ingest_dir", fake_ingest)
    runner = CliRunner()
    result = runner.invoke(main, ["ingest", "--input", str(inbox)])
    assert result.exit_code == 0, result.output  # the broken feed has no file here: reported, not failed
    assert "broken feed file" in result.output and "broken.yml: files.0.colums" in result.output
    assert seen == {"feeds": None, "loaded": ["toy"]}

    (inbox / "broken_visits_2023.csv").write_text("x", encoding="utf-8")
    result = runner.invoke(main, ["ingest", "--input", str(inbox)])
    assert result.exit_code == 1
    assert "broken_visits_2023.csv: not ingested: its feed file" in result.output
    assert "the other feeds were ingested" in result.output
