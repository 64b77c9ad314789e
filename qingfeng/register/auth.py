"""Sign-in and sessions (GB/T 22239-2019 8.1.4.1): lockout after repeated failures, the same work for
unknown and known user names, a per-address throttle, and server-side sessions that end at once.

A session's cookie carries a random token; the register keeps only its SHA-256 (``WebSession.id``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qingfeng.register.models import AccessLog, User, WebSession, utcnow
from qingfeng.register.users import audit, hasher, normalise

# verified when the user name is unknown or has no password, so that timing reveals nothing
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(24))


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout_minutes: int = 15
    throttle_failures: int = 20  # failed sign-ins from one address ...
    throttle_minutes: int = 10  # ... within this window, then that address waits
    idle_minutes: int = 30
    lifetime_hours: float = 8
    password_max_age_days: int = 90  # 0: passwords do not expire


@dataclass(frozen=True)
class SignIn:
    user: User | None
    refusal: str | None = None  # "bad_credentials", "locked", "throttled"

    @property
    def ok(self) -> bool:
        return self.user is not None


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def throttled(session: Session, ip: str | None, policy: LoginPolicy, now: dt.datetime) -> bool:
    if not ip:
        return False
    since = now - dt.timedelta(minutes=policy.throttle_minutes)
    failures = session.scalar(
        select(func.count())
        .select_from(AccessLog)
        .where(AccessLog.action == "login_failed", AccessLog.ip == ip, AccessLog.at >= since)
    )
    return (failures or 0) >= policy.throttle_failures


def authenticate(
    session: Session, username: str, password: str, *, ip: str | None, policy: LoginPolicy
) -> SignIn:
    """Check a password and audit the outcome (login, login_failed, lockout, unlock); commits."""
    now = utcnow()
    name = normalise(username)[:100]
    if throttled(session, ip, policy, now):
        audit(
            session, name or None, "login_failed", target=name, detail="throttled: too many failures", ip=ip
        )
        session.commit()
        return SignIn(None, "throttled")
    user = session.scalar(select(User).where(User.username == name)) if name else None
    ok = _verify(user.password_hash if user else None, password)
    if user is None or not user.active:
        audit(session, name or None, "login_failed", target=name, detail="unknown or inactive", ip=ip)
        session.commit()
        return SignIn(None, "bad_credentials")
    if user.locked_until is not None:
        if user.locked_until > now:
            audit(session, user, "login_failed", target=name, detail="locked", ip=ip)
            session.commit()
            return SignIn(None, "locked")
        user.locked_until, user.failed_logins = None, 0
        audit(session, user, "unlock", target=f"user:{name}", detail="lock expired", ip=ip)
    if not ok:
        user.failed_logins = (user.failed_logins or 0) + 1
        audit(session, user, "login_failed", target=name, detail=f"failure {user.failed_logins}", ip=ip)
        if user.failed_logins >= policy.max_failures:
            user.locked_until = now + dt.timedelta(minutes=policy.lockout_minutes)
            audit(
                session,
                user,
                "lockout",
                target=f"user:{name}",
                detail=f"{user.failed_logins} failures; locked {policy.lockout_minutes} min",
                ip=ip,
            )
        session.commit()
        return SignIn(None, "locked" if user.locked_until else "bad_credentials")
    user.failed_logins = 0
    if user.password_hash and hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    audit(session, user, "login", target=name, ip=ip)
    session.commit()
    return SignIn(user)


def password_expired(user: User, policy: LoginPolicy, now: dt.datetime | None = None) -> bool:
    if policy.password_max_age_days <= 0 or user.password_changed_at is None:
        return False
    return (now or utcnow()) - user.password_changed_at > dt.timedelta(days=policy.password_max_age_days)


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(session: Session, user: User, *, ip: str | None, user_agent: str | None) -> str:
    """A new session for ``user``; returns the cookie's token (stored only as its hash). Flushes."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            id=token_id(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    session.flush()
    return token


TOUCH_EVERY = dt.timedelta(seconds=30)  # last_seen_at is written at most this often


def resume(session: Session, token: str, policy: LoginPolicy) -> tuple[WebSession, User] | None:
    """The live session behind a cookie's token, or None (ended, idle, too old, user inactive).
    An idle or aged session found here is ended and audited. Commits what it changes."""
    found = session.get(WebSession, token_id(token))
    if found is None or found.ended_at is not None:
        return None
    now = utcnow()
    user = session.get(User, found.user_id)
    reason = None
    if user is None or not user.active:
        reason = "deactivated"
    elif now - found.last_seen_at > dt.timedelta(minutes=policy.idle_minutes):
        reason = "idle"
    elif now - found.created_at > dt.timedelta(hours=policy.lifetime_hours):
        reason = "lifetime"
    if reason is not None:
        found.ended_at, found.end_reason = now, reason
        audit(session, user, "session_end", target=f"session:{found.id[:12]}", detail=reason, ip=found.ip)
        session.commit()
        return None
    if now - found.last_seen_at > TOUCH_EVERY:
        found.last_seen_at = now
        session.commit()
    assert user is not None
    return found, user


def end_session(session: Session, token: str, reason: str) -> WebSession | None:
    found = session.get(WebSession, token_id(token))
    if found is not None and found.ended_at is None:
        found.ended_at, found.end_reason = utcnow(), reason
    return found


def open_sessions(session: Session, user: User | None = None) -> list[WebSession]:
    stmt = select(WebSession).where(WebSession.ended_at.is_(None)).order_by(WebSession.last_seen_at.desc())
    if user is not None:
        stmt = stmt.where(WebSession.user_id == user.id)
    return list(session.scalars(stmt))
