from pathlib import Path

import pytest

from soniquebay import config
from soniquebay.errors import ConfigError


def test_defaults_work_without_any_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = config.load(environ={})
    assert settings.port == 8001
    assert settings.chunk_size == 500
    assert settings.library == (tmp_path / "music",)
    assert settings.data_dir == tmp_path / "data"
    assert settings.effective_redis_url == f"unix://{tmp_path / 'data' / 'redis.sock'}"
    assert settings.effective_api_url == "http://127.0.0.1:8001"


def test_file_then_environment_then_arguments(tmp_path):
    conf = tmp_path / "soniquebay.conf"
    conf.write_text(
        "[soniquebay]\nport = 9000\nchunk_size = 100\nlibrary = /a:/b\n[plugin.tags]\nenabled = false\n"
    )
    settings = config.load(conf, environ={"SONIQUEBAY_CHUNK_SIZE": "200"})
    assert (settings.port, settings.chunk_size) == (9000, 200)
    assert settings.library == (Path("/a"), Path("/b"))
    assert settings.plugin_enabled("tags", default=True) is False
    assert config.load(conf, environ={}, port=9100).port == 9100


def test_seed_variable_names_are_aliases():
    settings = config.load(
        environ={"CHUNK_SIZE": "250", "EMBEDDING_DIMENSION": "512", "SCAN_TIMEOUT": "60"}
    )
    assert (settings.chunk_size, settings.embedding_dimension, settings.job_timeout) == (
        250,
        512,
        60,
    )
    # Our own name wins over the seed's alias.
    assert (
        config.load(environ={"CHUNK_SIZE": "250", "SONIQUEBAY_CHUNK_SIZE": "300"}).chunk_size == 300
    )


@pytest.mark.parametrize(
    ("text", "section", "key"),
    [
        ("[soniquebay]\nport = eighty\n", "soniquebay", "port"),
        ("[soniquebay]\nchunk_size = -5\n", "soniquebay", "chunk_size"),
        ("[soniquebay]\ncolour = blue\n", "soniquebay", "colour"),
        ("[plugin.tags]\nenabled = maybe\n", "plugin.tags", "enabled"),
    ],
)
def test_a_bad_value_names_its_section_and_key(tmp_path, text, section, key):
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    with pytest.raises(ConfigError) as caught:
        config.load(conf, environ={}).plugin_enabled("tags", default=True)
    assert (caught.value.section, caught.value.key) == (section, key)
    assert key in str(caught.value)


def test_children_see_the_same_settings():
    settings = config.load(environ={"SONIQUEBAY_PORT": "8123", "SONIQUEBAY_LIBRARY": "/m1:/m2"})
    again = config.load(environ=settings.env())
    assert again == settings


def test_the_memory_profile_is_chosen_from_the_machine_unless_set():
    total = config.machine_memory()
    with open("/proc/meminfo") as meminfo:
        assert total == int(meminfo.readline().split()[1]) * 1024  # MemTotal, the first line
    auto = config.load(environ={})
    assert auto.memory == "auto" and auto.low_memory == (total < config.LOW_MEMORY_RAM)
    assert config.load(environ={"SONIQUEBAY_MEMORY": "low"}).low_memory
    assert not config.load(environ={"SONIQUEBAY_MEMORY": "standard"}).low_memory
    with pytest.raises(ConfigError) as caught:
        config.load(environ={"SONIQUEBAY_MEMORY": "tiny"})
    assert caught.value.key == "memory"
    assert config.load(environ={"SONIQUEBAY_RELEASE_IDLE_SECONDS": "30"}).release_idle_seconds == 30
    with pytest.raises(ConfigError) as caught:
        config.load(environ={"SONIQUEBAY_RELEASE_IDLE_SECONDS": "0"})
    assert caught.value.key == "release_idle_seconds"


def test_the_low_memory_profile_loads_the_analysis_backend_when_work_comes_on_a_shorter_span():
    from soniquebay.plugins.builtin.analysis_options import analysis_options

    low = analysis_options(config.load(environ={"SONIQUEBAY_MEMORY": "low"}))
    assert (low.preload, low.max_seconds) == (False, config.LOW_MEMORY_SPAN)
    standard = analysis_options(config.load(environ={"SONIQUEBAY_MEMORY": "standard"}))
    assert (standard.preload, standard.max_seconds) == (True, 600.0)
    chosen = config.Settings(
        memory="low", plugins={"analysis": {"preload": "true", "max_seconds": "900"}}
    )
    assert (analysis_options(chosen).preload, analysis_options(chosen).max_seconds) == (True, 900)


def test_music_folders_name_the_library_folders_and_travel_to_children(tmp_path):
    path = tmp_path / "soniquebay.conf"
    path.write_text("[music_folders]\nMusic = /srv/music\nKids Corner = /srv/kids\n")
    settings = config.load(path, environ={})
    assert settings.library == (Path("/srv/music"), Path("/srv/kids"))
    assert [(f.id, f.name, f.path) for f in settings.folders] == [
        (1, "Music", Path("/srv/music")),
        (2, "Kids Corner", Path("/srv/kids")),  # names as written, spaces and case kept
    ]
    child = config.load(None, environ={**settings.env(), "SONIQUEBAY_CONFIG": ""})
    assert child.folders == settings.folders
    # The same folders given again on the command line (as serve's children get them): fine.
    assert config.load(path, environ={}, library=settings.library).folders == settings.folders


def test_without_music_folders_each_folder_is_named_after_its_last_component():
    settings = config.load(None, environ={"SONIQUEBAY_LIBRARY": "/srv/music:/media/usb/Kids"})
    assert [(f.id, f.name) for f in settings.folders] == [(1, "music"), (2, "Kids")]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[music_folders]\nMusic = /a\nmusic = /b\n", "'music' .* already exists"),
        ("[music_folders]\nMusic =\n", "Name=/path"),
        (
            "[soniquebay]\nlibrary = /elsewhere\n[music_folders]\nMusic = /a\n",
            "set the folders once",
        ),
    ],
)
def test_music_folders_written_wrong_stop_start_up_with_the_reason(tmp_path, text, says):
    path = tmp_path / "soniquebay.conf"
    path.write_text(text)
    with pytest.raises(ConfigError, match=says):
        config.load(path, environ={})


def test_two_music_folders_of_one_name_are_refused_from_the_environment_too():
    with pytest.raises(ConfigError, match="same name"):
        config.load(None, environ={"SONIQUEBAY_MUSIC_FOLDERS": '"Music=/a" "music=/b"'})
