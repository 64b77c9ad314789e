"""Shared fixtures: one local SparkSession for the whole test session, and a fresh home per test."""

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
