"""``qingfeng serve``: the web UI under uvicorn."""

from __future__ import annotations

import click

from qingfeng.clikit import Settings, fail, with_settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option(
    "--cookie-secure/--no-cookie-secure", default=None, help="Send the session cookie over HTTPS only."
)
@with_settings
def serve(settings: Settings, host: str, port: int, cookie_secure: bool | None) -> None:
    """Serve the analyst web UI (清风线索办理平台)."""
    import uvicorn

    from qingfeng.register.db import current_revision, make_engine
    from qingfeng.web.app import create_app
    from qingfeng.web.settings import web_settings

    cfg = web_settings(settings, cookie_secure=cookie_secure)
    engine = make_engine(cfg.resolved_register_url)
    try:
        if current_revision(engine) is None:
            fail(
                f"登记库 {cfg.resolved_register_url} 尚未初始化:请先运行 `qingfeng db upgrade --home {cfg.home}`"
            )
    finally:
        engine.dispose()
    click.echo(f"清风 web UI: http://{host}:{port}/  (登记库 {cfg.resolved_register_url})")
    uvicorn.run(create_app(cfg), host=host, port=port, log_level="info", proxy_headers=False)


commands = [serve]
