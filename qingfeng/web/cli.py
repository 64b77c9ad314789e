"""``qingfeng serve``: the web UI under uvicorn."""

from __future__ import annotations

import click

from qingfeng.clikit import Settings, fail, with_settings


def _root_path(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    value = (value or "").strip()
    if value and (not value.startswith("/") or value.endswith("/") or "//" in value or "?" in value):
        raise click.BadParameter("a path such as /qingfeng: a leading slash, no trailing slash")
    return value


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option(
    "--cookie-secure/--no-cookie-secure", default=None, help="Send the session cookie over HTTPS only."
)
@click.option(
    "--behind-tls/--no-behind-tls",
    default=None,
    help="Served over HTTPS by a TLS reverse proxy: Secure session cookie and HSTS (QINGFENG_BEHIND_TLS).",
)
@click.option(
    "--root-path",
    default="",
    envvar="QINGFENG_ROOT_PATH",
    callback=_root_path,
    help="URL prefix the proxy serves the UI under, e.g. /qingfeng (the proxy strips it; links and "
    "redirects carry it).",
)
@click.option(
    "--forwarded-allow-ips",
    default=None,
    envvar="QINGFENG_FORWARDED_ALLOW_IPS",
    help="Comma-separated addresses of trusted proxies (or *): their X-Forwarded-For and "
    "X-Forwarded-Proto give the client's address (access log) and scheme. Default: forwarded headers "
    "are ignored.",
)
@with_settings
def serve(
    settings: Settings,
    host: str,
    port: int,
    cookie_secure: bool | None,
    behind_tls: bool | None,
    root_path: str,
    forwarded_allow_ips: str | None,
) -> None:
    """Serve the analyst web UI (清风线索办理平台).

    \b
    In service, run it behind a TLS reverse proxy (nginx) on loopback:
      qingfeng serve --host 127.0.0.1 --port 8000 --behind-tls \\
          --forwarded-allow-ips 127.0.0.1 [--root-path /qingfeng]
    The proxy terminates TLS and sets X-Forwarded-For and X-Forwarded-Proto;
    see docs/operations.md ("The web UI behind a TLS reverse proxy").
    """
    import uvicorn

    from qingfeng.register.db import current_revision, make_engine
    from qingfeng.web.app import create_app
    from qingfeng.web.logmask import log_config
    from qingfeng.web.settings import web_settings

    cfg = web_settings(settings, cookie_secure=cookie_secure, behind_tls=behind_tls)
    engine = make_engine(cfg.resolved_register_url)
    try:
        if current_revision(engine) is None:
            fail(
                f"登记库 {cfg.resolved_register_url} 尚未初始化:请先运行 `qingfeng db upgrade --home {cfg.home}`"
            )
    finally:
        engine.dispose()
    click.echo(f"清风 web UI: http://{host}:{port}{root_path}/  (登记库 {cfg.resolved_register_url})")
    if cfg.behind_tls:
        click.echo("  behind TLS: Secure cookie, HSTS; serve it to users only through the HTTPS proxy")
    uvicorn.run(
        create_app(cfg),
        host=host,
        port=port,
        log_level="info",
        root_path=root_path,
        proxy_headers=bool(forwarded_allow_ips),
        forwarded_allow_ips=forwarded_allow_ips or None,
        server_header=False,
        log_config=log_config(),  # access log and app records through the masking policy
    )


commands = [serve]
