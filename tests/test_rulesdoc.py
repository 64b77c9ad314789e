"""The generated rule catalogue page matches the code and configuration, and covers all 24 rules."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from qingfeng.contract import RulesConfig
from qingfeng.rulesdoc import DEFAULT_OUT, load_rules, render, render_project_page, rules_doc

PROJECT = Path(__file__).resolve().parent.parent
CODES = (
    [f"S0{i}" for i in range(1, 8)]
    + [f"E0{i}" for i in range(1, 8)]
    + [f"A0{i}" for i in range(1, 6)]
    + [f"P0{i}" for i in range(1, 6)]
)


def test_committed_page_is_the_generated_page() -> None:
    committed = DEFAULT_OUT.read_text(encoding="utf-8")
    assert committed == render_project_page(), "docs/rules.md is stale: run `qingfeng rules-doc`"


def test_page_lists_all_24_rules_in_catalogue_order_with_their_docstrings() -> None:
    registry = load_rules()
    assert list(registry) == CODES
    page = render_project_page()
    headings = [line.removeprefix("### ") for line in page.splitlines() if line.startswith("### ")]
    assert headings == CODES
    for code, spec in registry.items():
        assert f"**{code} {spec.name}**" in page
        first_line = (spec.func.__doc__ or "").strip().splitlines()[0]
        assert first_line and first_line in page, f"{code}: docstring missing from the page"


def test_thresholds_come_from_the_configuration(tmp_path: Path) -> None:
    config = RulesConfig.load(PROJECT / "config" / "rules.yml", direct_award_limit=250000)
    page = render(load_rules(), config)
    assert "| `direct_award_limit` | 250000 |" in page
    assert "`window_days` = 90, `min_contracts` = 2" in page
    assert "`land_types` = 耕地、林地、鱼塘" in page


def test_cli_writes_and_checks_the_page(tmp_path: Path) -> None:
    out = tmp_path / "rules.md"
    runner = CliRunner()
    result = runner.invoke(rules_doc, ["--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == render_project_page()
    assert runner.invoke(rules_doc, ["--out", str(out), "--check"]).exit_code == 0
    out.write_text("stale", encoding="utf-8")
    stale = runner.invoke(rules_doc, ["--out", str(out), "--check"])
    assert stale.exit_code == 1 and "out of date" in stale.output
