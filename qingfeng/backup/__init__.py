"""``qingfeng backup`` and ``qingfeng restore``: one archive holding a consistent snapshot of a home.

The archive (``.tar.gz``) holds ``register/`` (a copy of the SQLite file made with SQLite's online
backup API, or a ``pg_dump --format=custom`` of the PostgreSQL register), ``lake/`` (every zone and
``_manifests``), ``secrets/web_secret`` when the home keeps the web UI's key there, and, last,
``backup.json``: versions, the register's alembic revision and row counts, and the size and sha256 of
every other file. A restore verifies every file before it touches the target home.

``archive`` writes and reads archives, ``register`` copies and restores the register, ``lock`` takes
the home's lake lock (the pipeline's), ``cli`` holds the two commands. Operations: docs/operations.md,
"Backup and restore".
"""

from __future__ import annotations


class BackupError(Exception):
    """A backup or restore that cannot go on: the message is one line for the operator."""


__all__ = ["BackupError"]
