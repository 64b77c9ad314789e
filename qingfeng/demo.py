"""``qingfeng demo``: the README's first command.

Generates the sample district, drops its files into the per-feed inboxes, runs every ingest DAG,
the cross-match DAG and the monthly report DAG through Airflow (``DAG.test()`` in one child
process, SQLite metadata under ``<home>/airflow``), leaves the clues in the register, then starts
the analyst UI and prints where to look. The campaign projects of the sample district
(``qingfeng.campaigns.demo_seed``) are seeded before the pipeline, so that its clues link to them
as they are published, and worked on after it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qingfeng.clikit import fail, with_settings

if TYPE_CHECKING:
    from rich.console import Console

    from qingfeng.settings import Settings

DEMO_USER = "demo"
DEMO_PASSWORD = "Lvshui#Qing2024"  # printed by the demo; a local sample district only
DEMO_SEED = 20231231


@click.command("demo")
@click.option("--households", default=300, show_default=True, type=click.IntRange(20, 1_000_000))
@click.option("--seed", default=DEMO_SEED, show_default=True, type=int)
@click.option("--serve/--no-serve", default=True, help="Start the analyst UI at the end.")
@click.option("--port", default=8000, show_default=True, type=int)
@with_settings
def demo(settings: Settings, households: int, seed: int, serve: bool, port: int) -> None:
    """Generate the sample district, run the whole pipeline through Airflow, open the analyst UI."""
    from rich.console import Console

    console = Console()
    home = settings.home.resolve()
    console.print(f"[bold]清风 demo[/]  home {home}")

    started = time.perf_counter()
    with console.status("generating the sample district …"):
        district_dir, meta = generate_district(home, households, seed)
    as_of = meta["as_of"]
    console.print(
        f"[green]✓[/] district: {households} households, seed {seed}, as-of {as_of}  ({district_dir})"
    )

    delivered = fill_inboxes(settings, district_dir)
    console.print(f"[green]✓[/] inboxes: {sum(delivered.values())} files in {home / 'inbox'}/<feed>/")

    year = int(meta.get("year") or int(as_of[:4]) - 1)
    seeded = seed_campaigns(settings, year)
    console.print(
        f"[green]✓[/] campaigns: {seeded.get('projects', 0)} projects, {seeded.get('tasks', 0)} tasks, "
        f"{seeded.get('inspections', 0)} inspections added for {year}"
    )

    from qingfeng import airflow_env

    with console.status("preparing Airflow metadata (SQLite) …"):
        t0 = time.perf_counter()
        try:
            airflow_env.ensure_db(settings)
        except airflow_env.AirflowError as exc:
            fail(str(exc))
    console.print(
        f"[green]✓[/] Airflow metadata ready in {time.perf_counter() - t0:.1f}s ({airflow_env.airflow_home(settings)})"
    )

    plan = [
        {"dag_id": f"ingest_{feed}", "logical_date": as_of, "conf": {"as_of": as_of}}
        for feed, n in sorted(delivered.items())
        if n
    ]
    plan += [
        {"dag_id": "cross_match", "logical_date": as_of, "conf": {"as_of": as_of}},
        {"dag_id": "monthly_report", "logical_date": as_of, "conf": {"as_of": as_of}},
    ]
    log_path = home / "logs" / "demo-airflow.log"
    results = run_plan(console, settings, plan, log_path)
    failed = [r for r in results if r.state != "success"]
    if failed or len(results) < len(plan):
        messages = [f["message"] for r in failed for f in r.failures] or [f"see {log_path}"]
        stuck = failed[0].dag_id if failed else plan[len(results)]["dag_id"]
        fail(f"DAG {stuck} failed:\n" + "\n".join(messages) + f"\nAirflow log: {log_path}")

    clue_count = count_clues(settings)
    worked = seed_campaigns(settings, year)
    console.print(
        f"[green]✓[/] pipeline done in {time.perf_counter() - started:.0f}s: {clue_count} clues in the register, "
        f"{linked_clues(settings)} in campaign projects ({worked.get('steps', 0)} lifecycle steps taken)"
    )
    print_where_to_look(console, settings, district_dir, port)
    if serve:
        start_ui(console, settings, port)


def generate_district(home: Path, households: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """The sample district under ``<home>/district``; kept when already generated with the same size and seed."""
    out = home / "district"
    meta_path = out / "district.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("households") == households and meta.get("seed") == seed:
            return out, meta
        shutil.rmtree(out)
    from qingfeng.synth.generate import synthesize

    synthesize(out, households, seed)
    return out, json.loads(meta_path.read_text(encoding="utf-8"))


def fill_inboxes(settings: Settings, district_dir: Path) -> dict[str, int]:
    """Deliver each export file into ``<home>/inbox/<feed>/`` as an operator would; returns files per feed."""
    from qingfeng.feeds.model import load_feeds
    from qingfeng.pipeline.dagkit import inbox

    counts: dict[str, int] = {}
    for feed in load_feeds(settings.feeds_dir):
        folder = inbox(settings, feed.feed)
        counts[feed.feed] = 0
        for path in sorted(district_dir.iterdir()):
            if path.is_file() and any(spec.matches(path.name) for spec in feed.files):
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / path.name
                if not target.exists() or target.stat().st_size != path.stat().st_size:
                    shutil.copyfile(path, target)
                counts[feed.feed] += 1
    return counts


def run_plan(console: Console, settings: Settings, plan: list[dict[str, Any]], log_path: Path) -> list[Any]:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from qingfeng import airflow_env

    with Progress(
        SpinnerColumn(finished_text=""),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        parse = progress.add_task("Airflow: parsing dags/ …", total=1)
        tasks: dict[str, Any] = {}

        def on_event(event: dict[str, Any]) -> None:
            kind = event["event"]
            if kind == "parsed":
                progress.update(
                    parse,
                    completed=1,
                    description=f"[green]✓[/] parsed {len(event['dags'])} DAGs in {event['seconds']}s",
                )
                progress.stop_task(parse)
            elif kind == "import_error":
                progress.console.print(f"[red]DAG import error[/] {event['path']}:\n{event['error']}")
            elif kind == "dag_start":
                tasks[event["dag_id"]] = progress.add_task(
                    f"airflow dags test [bold]{event['dag_id']}[/] …", total=1
                )
            elif kind == "dag_done":
                task = tasks[event["dag_id"]]
                mark = "[green]✓[/]" if event["state"] == "success" else "[red]✗[/]"
                states = ", ".join(f"{t} {s}" for t, s in event["tasks"].items())
                progress.update(task, completed=1, description=f"{mark} {event['dag_id']} [dim]{states}")
                progress.stop_task(task)

        try:
            return airflow_env.run_dags(settings, plan, log_path=log_path, on_event=on_event)
        except airflow_env.AirflowError as exc:
            fail(str(exc))
            return []


def count_clues(settings: Settings) -> int:
    from sqlalchemy import func, select

    from qingfeng.register.db import make_engine
    from qingfeng.register.models import Clue

    engine = make_engine(settings.resolved_register_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Clue)).scalar_one())
    finally:
        engine.dispose()


def seed_campaigns(settings: Settings, year: int) -> dict[str, int]:
    """The demo's campaign year (idempotent), acting as the demo supervisor; migrates the register first."""
    from sqlalchemy import select

    from qingfeng.campaigns.config import CampaignsConfigError, campaigns_config
    from qingfeng.campaigns.demo_seed import seed_demo_campaigns
    from qingfeng.campaigns.linking import rule_projects
    from qingfeng.register.db import make_engine, session_factory, upgrade
    from qingfeng.register.errors import RegisterError
    from qingfeng.register.models import User

    upgrade(settings.resolved_register_url)
    ensure_demo_user(settings)
    engine = make_engine(settings.resolved_register_url)
    try:
        mapping = rule_projects(campaigns_config(Path(settings.campaigns_config)))
        with session_factory(engine)() as session:
            user = session.scalar(select(User).where(User.username == DEMO_USER))
            assert user is not None
            return seed_demo_campaigns(session, user, year=year, mapping=mapping)
    except (CampaignsConfigError, RegisterError) as exc:
        fail(f"demo campaigns: {exc}")
        return {}
    finally:
        engine.dispose()


