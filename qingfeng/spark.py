"""The one SparkSession of a process.

Local mode runs in-process; ``QINGFENG_SPARK_MASTER=spark://host:7077`` sends the same
jobs to a standalone cluster (the driver stays in this process: client mode).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from qingfeng.settings import Settings

_session: SparkSession | None = None
LOG4J_CONFIG = Path(__file__).parent / "conf" / "log4j2.properties"


def get_spark(settings: Settings) -> SparkSession:
    global _session
    if _session is not None and _session._jsc is not None:
        return _session
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", _python())
    if settings.spark_master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    quiet_logs = f"-Dlog4j2.configurationFile=file:{LOG4J_CONFIG}"
    builder = (
        SparkSession.builder.appName("qingfeng")
        .master(settings.spark_master)
        .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", settings.spark_driver_memory)
        .config("spark.driver.extraJavaOptions", quiet_logs)
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.sql.parquet.compression.codec", "zstd")
        # a pipeline generates ~2,000 classes; at the default 100 entries the same code was compiled again
        .config("spark.sql.codegen.cache.maxEntries", "4000")
    )
    _session = builder.getOrCreate()
    _session.sparkContext.setLogLevel("ERROR")
    return _session


def stop_spark() -> None:
    global _session
    if _session is not None:
        _session.stop()
        _session = None


def _python() -> str:
    import sys

    return sys.executable
