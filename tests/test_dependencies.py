"""The declared dependencies are the used ones: every runtime dependency in pyproject.toml is imported
by the code (or listed below with why it is needed without an import), every third-party package the
code imports is declared, and requirements.in and the lock agree with pyproject.toml."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = ("qingfeng", "jobs", "graphs", "dags", "scripts")
FIRST_PARTY = {"qingfeng", "jobs", "graphs", "dags"}
# needed at run time without an import statement of their own
INDIRECT = {
    "psycopg": "the PostgreSQL driver SQLAlchemy loads for postgresql+psycopg:// register URLs",
    "python-multipart": "FastAPI needs it to parse the web forms (Form(...))",
    "pandas": "pyspark's Connect client and toPandas need it; pinned below 3 for pyspark 4",
    "itsdangerous": "starlette's SessionMiddleware signs the session cookie with it",
}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _runtime() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_name(r) for r in project["dependencies"]}


def _imported_modules() -> set[str]:
    found = set()
    for folder in CODE:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module.split(".")[0])
    return found - FIRST_PARTY - set(sys.stdlib_module_names)


def _distributions(modules: set[str]) -> dict[str, set[str]]:
    dists = packages_distributions()
    return {m: {_name(d) for d in dists.get(m, [m])} for m in modules}


# a meta-package whose modules another distribution installs
META = {"apache-airflow": "apache-airflow-core"}


def test_every_runtime_dependency_is_used() -> None:
    used = set().union(*_distributions(_imported_modules()).values())
    used |= {meta for meta, real in META.items() if real in used}
    unused = _runtime() - used - set(INDIRECT)
    assert not unused, f"declared in pyproject.toml but never imported: {sorted(unused)}"
    assert not set(INDIRECT) - _runtime(), "INDIRECT names a package pyproject.toml does not declare"


def test_every_imported_package_is_declared() -> None:
    runtime = _runtime() | set(META.values())
    undeclared = {m: d for m, d in _distributions(_imported_modules()).items() if not d & runtime}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_requirements_in_and_the_lock_agree_with_pyproject() -> None:
    listed = {
        _name(line)
        for line in (ROOT / "requirements.in").read_text().splitlines()
        if line.strip()[:1].isalnum()
    }
    pinned = {_name(line) for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line}
    assert not _runtime() - listed, f"missing from requirements.in: {sorted(_runtime() - listed)}"
    assert not listed - pinned, f"not pinned in requirements.lock: {sorted(listed - pinned)}"
