"""An arm64 Debian 12 to run the Pi package in, on an x86 machine without binfmt_misc.

The root file system comes from Debian's mirror with ``debootstrap --arch=arm64 --foreign``;
its second stage, and everything after, runs under ``proot`` (a fake root, no privileges
needed) with ``qemu-aarch64-static`` emulating a Pi 4's Cortex-A72. It is made once and kept
(``SONIQUEBAY_ARM64_ROOTFS``, default /var/cache/soniquebay-arm64/bookworm); each test works
on a copy of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

MIRROR = "http://deb.debian.org/debian"
# What the package depends on, installed with the base system (no apt run under emulation).
# debootstrap does not resolve virtual packages: python3.11-venv depends on python3.11-distutils
# (since a bookworm point release), which only python3-distutils provides, so that is named.
PACKAGES = (
    "python3.11,python3.11-venv,python3-distutils,ffmpeg,libchromaprint-tools,redis-server,"
    "adduser,ca-certificates"
)
CPU = "cortex-a72"  # a Raspberry Pi 4's
HOST_TOOLS = {
    "debootstrap": "debootstrap",
    "proot": "proot",
    "qemu-aarch64-static": "qemu-user-static",
}


def cache_dir() -> Path:
    return Path(os.environ.get("SONIQUEBAY_ARM64_ROOTFS", "/var/cache/soniquebay-arm64/bookworm"))


def install_host_tools() -> None:
    missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if shutil.which(tool) is None})
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        done = subprocess.run(["apt-get", "install", "-y", "-q", *missing], env=env, check=False)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", *missing], env=env, check=True)


def guest_command(rootfs: Path, argv: list[str], binds: tuple[str, ...] = ()) -> list[str]:
    command = ["proot", "-0", "-q", f"qemu-aarch64-static -cpu {CPU}", "-r", str(rootfs)]
    for bind in ("/dev", "/proc", "/sys", *binds):
        command += ["-b", bind]
    return [*command, "-w", "/", *argv]


def guest_env(**extra: str) -> dict[str, str]:
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "PROOT_NO_SECCOMP": "1",  # proot's seccomp acceleration trips over qemu's syscalls
        **extra,
    }


def run_guest(rootfs: Path, argv: list[str], *, timeout: float, **extra_env: str):
    return subprocess.run(
        guest_command(rootfs, argv),
        env=guest_env(**extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def ensure_rootfs() -> Path:
    """The cached arm64 root file system, made first if need be (minutes: a download of some
    100 MB and a second stage run under emulation)."""
    install_host_tools()
    target = cache_dir()
    if (target / ".complete").exists():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["debootstrap", "--arch=arm64", "--foreign", "--variant=minbase",
         f"--include={PACKAGES}", "bookworm", str(partial), MIRROR],
        check=True, capture_output=True, timeout=1800,
    )  # fmt: skip
    second = run_guest(
        partial,
        ["/bin/sh", "/debootstrap/debootstrap", "--second-stage"],
        timeout=3600,
        DEBOOTSTRAP_DIR="/debootstrap",
    )
    if second.returncode != 0:
        raise RuntimeError(f"debootstrap --second-stage failed:\n{second.stdout[-3000:]}")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    (target / ".complete").touch()
    return target


def copy_rootfs(source: Path, destination: Path) -> Path:
    """A throwaway copy (cp -a keeps owners, modes and links; hard links would share files)."""
    subprocess.run(["cp", "-a", str(source), str(destination)], check=True)
    return destination
