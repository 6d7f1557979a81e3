import textwrap

from soniquebay import config
from soniquebay.plugins import audio_extensions, get_plugin_manager, get_plugins


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
