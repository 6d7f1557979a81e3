import textwrap

from aiohttp import web

from soniquebay import config
from soniquebay.plugins import audio_extensions, get_plugin_manager, get_plugins
from soniquebay.plugins.routes import changes_catalog
from soniquebay.web.access import CATALOG, READ, WRITE
from soniquebay.web.routes import plugin_route


def test_builtin_tag_reader_is_loaded_and_says_where_it_came_from():
    pm = get_plugin_manager(config.load(environ={}))
    info = {p.name: p for p in get_plugins(pm)}
    assert info["tags"].source == "builtin"
    assert "read_tags" in info["tags"].hooks
    assert ".mp3" in audio_extensions(pm) and ".flac" in audio_extensions(pm)


def test_a_dropped_in_file_is_loaded(tmp_path):
    (tmp_path / "shouty.py").write_text(
        textwrap.dedent("""
        from soniquebay import hookimpl

        @hookimpl
        def audio_extensions():
            return [".shout"]
    """)
    )
    pm = get_plugin_manager(config.load(environ={"SONIQUEBAY_PLUGINS_DIR": str(tmp_path)}))
    assert ".shout" in audio_extensions(pm)
    assert {p.name: p.source for p in get_plugins(pm)}["shouty"].startswith("drop-in")


def test_broken_or_misspelt_plugins_are_recorded_not_fatal(tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')\n")
    (tmp_path / "typo.py").write_text(
        textwrap.dedent("""
        from soniquebay import hookimpl

        @hookimpl
        def read_tagz(path):
            return {}
    """)
    )
    (tmp_path / "wrongargs.py").write_text(
        textwrap.dedent("""
        from soniquebay import hookimpl

        @hookimpl
        def read_tags(filename):
            return {}
    """)
    )
    pm = get_plugin_manager(config.load(environ={"SONIQUEBAY_PLUGINS_DIR": str(tmp_path)}))
    failed = {e.name: e.error for e in pm.load_errors}
    assert set(failed) == {"broken", "typo", "wrongargs"}
    assert "boom" in failed["broken"]
    assert "read_tagz" in failed["typo"]
    assert {p.name for p in get_plugins(pm)} >= {"tags"}
    assert not {"broken", "typo", "wrongargs"} & {p.name for p in get_plugins(pm)}


def test_a_plugin_can_be_switched_off_and_contrib_on(tmp_path):
    settings = config.load(
        environ={
            "SONIQUEBAY_PLUGIN_TAGS_ENABLED": "false",
            "SONIQUEBAY_PLUGIN_EXAMPLE_LOGGER_ENABLED": "true",
        }
    )
    names = {p.name: p.source for p in get_plugins(get_plugin_manager(settings))}
    assert "tags" not in names
    assert names["example_logger"] == "contrib"


def test_entry_point_plugins_are_loaded(tmp_path, monkeypatch):
    (tmp_path / "sb_extra.py").write_text(
        "from soniquebay import hookimpl\n\n@hookimpl\ndef audio_extensions():\n    return ['.xtra']\n"
    )
    dist = tmp_path / "sb_extra-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sb-extra\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[soniquebay]\nextra = sb_extra\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = get_plugin_manager(config.load(environ={}))
    assert ".xtra" in audio_extensions(pm)
    assert {p.name: p.source for p in get_plugins(pm)}["extra"] == "entry point sb_extra"


def test_a_drop_in_others_could_write_is_refused_with_the_reason(tmp_path):
    folder = tmp_path / "plugins.d"
    folder.mkdir(mode=0o755)
    code = (
        "from soniquebay import hookimpl\n\n@hookimpl\ndef audio_extensions():\n    return ['.w']\n"
    )
    (folder / "writable.py").write_text(code)
    (folder / "writable.py").chmod(0o666)
    (folder / "fine.py").write_text(code.replace(".w", ".ok"))
    pm = get_plugin_manager(config.load(environ={"SONIQUEBAY_PLUGINS_DIR": str(folder)}))
    failed = {e.name: e.error for e in pm.load_errors}
    assert "writable" in failed and "chmod go-w" in failed["writable"]
    assert audio_extensions(pm) >= {".ok"} and ".w" not in audio_extensions(pm)


def test_a_drop_in_owned_by_someone_else_is_refused(tmp_path):
    import os

    import pytest

    # chown needs root (CI runs as root); elsewhere this one case cannot be set up.
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    folder = tmp_path / "plugins.d"
    folder.mkdir(mode=0o755)
    path = folder / "theirs.py"
    path.write_text("from soniquebay import hookimpl\n")
    os.chown(path, 65534, 65534)  # nobody
    pm = get_plugin_manager(config.load(environ={"SONIQUEBAY_PLUGINS_DIR": str(folder)}))
    [refused] = pm.load_errors
    assert refused.name == "theirs" and "uid 65534" in refused.error


def test_plugins_check_names_the_line_of_a_misspelt_hook_and_a_wrong_argument(tmp_path):
    from soniquebay.plugins.check import check_file

    path = tmp_path / "sloppy.py"
    path.write_text(
        textwrap.dedent("""\
        from soniquebay import hookimpl


        @hookimpl
        def read_tagz(path):
            return None


        @hookimpl
        def on_event(ctx, evnt):
            pass
        """)
    )
    problems = check_file(path)
    assert problems[0].startswith(f"{path}:4:")  # the function's first line: its decorator
    assert "no hook called 'read_tagz' (did you mean read_tags?)" in problems[0]
    assert problems[1].startswith(f"{path}:9:")
    assert "'evnt'" in problems[1] and "ctx, event" in problems[1]
    good = tmp_path / "good.py"
    good.write_text(
        "from soniquebay import hookimpl\n\n@hookimpl\ndef on_event(event):\n    pass\n"
    )
    assert check_file(good) == []
    broken = tmp_path / "broken.py"
    broken.write_text("import nonexistent_module_xyz\n")
    assert check_file(broken)[0].startswith(f"{broken}:1: cannot be imported: ModuleNotFoundError")


def test_the_plugins_command_lists_and_checks(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "plugins.d"
    folder.mkdir()
    (folder / "typo.py").write_text(
        "from soniquebay import hookimpl\n\n@hookimpl\ndef startupp():\n    pass\n"
    )
    run = [sys.executable, "-m", "soniquebay", "plugins"]
    env = {"SONIQUEBAY_CONFIG": "", "PATH": "/usr/bin:/bin"}
    checked = subprocess.run(
        [*run, "check", str(folder / "typo.py")], capture_output=True, text=True, env=env
    )
    assert checked.returncode == 1 and "did you mean startup?" in checked.stdout
    listed = subprocess.run(
        [*run, "list", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env={**env, "SONIQUEBAY_PLUGINS_DIR": str(folder)},
    )
    assert listed.returncode == 0, listed.stderr
    assert "tags  [builtin]  enabled" in listed.stdout
    assert "lyrics  [contrib]  disabled" in listed.stdout
    assert "typo  [drop-in]  FAILED" in listed.stdout


def test_a_bad_plugin_option_stops_start_up_naming_the_plugin_and_the_option(tmp_path):
    import pytest

    from soniquebay.errors import ConfigError
    from soniquebay.plugins import Plugins

    (tmp_path / "counter.py").write_text(
        "from soniquebay import Option, hookimpl\n\n"
        "@hookimpl\ndef plugin_options():\n"
        "    return [Option('every', int, 10), Option('mode', str, 'a', choices=('a', 'b'))]\n"
    )
    conf = tmp_path / "soniquebay.conf"

    def load(section: str):
        conf.write_text(f"[soniquebay]\nplugins_dir = {tmp_path}\n[plugin.counter]\n{section}\n")
        return Plugins(config.load(conf, environ={}), "web")

    assert load("every = 25").options["counter"] == {"every": 25, "mode": "a"}
    for bad, key in (("every = often", "every"), ("mode = c", "mode"), ("speed = 3", "speed")):
        with pytest.raises(ConfigError) as info:
            load(bad)
        assert (info.value.section, info.value.key) == ("plugin.counter", key)


def test_every_hook_call_is_traced_when_asked(tmp_path):
    """``SONIQUEBAY_TRACE_PLUGINS=1``: each call logged with its plugin, hook, result, time."""
    import os
    import subprocess
    import sys

    (tmp_path / "traced.py").write_text(
        textwrap.dedent("""
        from soniquebay import hookimpl

        @hookimpl
        def startup(ctx, process):
            return None
    """)
    )
    script = textwrap.dedent("""
        import logging
        from soniquebay import config
        from soniquebay.plugins import load_plugins
        logging.basicConfig(level=logging.INFO, format="{name}: {message}", style="{")
        load_plugins(config.load(environ={"SONIQUEBAY_PLUGINS_DIR": FOLDER}), "cli")
    """).replace("FOLDER", repr(str(tmp_path)))
    env = {**os.environ, "SONIQUEBAY_CONFIG": ""}
    for traced in ("1", ""):
        env["SONIQUEBAY_TRACE_PLUGINS"] = traced
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stderr
        line = "soniquebay.plugins.trace: cli traced.startup(ctx, process) -> None in"
        assert (line in out) == bool(traced), out


def test_a_plugin_route_that_changes_the_catalogue_needs_catalogue_access():
    async def handler(request):
        return web.Response()

    marked = changes_catalog(lambda request: handler(request))
    path = "/api/plugins/p/x"
    assert plugin_route(web.get(path, handler)).scope == READ
    assert plugin_route(web.post(path, handler)).scope == WRITE  # a listener's own things
    assert plugin_route(web.post(path, marked)).scope == CATALOG
    assert plugin_route(web.get(path, marked)).scope == READ  # reading stays reading
