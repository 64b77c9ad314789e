"""``qingfeng airflow``: run the pipeline as a service under a real Airflow.

- ``setup`` migrates Airflow's metadata database and sizes the Spark pool;
- ``env`` prints the environment every Airflow component of this home needs (for a systemd
  ``EnvironmentFile`` or a shell);
- ``run COMPONENT…`` runs an Airflow command (``scheduler``, ``dag-processor``, ``triggerer``,
  ``api-server``, ``standalone``…) with that environment.
"""

from __future__ import annotations

import os
import shlex

import click

from qingfeng.clikit import fail, with_settings
from qingfeng.settings import Settings

SHOWN_PREFIXES = ("AIRFLOW", "QINGFENG_", "PYSPARK_")
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "FERNET")


@click.group("airflow")
def airflow() -> None:
    """Run qingfeng under a real Airflow scheduler (docs/operations.md)."""


@airflow.command("setup")
@with_settings
def setup(settings: Settings) -> None:
    """Migrate Airflow's metadata database and the register, and create the Spark pool sized from memory."""
    from qingfeng import airflow_env
    from qingfeng.pipeline.dagkit import SPARK_POOL, spark_pool_slots
    from qingfeng.register.db import upgrade

    env = airflow_env.environ(settings, retries=None)
    try:
        upgrade(settings.resolved_register_url)  # the monthly report reads it before any clue is published
        airflow_env.ensure_db(settings, env)
        slots = spark_pool_slots(settings)
        description = "qingfeng: tasks that start or attach to Spark"
        airflow_env.run_airflow(
            ["pools", "set", SPARK_POOL, str(slots), description], env, "airflow pools set"
        )
    except airflow_env.AirflowError as exc:
        fail(str(exc))
    click.echo(f"Register and Airflow metadata ready; pool {SPARK_POOL}: {slots} slot(s).")


@airflow.command("env")
@click.option("--show-secrets", is_flag=True, help="Print passwords, tokens and keys instead of ***.")
@with_settings
def show_env(settings: Settings, show_secrets: bool) -> None:
    """Print the environment of this home's Airflow components (KEY=VALUE lines)."""
    from qingfeng import airflow_env

    env = airflow_env.environ(settings, retries=None)
    for key in sorted(k for k in env if k.startswith(SHOWN_PREFIXES)):
        secret = any(word in key for word in SECRET_WORDS) or ("://" in env[key] and "@" in env[key])
        value = "***" if secret and not show_secrets else env[key]
        click.echo(f"{key}={shlex.quote(value)}")


@airflow.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED, required=True)
@with_settings
def run_component(settings: Settings, args: tuple[str, ...]) -> None:
    """Run `airflow ARGS…` with this home's environment (e.g. `qingfeng airflow run scheduler`)."""
    from qingfeng import airflow_env

    env = airflow_env.environ(settings, retries=None)
    binary = airflow_env.airflow_bin()
    os.execvpe(binary, [binary, *args], env)


commands = [airflow]
