"""The deployment files in deploy/ name commands and settings that exist: a renamed option or
setting fails here, not at 2 a.m. on the server."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from qingfeng.cli import main
from qingfeng.settings import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
QINGFENG = "/opt/qingfeng/.venv/bin/qingfeng"


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def qingfeng_commands(path: Path) -> list[list[str]]:
    service = unit(path)["Service"]
    lines = [service.get(k, "") for k in ("ExecStartPre", "ExecStart")]
    commands = []
    for line in filter(None, lines):
        words = shlex.split(line.removeprefix("/bin/sh -c "))
        words = shlex.split(words[0]) if len(words) == 1 else words
        if words and words[0] == QINGFENG:
            commands.append(
                [w.replace("%i", "scheduler").replace("$(date +%%Y%%m%%d)", "x") for w in words[1:]]
            )
    return commands


@pytest.mark.parametrize("path", UNITS, ids=[p.name for p in UNITS])
def test_every_unit_runs_an_existing_qingfeng_command_with_valid_options(path: Path) -> None:
    commands = qingfeng_commands(path)
    assert commands, f"{path.name} runs no qingfeng command"
    assert unit(path)["Service"]["EnvironmentFile"] == "/etc/qingfeng/qingfeng.env"
    for words in commands:
        # --help after the options: click still parses (and refuses) every option given before it
        args = [*words[:2], "--help"] if words[:2] == ["airflow", "run"] else [*words, "--help"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, f"{path.name}: qingfeng {' '.join(words)}: {result.output}"


def test_the_environment_example_sets_only_known_settings() -> None:
    known = {f"QINGFENG_{name.upper()}" for name in Settings.model_fields}
    keys = [
        line.split("=", 1)[0]
        for line in (DEPLOY / "qingfeng.env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    unknown = [k for k in keys if k.startswith("QINGFENG_") and k not in known]
    assert not unknown, f"settings that do not exist: {unknown}"
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" in keys and "QINGFENG_SPARK_REMOTE" in keys
