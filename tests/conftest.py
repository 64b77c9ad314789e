"""Shared fixtures: one local SparkSession for the whole test session, a fresh home per test, and
one local-mode reference run of a generated district that the Spark Connect and cluster tests
compare with."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = FIXTURES / "sample"

os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)  # type: ignore[attr-defined]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def settings(home: Path):
    from qingfeng.settings import get_settings

    return get_settings(
        home=home, spark_master="local[2]", spark_shuffle_partitions=4, spark_driver_memory="2g"
    )


@pytest.fixture(scope="session")
def spark() -> Iterator:
    from qingfeng.settings import get_settings
    from qingfeng.spark import get_spark

    session = get_spark(
        get_settings(spark_master="local[2]", spark_shuffle_partitions=4, spark_driver_memory="2g")
    )
    yield session


@pytest.fixture(scope="session")
def local_reference(tmp_path_factory: pytest.TempPathFactory):
    """A generated district and ingest → resolve → graph → rules on it in local mode, once per
    session: test_cluster and test_spark_connect both compare their clues with this one run
    (read only), instead of each generating a district and running local mode again."""
    from sparkrun import reference_run

    return reference_run(tmp_path_factory.mktemp("local_reference"))


@pytest.fixture(scope="session")
def spark_connect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A resident Spark Connect server (``qingfeng spark-server``'s command, started by the
    project's own code), once per session: the scheduler's tasks and the Spark Connect test attach
    to it as a deployment's runs and tasks do, instead of each module starting and warming its own."""
    from qingfeng.settings import get_settings
    from qingfeng.spark_server import running_server

    root = tmp_path_factory.mktemp("spark_server")
    settings = get_settings(home=root).model_copy(
        update={"spark_master": "local[2]", "spark_driver_memory": "2g", "spark_shuffle_partitions": 4}
    )
    with running_server(settings, root / "server.log") as url:
        yield url
