"""The root-as-package layout: every folder with an __init__.py ships, and nothing else."""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_packages_list_matches_the_folders_holding_init_files():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    declared = {p.strip() for p in parser["options"]["packages"].split() if p.strip()}
    found = {"soniquebay"}
    for init in ROOT.rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT)
        if rel.parts and rel.parts[0] in (".venv", "build", "debian", "tests"):
            continue
        if rel.parts:
            found.add("soniquebay." + ".".join(rel.parts))
    assert declared == found


def test_no_test_package_and_no_root_conftest():
    assert not (ROOT / "tests" / "__init__.py").exists()
    assert not (ROOT / "conftest.py").exists()
