"""The one SparkSession of a process.

Local mode runs in-process; ``QINGFENG_SPARK_MASTER=spark://host:7077`` sends the same
jobs to a standalone cluster (the driver stays in this process: client mode).
``QINGFENG_SPARK_REMOTE=sc://host:15002`` attaches to a resident Spark Connect server
(``qingfeng spark-server``) instead, so that a run does not pay a new JVM's warm-up.
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


def sql_confs(settings: Settings) -> dict[str, str]:
    """Session settings every job relies on; a Connect client sets them on its own session."""
    return {
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.session.timeZone": "Asia/Shanghai",
        "spark.sql.ansi.enabled": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.parquet.compression.codec": "zstd",
    }


def jvm_confs(settings: Settings) -> dict[str, str]:
    """Settings fixed when the JVM starts: this process's, or the Connect server's."""
    return {
        "spark.app.name": "qingfeng",
        "spark.master": settings.spark_master,
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{LOG4J_CONFIG}",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # a pipeline generates ~2,000 classes; at the default 100 entries the same code was compiled again
        "spark.sql.codegen.cache.maxEntries": "4000",
    }


def get_spark(settings: Settings) -> SparkSession:
    global _session
    if _session is not None and not _is_stopped(_session):
        return _session
    from pyspark.sql import SparkSession

    if settings.spark_remote:
        builder = SparkSession.builder.remote(settings.spark_remote)
        confs = sql_confs(settings)
    else:
        for key, value in env_defaults(settings).items():
            os.environ.setdefault(key, value)
        builder = SparkSession.builder
        confs = {**jvm_confs(settings), **sql_confs(settings)}
    for key, value in confs.items():
        builder = builder.config(key, value)
    _session = builder.getOrCreate()
    if not settings.spark_remote:
        _session.sparkContext.setLogLevel("ERROR")
    return _session


def stop_spark() -> None:
    """End this process's session (a Connect server keeps running for the next client)."""
    global _session
    if _session is not None:
        _session.stop()
        _session = None


def _is_stopped(session: SparkSession) -> bool:
    stopped = getattr(session, "is_stopped", None)  # a Connect session
    if stopped is not None:
        return bool(stopped)
    return session._jsc is None


def env_defaults(settings: Settings) -> dict[str, str]:
    """Environment a Spark JVM of ours needs unless the operator set it: this Python, and loopback in local mode."""
    import sys

    env = {"PYSPARK_PYTHON": sys.executable}
    if settings.spark_master.startswith("local"):
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
    return env
