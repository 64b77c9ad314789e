"""The password policy (GB/T 22239-2019 8.1.4.1 身份鉴别): long enough, three kinds of character,
not the user name, not a common password."""

from __future__ import annotations

import re
import secrets
import string
from functools import cache
from pathlib import Path

from qingfeng.register.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 200
CLASSES = (
    ("小写字母", re.compile(r"[a-z]")),
    ("大写字母", re.compile(r"[A-Z]")),
    ("数字", re.compile(r"[0-9]")),
    ("符号", re.compile(r"[^A-Za-z0-9\s]")),
)
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _variants(password: str) -> set[str]:
    """``Qwer1234!@#`` → qwer1234!@#, qwer1234, qwer: a common word with digits or symbols added is
    still common."""
    lowered = password.lower()
    return {
        lowered,
        lowered.strip(string.punctuation + " "),
        lowered.strip(string.digits + string.punctuation + " "),
    }


def problems(password: str, username: str | None = None) -> list[str]:
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"长度至少 {MIN_LENGTH} 位")
    if len(password) > MAX_LENGTH:
        found.append(f"长度不超过 {MAX_LENGTH} 位")
    if not password.strip() or password != password.strip():
        found.append("不能以空格开头或结尾")
    kinds = sum(1 for _label, pattern in CLASSES if pattern.search(password))
    if kinds < 3:
        found.append("须包含大写字母、小写字母、数字、符号中的至少三类")
    lowered = password.lower()
    if username and username.lower() in lowered:
        found.append("不能包含用户名")
    common = common_passwords()
    if _variants(password) & common:
        found.append("属于常见弱口令")
    return found


def check(password: str, username: str | None = None) -> None:
    found = problems(password, username)
    if found:
        raise InvalidInput("口令不符合安全策略:" + ";".join(found) + "。")


def generate() -> str:
    """A temporary password that meets the policy (for an administrator's reset)."""
    alphabet = string.ascii_letters + string.digits + "#%+=@"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16))
        if not problems(candidate):
            return candidate
