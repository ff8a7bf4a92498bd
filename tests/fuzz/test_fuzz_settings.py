"""Fuzzing the settings file: whatever the INI file holds, every key reads as its own type.

A corrupt or hostile file (binary junk, values of the wrong type, a theme that does not exist)
gives the defaults for what cannot be used, with a warning in the log; it never raises.
"""

import logging

from hypothesis import given, strategies as st

from app import settings as S
from app.settings import Settings
from tests.fuzz.raw_library import SETTINGS_SEED, mutate_bytes
from tests.fuzz.raw_midi import fuzz_settings

KEYS = [key for key in vars(S).values() if isinstance(key, S.Key)]


def _read_all(store: Settings) -> dict:
    values = {}
    for key in KEYS:
        value = store.get(key)
        assert isinstance(value, type(key.default)), (key.name, value)
        if key.choices:
            assert value in key.choices
        if key.type is list:
            assert all(isinstance(item, str) for item in value)
        values[key.name] = value
    assert isinstance(store.state("library"), dict)
    return values


def test_hostile_values_give_defaults_with_a_warning(tmp_path, caplog):
    path = tmp_path / "s.ini"
    path.write_bytes(b"[ui]\ntheme=evil\n[train]\nthreads=lots\n[files]\nrecent=@Variant(\\0\\0)\n"
                     b"last_folder=a, b\n[window]\ngeometry=1, 2\n[state]\nlibrary=[1\n")
    with caplog.at_level(logging.WARNING):
        values = _read_all(Settings(path))
    assert values["ui/theme"] == "system" and values["train/threads"] == 0
    assert values["files/last_folder"] == ""
    assert "ui/theme" in caplog.text and "train/threads" in caplog.text


def test_binary_junk_reads_as_defaults(tmp_path):
    path = tmp_path / "s.ini"
    path.write_bytes(bytes(range(256)) * 8)
    assert _read_all(Settings(path))["ui/theme"] == "system"


def test_a_folder_as_the_settings_file_reads_as_defaults(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        assert _read_all(Settings(tmp_path))["ui/theme"] == "system"


@fuzz_settings(300)
@given(data=st.data())
def test_fuzz_settings_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("settings") / "s.ini"
    seed = data.draw(st.one_of(st.just(SETTINGS_SEED), st.binary(max_size=300)))
    path.write_bytes(mutate_bytes(seed, lambda lo, hi: data.draw(st.integers(lo, hi))))
    _read_all(Settings(path))
