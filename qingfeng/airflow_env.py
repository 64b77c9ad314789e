"""An isolated Airflow for one qingfeng home: ``<home>/airflow`` with SQLite metadata, no
examples, and the repository's ``dags/`` folder.

- :func:`environ` is the environment every ``airflow`` command of this home runs with;
- :func:`ensure_db` migrates the metadata database once (and caches a freshly migrated database
  per Airflow version, so a new home costs a file copy instead of a ~7 s migration);
- :func:`dags_test` runs ``airflow dags test`` (the test suite uses it);
- :func:`run_dags` runs several DAGs one after another in ONE child process with
  ``DAG.test()`` (what ``airflow dags test`` does, without paying Airflow's and Spark's start-up
  per DAG; the demo uses it). Its log goes to a file; progress comes back over a pipe.

Run ``python -m qingfeng.airflow_env PLAN.json PROGRESS_FD`` only through :func:`run_dags`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from qingfeng.settings import PROJECT_ROOT, Settings

DAGS_FOLDER = PROJECT_ROOT / "dags"


def airflow_home(settings: Settings) -> Path:
    return settings.home.resolve() / "airflow"


def environ(
    settings: Settings,
    *,
    base: dict[str, str] | None = None,
    retries: int | None = 0,
    in_process: bool = False,
) -> dict[str, str]:
    """Environment for Airflow commands of this home; an operator's own AIRFLOW__DATABASE__SQL_ALCHEMY_CONN wins.

    ``in_process``: for ``DAG.test()`` runs (``airflow dags test``, the demo), which cannot run a DAG
    with a deadline alert in Airflow 3.3.2 (the run's end looks the alert up by an id it does not
    have), so the cross-match's deadline is left out; a scheduler evaluates it.
    """
    env = dict(os.environ if base is None else base)
    home = airflow_home(settings)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": env.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
            "QINGFENG_HOME": str(settings.home.resolve()),
            "QINGFENG_SPARK_MASTER": settings.spark_master,
            "QINGFENG_SPARK_DRIVER_MEMORY": settings.spark_driver_memory,
            "QINGFENG_SPARK_SHUFFLE_PARTITIONS": str(settings.spark_shuffle_partitions),
            "PYSPARK_PYTHON": env.get("PYSPARK_PYTHON", sys.executable),
        }
    )
    env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
    # Workers call the api-server for every state change; at the default 5 s a busy 2-core machine
    # (Spark tasks side by side) timed calls out and the executor failed tasks that never started.
    env.setdefault("AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT", "30")
    if settings.register_url:
        env["QINGFENG_REGISTER_URL"] = settings.register_url
    if retries is not None:
        env["QINGFENG_DAG_RETRIES"] = str(retries)
    if in_process:
        env["QINGFENG_CROSS_MATCH_DEADLINE_MINUTES"] = "0"
    return env


def airflow_bin() -> str:
    local = Path(sys.executable).with_name("airflow")
    return str(local) if local.exists() else "airflow"


def _cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "qingfeng"


class AirflowError(RuntimeError):
    pass


def ensure_db(settings: Settings, env: dict[str, str] | None = None) -> Path:
    """Migrate the SQLite metadata database of this home unless it already is migrated."""
    env = env or environ(settings)
    home = airflow_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    if not env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite:///"):
        run_airflow(["db", "migrate"], env, "airflow db migrate")
        return home
    db = Path(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///"))
    stamp = db.with_name(db.name + f".migrated-{version('apache-airflow-core')}")
    if stamp.exists() and db.exists():
        return home
    cached = _cache_dir() / f"airflow-{version('apache-airflow-core')}-empty.db"
    if cached.exists() and not db.exists():
        shutil.copyfile(cached, db)
    else:
        run_airflow(["db", "migrate"], env, "airflow db migrate")
        if not cached.exists():
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f".{cached.name}.{os.getpid()}")
            shutil.copyfile(db, tmp)
            tmp.replace(cached)  # atomic: parallel first runs never see half a database
    stamp.touch()
    return home


def run_airflow(
    args: list[str], env: dict[str, str], what: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [airflow_bin(), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise AirflowError(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return proc


def dags_test(
    settings: Settings,
    dag_id: str,
    logical_date: str,
    conf: dict[str, Any] | None = None,
    timeout: float = 1800,
) -> subprocess.CompletedProcess[str]:
    """``airflow dags test DAG DATE --conf JSON`` in this home; returns the finished process (not checked)."""
    env = environ(settings, in_process=True)
    ensure_db(settings, env)
    args = [airflow_bin(), "dags", "test", dag_id, logical_date]
    if conf:
        args += ["--conf", json.dumps(conf)]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@dataclass
class DagRunResult:
    dag_id: str
    state: str
    seconds: float
    failures: list[dict[str, str]] = field(default_factory=list)
    tasks: dict[str, str] = field(default_factory=dict)


def run_dags(
    settings: Settings,
    plan: list[dict[str, Any]],
    *,
    log_path: Path,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> list[DagRunResult]:
    """Run the DAGs of ``plan`` (``{"dag_id", "logical_date", "conf"}`` each) in order, in one child
    process; stops at the first failed DAG run."""
    env = environ(settings, in_process=True)
    ensure_db(settings, env)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    plan_path = log_path.with_suffix(".plan.json")
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    read_fd, write_fd = os.pipe()
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "qingfeng.airflow_env", str(plan_path), str(write_fd)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
        )
        os.close(write_fd)
        results: list[DagRunResult] = []
        with os.fdopen(read_fd, encoding="utf-8") as events:
            for line in events:
                event = json.loads(line)
                if on_event:
                    on_event(event)
                if event["event"] == "dag_done":
                    results.append(
                        DagRunResult(
                            event["dag_id"],
                            event["state"],
                            event["seconds"],
                            event["failures"],
                            event["tasks"],
                        )
                    )
        code = proc.wait()
    if code != 0 and (not results or results[-1].state == "success"):
        tail = "\n".join(log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
        raise AirflowError(f"the Airflow runner stopped (exit {code}); log {log_path}:\n{tail}")
    return results


def _child(plan_path: Path, progress_fd: int) -> int:
    """In the child: run each DAG of the plan with ``DAG.test()`` and report over the pipe."""
    import time

    import pendulum

    out = os.fdopen(progress_fd, "w", encoding="utf-8", buffering=1)

    def emit(**event: Any) -> None:
        out.write(json.dumps(event) + "\n")

    from airflow.dag_processing.dagbag import DagBag

    from qingfeng.pipeline import dagkit

    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    start = time.perf_counter()
    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            emit(event="import_error", path=str(path), error=str(error)[-2000:])
        return 3
    emit(event="parsed", seconds=round(time.perf_counter() - start, 2), dags=sorted(bag.dag_ids))
    for item in plan:
        dag = bag.get_dag(item["dag_id"])
        emit(event="dag_start", dag_id=item["dag_id"])
        t0 = time.perf_counter()
        del dagkit.FAILURES[:]
        dag_run = dag.test(logical_date=pendulum.parse(item["logical_date"]), run_conf=item.get("conf"))
        tasks = {ti.task_id: _state(ti.state) for ti in dag_run.get_task_instances()}
        state = _state(dag_run.state)
        emit(
            event="dag_done",
            dag_id=item["dag_id"],
            state=state,
            seconds=round(time.perf_counter() - t0, 2),
            failures=list(dagkit.FAILURES),
            tasks=tasks,
        )
        if state != "success":
            return 1
    return 0


def _state(value: Any) -> str:
    return str(getattr(value, "value", value))


if __name__ == "__main__":
    sys.exit(_child(Path(sys.argv[1]), int(sys.argv[2])))
