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


def test_a_password_for_a_user_who_does_not_exist_creates_nobody(tmp_path):
    answer = user(tmp_path, "password", "ghost")
    assert answer.returncode == 2 and "soniquebay user add ghost" in answer.stderr
    assert user(tmp_path, "add", "ghost").returncode == 0
    again = user(tmp_path, "add", "ghost")
    assert again.returncode == 2 and "exists already" in again.stderr
    changed = user(tmp_path, "password", "ghost", password="another long secret")
    assert changed.returncode == 0 and "password of ghost changed" in changed.stdout
