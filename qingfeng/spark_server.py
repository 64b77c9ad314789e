"""``qingfeng spark-server``: a resident Spark Connect server that runs and tasks attach to.

Every process that starts its own JVM pays about 50 s of warm-up at M (JIT, class loading,
Janino; see the README's bench section). A server started once pays it once: point
``QINGFENG_SPARK_REMOTE`` at it and every run, Airflow task and CLI command reuses it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from qingfeng.clikit import with_settings
from qingfeng.spark import env_defaults, jvm_confs, sql_confs

if TYPE_CHECKING:
    from collections.abc import Iterator

    from qingfeng.settings import Settings

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def server_command(settings: Settings, port: int, host: str = "127.0.0.1") -> list[str]:
    """The ``spark-submit`` line of a Connect server with the pipeline's settings."""
    from pyspark.find_spark_home import _find_spark_home

    confs = {
        **jvm_confs(settings),
        **sql_confs(settings),
        "spark.app.name": "qingfeng-spark-server",
        "spark.connect.grpc.binding.address": host,
        "spark.connect.grpc.binding.port": str(port),
    }
    command = [str(Path(_find_spark_home()) / "bin" / "spark-submit"), "--class", SERVER_CLASS]
    for key, value in confs.items():
        command += ["--conf", f"{key}={value}"]
    return [*command, "spark-internal"]


def server_env(settings: Settings) -> dict[str, str]:
    return {**env_defaults(settings), **os.environ}


def wait_for_port(host: str, port: int, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Spark Connect server exited with code {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the Spark Connect server did not listen on {host}:{port} within {timeout:.0f} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(settings: Settings, log: Path, port: int | None = None) -> Iterator[str]:
    """Start a fresh server for the block (its output in ``log``); yield its ``sc://`` address."""
    port = port or free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            server_command(settings, port), env=server_env(settings), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port("127.0.0.1", port, process)
        yield f"sc://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@click.command("spark-server")
@click.option("--port", type=click.IntRange(1, 65535), default=15002, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@with_settings
def spark_server(port: int, host: str, settings: Settings) -> None:
    """Run a Spark Connect server in the foreground, for QINGFENG_SPARK_REMOTE=sc://HOST:PORT."""
    click.echo(f"Spark Connect server on sc://{host}:{port} (master {settings.spark_master})", err=True)
    command = server_command(settings, port, host)
    # exec, not a child: Ctrl-C and a service manager's signals then reach the server itself
    os.execve(command[0], command, server_env(settings))


commands = [spark_server]