def linked_clues(settings: Settings) -> int:
    from sqlalchemy import func, select

    from qingfeng.register.db import make_engine
    from qingfeng.register.models import Clue

    engine = make_engine(settings.resolved_register_url)
    try:
        with engine.connect() as conn:
            stmt = (
                select(func.count())
                .select_from(Clue)
                .where(Clue.project_id.is_not(None), Clue.source == "rule")
            )
            return int(conn.execute(stmt).scalar_one())
    finally:
        engine.dispose()


def ensure_demo_user(settings: Settings) -> None:
    """A supervisor account for the demo UI (created once)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from qingfeng.register.db import make_engine
    from qingfeng.register.models import User
    from qingfeng.register.users import audit, create_user

    engine = make_engine(settings.resolved_register_url)
    try:
        with Session(engine) as session:
            if session.execute(select(User).where(User.username == DEMO_USER)).first() is None:
                create_user(session, DEMO_USER, "supervisor", password=DEMO_PASSWORD, display_name="演示用户")
                audit(
                    session,
                    "system:demo",
                    "change",
                    target=f"user:{DEMO_USER}",
                    detail="add role=supervisor (demo)",
                )
                session.commit()
    finally:
        engine.dispose()


def print_where_to_look(console: Console, settings: Settings, district_dir: Path, port: int) -> None:
    from rich.table import Table

    from qingfeng import airflow_env

    home = settings.home.resolve()
    docs = home / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    table = Table(title="Where to look", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("register", settings.resolved_register_url)
    table.add_row("lake", str(settings.lake))
    table.add_row("Data Docs", f"file://{docs}" if docs.exists() else "(not built)")
    table.add_row("district + truth", str(district_dir))
    table.add_row("inboxes", f"{home / 'inbox'}/<feed>/")
    table.add_row(
        "Airflow",
        f"AIRFLOW_HOME={airflow_env.airflow_home(settings)}  (see docs/operations.md: airflow standalone)",
    )
    table.add_row("analyst UI", f"http://127.0.0.1:{port}/   login {DEMO_USER} / {DEMO_PASSWORD}")
    table.add_row("clues", f"qingfeng clues list --home {home}")
    table.add_row("campaigns", f"qingfeng campaigns list --home {home}")
    console.print(table)


def start_ui(console: Console, settings: Settings, port: int) -> None:
    console.print(f"Starting the analyst UI on http://127.0.0.1:{port}/ (Ctrl-C to stop) …")
    env = dict(os.environ, QINGFENG_HOME=str(settings.home.resolve()))
    exe = Path(sys.executable).with_name("qingfeng")
    cmd = [
        str(exe) if exe.exists() else "qingfeng",
        "serve",
        "--port",
        str(port),
        "--home",
        str(settings.home.resolve()),
    ]
    with contextlib.suppress(KeyboardInterrupt):
        subprocess.run(cmd, env=env, check=False)


commands = [demo]
