"""Writing and restoring the archive (layout and manifest: ``qingfeng.backup``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from qingfeng import __version__
from qingfeng.backup import BackupError
from qingfeng.backup import register as reg
from qingfeng.backup.lock import home_lock, lock_path
from qingfeng.settings import Settings

FORMAT = "qingfeng-backup/1"
MANIFEST = "backup.json"
SECRET_FILES = ("web_secret",)  # qingfeng.web.settings.SECRET_FILE: signs sessions, seals opaque URLs
ATTEMPTS = 3  # copies started over because a writer changed the lake meanwhile
CHUNK = 1 << 20


class LakeChanged(Exception):
    pass


@dataclass
class Outcome:
    manifest: dict[str, Any]
    archive: Path
    archive_bytes: int


# -- the lake ---------------------------------------------------------------------------------------


def _staging(name: str, siblings: set[str]) -> bool:
    """A table being written (``.t.tmp-*``), or the trash of a finished replace (``.t.old-*`` beside ``t``);
    an ``.old-*`` without its table is the table itself, which the next read puts back (``qingfeng.lake``)."""
    if name.startswith(".") and ".tmp-" in name:
        return True
    if name.startswith(".") and ".old-" in name:
        return name[1:].split(".old-")[0] in siblings
    return False


def lake_state(lake: Path) -> dict[str, tuple[int, int, int]]:
    """Every file of the lake (relative path → size, mtime, inode), without tables still being written."""
    state: dict[str, tuple[int, int, int]] = {}
    if not lake.is_dir():
        return state
    for folder, dirs, files in os.walk(lake, followlinks=True):
        names = set(dirs) | set(files)
        dirs[:] = sorted(d for d in dirs if not _staging(d, names))
        for name in files:
            if _staging(name, names):
                continue
            path = Path(folder) / name
            try:
                st = path.stat()
            except FileNotFoundError:  # removed while listed
                raise LakeChanged from None
            state[path.relative_to(lake).as_posix()] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return state


# -- writing ----------------------------------------------------------------------------------------


class _Hashing:
    """A reader that hashes and counts what tarfile copies."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle, self.digest, self.count = handle, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        self.count += len(data)
        return data


def _add(
    tar: tarfile.TarFile, name: str, path: Path, mode: int = 0o644, expect: Any = None
) -> dict[str, Any]:
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise LakeChanged from None
    with handle:
        st = os.fstat(handle.fileno())
        if expect is not None and (st.st_size, st.st_mtime_ns, st.st_ino) != expect:
            raise LakeChanged
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = st.st_size, int(st.st_mtime), mode
        reader = _Hashing(handle)
        try:
            tar.addfile(info, reader)
        except OSError as exc:
            if expect is not None and "unexpected end of data" in str(exc):
                raise LakeChanged from None
            raise
    return {"path": name, "bytes": reader.count, "sha256": reader.digest.hexdigest()}


