"""The clue contract (``qingfeng.contract``) needs no Spark, and neither do the web and register that
read it: they import, and the web app is built, in a process where importing pyspark fails."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from qingfeng.contract import CATALOGUE, KEY_NAMES

WITHOUT_SPARK = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    class NoSpark(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("pyspark", "py4j", "jobs"):
                raise ImportError(f"{name} must not be imported here")
            return None

    sys.meta_path.insert(0, NoSpark())

    import qingfeng.register, qingfeng.web

    SKIP = ("qingfeng.register.migrations",)  # they run under alembic
    for package in (qingfeng.register, qingfeng.web):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not module.name.startswith(SKIP):
                importlib.import_module(module.name)
    import qingfeng.contract, qingfeng.rulesdoc

    from qingfeng.web import create_app
    from qingfeng.web.settings import web_settings

    create_app(web_settings(home=sys.argv[1], session_secret="x" * 40))
    print("SPARK-FREE", sorted(m for m in sys.modules if m.split(".")[0] in ("pyspark", "py4j", "jobs")))
    """
)


def test_web_and_register_import_without_pyspark(tmp_path: Path) -> None:
    script = tmp_path / "without_spark.py"
    script.write_text(WITHOUT_SPARK, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "SPARK-FREE []" in proc.stdout


def test_catalogue_is_what_the_rules_implement() -> None:
    from jobs.rules.base import REGISTRY
    from jobs.rules.runner import load_rule_modules

    load_rule_modules()
    assert sorted(REGISTRY) == sorted(CATALOGUE)
    for code, spec in REGISTRY.items():
        assert (spec.name, spec.keys, spec.domain) == (
            CATALOGUE[code].name,
            CATALOGUE[code].keys,
            CATALOGUE[code].domain,
        )
        assert set(spec.keys) <= set(KEY_NAMES)
