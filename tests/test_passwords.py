"""The password policy on its own (no server): what it refuses, and that the passwords the project
itself sets, the demo's and the sample register's, pass it for their user names."""

from __future__ import annotations

import pytest

from qingfeng.demo import DEMO_PASSWORD, DEMO_USER
from qingfeng.register.passwords import generate, problems
from qingfeng.synth.sample_register import PASSWORD, USERS


def test_the_demo_and_sample_passwords_meet_the_policy() -> None:
    assert problems(DEMO_PASSWORD, DEMO_USER) == []
    for username, *_rest in USERS:
        assert problems(PASSWORD, username) == [], username


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("12345678", "长度"),
        (" " * 12, "空格"),
        ("abcdefghijkl", "三类"),
        ("Password123!", "常见"),
        ("Qwer1234!@#$", "常见"),
        ("Analyst1#ok", "用户名"),
    ],
)
def test_weak_passwords_name_what_is_wrong(password: str, why: str) -> None:
    assert any(why in p for p in problems(password, "analyst1")), problems(password, "analyst1")


def test_generated_passwords_meet_the_policy() -> None:
    assert all(not problems(generate(), "anyone") for _ in range(50))