def _attempt(settings: Settings, out: Path, work: Path) -> Outcome:
    lake, home = settings.lake, settings.home.resolve()
    before = lake_state(lake)
    copy = reg.copy_register(settings.resolved_register_url, work)
    staged = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with (
            os.fdopen(os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as raw,
            gzip.GzipFile(out.name, "wb", compresslevel=6, fileobj=raw) as compressed,
            tarfile.open(fileobj=compressed, mode="w") as tar,
        ):
            files = [_add(tar, f"register/{copy.path.name}", copy.path)]
            files += [_add(tar, f"lake/{rel}", lake / rel, expect=before[rel]) for rel in sorted(before)]
            files += [
                _add(tar, f"secrets/{name}", home / name, mode=0o600)
                for name in SECRET_FILES
                if (home / name).is_file()
            ]
            if lake_state(lake) != before:
                raise LakeChanged
            manifest = {
                "format": FORMAT,
                "qingfeng_version": __version__,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                "backend": copy.backend,
                "alembic_revision": copy.revision,
                "source": {"home": str(home), "register_url": reg.shown(settings.resolved_register_url)},
                "register": {"file": files[0]["path"], "rows": copy.rows},
                "lake_files": len(before),
                "files": files,
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(dt.datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
        with staged.open("rb") as handle:
            os.fsync(handle.fileno())
        return Outcome(manifest, staged, staged.stat().st_size)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(settings: Settings, out: Path, *, audit: Any = None, waiting: Any = None) -> Outcome:
    """Write the archive to ``out`` (a temporary sibling renamed into place). ``audit(manifest)`` runs
    before the rename: a backup that cannot be audited is not kept."""
    out = out.resolve()
    home = settings.home.resolve()
    if not home.is_dir():
        raise BackupError(f"home {home} does not exist")
    if out.is_relative_to(settings.lake):
        raise BackupError(f"{out} is inside the lake it backs up: write the archive elsewhere")
    if not out.parent.is_dir():
        raise BackupError(f"folder {out.parent} does not exist")
    with home_lock(settings, waiting):
        for _ in range(ATTEMPTS):
            with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as work:
                try:
                    outcome = _attempt(settings, out, Path(work))
                except LakeChanged:
                    continue
            try:
                if audit is not None:
                    audit(outcome.manifest)
                os.replace(outcome.archive, out)
                _fsync_dir(out.parent)
            finally:
                outcome.archive.unlink(missing_ok=True)
            outcome.archive = out
            return outcome
    raise BackupError(
        f"the lake under {settings.lake} changed during each of {ATTEMPTS} copies: "
        "back up when no pipeline run is writing to this home"
    )


# -- restoring --------------------------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    path = Path(name)
    top = path.parts[0] if path.parts else ""
    allowed = name == MANIFEST or top in ("register", "lake", "secrets")
    return allowed and not path.is_absolute() and ".." not in path.parts


def _unpack(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> tuple[int, str]:
    source = tar.extractfile(member)
    assert source is not None
    digest, count = hashlib.sha256(), 0
    try:
        handle = target.open("wb")
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc}") from None
    with handle:
        for block in iter(lambda: source.read(CHUNK), b""):
            digest.update(block)
            count += len(block)
            try:
                handle.write(block)
            except OSError as exc:
                raise BackupError(f"cannot write {target}: {exc}") from None
    return count, digest.hexdigest()


def extract(archive: Path, staging: Path) -> dict[str, Any]:
    """Unpack into ``staging`` and check every file against ``backup.json``; the manifest."""
    seen: dict[str, tuple[int, str]] = {}
    current = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                current = member.name
                if member.isdir():
                    continue
                if not member.isfile() or not _safe_name(member.name):
                    raise BackupError(
                        f"archive {archive} is damaged or not a qingfeng backup: it holds {member.name!r}"
                    )
                target = staging / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                seen[member.name] = _unpack(tar, member, target)
            current = "the end of the archive"
            while tar.fileobj is not None and tar.fileobj.read(CHUNK):  # to gzip's CRC, checked at its end
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        where = f" (at {current})" if current else ""
        raise BackupError(f"archive {archive} is damaged or not a qingfeng backup{where}: {exc}") from None
    if MANIFEST not in seen:
        last = f" (last entry read: {current})" if current else ""
        raise BackupError(
            f"archive {archive} has no {MANIFEST}: damaged, cut short, or not a qingfeng backup{last}"
        )
    try:
        manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
        listed = {f["path"]: (int(f["bytes"]), str(f["sha256"])) for f in manifest["files"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"archive {archive} is damaged: {MANIFEST} is unreadable: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"archive {archive}: format {manifest.get('format')!r}, expected {FORMAT}")
    for path, (size, sha) in listed.items():
        if path not in seen:
            raise BackupError(f"archive {archive} is damaged: {path} is listed in {MANIFEST} but missing")
        if seen[path] != (size, sha):
            raise BackupError(f"archive {archive} is damaged: {path} does not match its sha256 in {MANIFEST}")
    extra = sorted(set(seen) - set(listed) - {MANIFEST})
    if extra:
        raise BackupError(
            f"archive {archive} is damaged: it holds {extra[0]}, which {MANIFEST} does not list"
        )
    return manifest


def _only_lock(path: Path, lock: Path) -> bool:
    """The lock file, or a folder holding nothing else (made by taking the lock)."""
    if path == lock:
        return True
    return path.is_dir() and lock.is_relative_to(path) and all(_only_lock(p, lock) for p in path.iterdir())


def occupied(settings: Settings) -> list[str]:
    """What the target already holds: home entries (but the lake lock), and a register outside the home."""
    home, lock = settings.home.resolve(), lock_path(settings.home)
    found = sorted(p.name for p in home.iterdir() if not _only_lock(p, lock)) if home.is_dir() else []
    url = settings.resolved_register_url
    if not reg.target_is_empty(url) and not (
        reg.backend_of(url) == "sqlite" and reg.sqlite_path(url).parent == home
    ):
        found.append(f"register {reg.shown(url)}")
    return found


def _refuse_occupied(settings: Settings, force: bool) -> None:
    found = occupied(settings)
    if found and not force:
        shown = ", ".join(found[:4]) + (" …" if len(found) > 4 else "")
        raise BackupError(
            f"target {settings.home.resolve()} is not empty ({shown}): "
            "use --force to replace its lake and register"
        )


def _replace_dir(staged: Path, target: Path) -> None:
    trash = target.with_name(f".{target.name}.old-restore-{uuid.uuid4().hex[:8]}")
    if target.exists():
        target.rename(trash)
    staged.rename(target)
    shutil.rmtree(trash, ignore_errors=True)


def restore(
    archive: Path, settings: Settings, *, force: bool = False, audit: Any = None, waiting: Any = None
) -> dict[str, Any]:
    """Restore ``archive`` into the settings' home and register; returns the manifest plus the restored
    register's ``restored_revision`` and ``restored_rows``. ``audit(manifest)`` runs at the end."""
    archive = archive.resolve()
    if not archive.is_file():
        raise BackupError(f"archive {archive} does not exist")
    home, url = settings.home.resolve(), settings.resolved_register_url
    backend = reg.backend_of(url)
    _refuse_occupied(settings, force)
    created = not home.exists()
    touched: list[bool] = []
    try:
        with home_lock(settings, waiting):
            _refuse_occupied(settings, force)  # again: another restore may have won the race for the lock
            manifest = _restore_locked(archive, settings, backend, touched)
            _migrate_and_audit(url, manifest, audit)
    except BaseException:
        if created and not touched:  # refused before anything was written: leave no home behind
            lock = lock_path(home)
            lock.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                for folder in lock.relative_to(home).parents:  # state/, then the home itself
                    (home / folder).rmdir()
        raise
    manifest["restored_revision"], manifest["restored_rows"] = reg.describe(url)
    return manifest


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _migrate_and_audit(url: str, manifest: dict[str, Any], audit: Any) -> None:
    from qingfeng.register.db import upgrade

    try:
        upgrade(url)
    except Exception as exc:  # one line for the operator, whatever alembic raised
        raise BackupError(
            f"restored, but migrating the register to this version failed: {_first_line(exc)}"
        ) from None
    if audit is not None:
        try:
            audit(manifest)
        except Exception as exc:
            raise BackupError(
                f"restored, but the audit record could not be written: {_first_line(exc)}"
            ) from None


def _restore_locked(archive: Path, settings: Settings, backend: str, touched: list[bool]) -> dict[str, Any]:
    home, url = settings.home.resolve(), settings.resolved_register_url
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=home))
    try:
        manifest = extract(archive, staging)
        if manifest["backend"] != backend:
            raise BackupError(
                f"the archive holds a {manifest['backend']} register; the target {reg.shown(url)} is {backend}"
            )
        reg.known_revision(url, manifest.get("alembic_revision"))
        touched.append(True)
        reg.restore_register(staging / manifest["register"]["file"], backend, url)
        lake = staging / "lake"
        lake.mkdir(exist_ok=True)
        _replace_dir(lake, settings.lake)
        for name in SECRET_FILES:
            secret = staging / "secrets" / name
            if secret.is_file():
                secret.chmod(0o600)
                os.replace(secret, home / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest
