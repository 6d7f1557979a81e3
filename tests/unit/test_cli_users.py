"""`soniquebay user`: adding a user and changing a password are two different things."""

import subprocess
import sys


def user(tmp_path, *args, password="a long secret"):
    return subprocess.run(
        [sys.executable, "-m", "soniquebay", "user", "--data-dir", str(tmp_path), *args],
        input=password + "\n",
        capture_output=True,
        text=True,
        env={"SONIQUEBAY_CONFIG": "", "PATH": "/usr/bin:/bin"},
    )


def soniquebay(tmp_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "soniquebay", *args, "--data-dir", str(tmp_path)],
        capture_output=True, text=True, env={"SONIQUEBAY_CONFIG": "", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_commands_run_from_the_wrong_folder_create_nothing(tmp_path):
    """Issue 27, item 7: `soniquebay token create` in the wrong folder made a new, empty
    library there without a word."""
    for args in (("token", "create", "desk"), ("user", "add", "ann"), ("user", "api-key", "x")):
        answer = soniquebay(tmp_path, *args) if args[0] == "token" else user(tmp_path, *args[1:])
        assert answer.returncode == 2 and "there is no library in" in answer.stderr, args
    assert list(tmp_path.iterdir()) == []


def test_a_password_for_a_user_who_does_not_exist_creates_nobody(tmp_path):
    assert soniquebay(tmp_path, "migrate").returncode == 0  # a library to work on
    answer = user(tmp_path, "password", "ghost")
    assert answer.returncode == 2 and "soniquebay user add ghost" in answer.stderr
    assert user(tmp_path, "add", "ghost").returncode == 0
    again = user(tmp_path, "add", "ghost")
    assert again.returncode == 2 and "exists already" in again.stderr
    changed = user(tmp_path, "password", "ghost", password="another long secret")
    assert changed.returncode == 0 and "password of ghost changed" in changed.stdout
