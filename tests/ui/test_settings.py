"""Settings: typed keys with defaults, component state, recent files, and the dialog."""

from PySide6.QtCore import QByteArray

from app import settings as S
from app.settings import Settings


def test_defaults_types_and_round_trip(tmp_path):
    settings = Settings(tmp_path / "s.ini")
    assert settings.get(S.TRAIN_THREADS) == 0 and settings.get(S.THEME) == "system"
    assert settings.get(S.RECENT_FILES) == [] and settings.get(S.HEATMAP) is False
    assert isinstance(settings.get(S.WINDOW_STATE), QByteArray)
    settings.set(S.TRAIN_THREADS, 2)
    settings.set(S.HEATMAP, True)
    settings.set_state("panel", {"zoom": 3, "name": "x"})
    settings.sync()
    again = Settings(tmp_path / "s.ini")
    assert again.get(S.TRAIN_THREADS) == 2 and again.get(S.HEATMAP) is True
    assert again.state("panel") == {"zoom": 3, "name": "x"}
    assert again.state("missing") == {}


def test_recent_files_are_unique_newest_first_and_capped(tmp_path):
    settings = Settings(tmp_path / "s.ini")
    for i in range(S.MAX_RECENT + 3):
        settings.add_recent(f"/tunes/{i}.abc")
    recent = settings.add_recent("/tunes/5.abc")
    assert recent[0] == "/tunes/5.abc" and len(recent) == S.MAX_RECENT
    assert len(set(recent)) == len(recent)


def test_dialog_applies_its_values(qtbot, tmp_path):
    from app.ui.settings_dialog import SettingsDialog

    settings = Settings(tmp_path / "s.ini")
    dialog = SettingsDialog(settings, [("tiny", "/models/tiny.safetensors")])
    qtbot.addWidget(dialog)
    dialog.soundfont.setText("/sf/FluidR3.sf2")
    dialog.threads.setValue(1)
    dialog.theme.setCurrentText("dark")
    dialog.default_model.setCurrentIndex(dialog.default_model.findData("/models/tiny.safetensors"))
    with qtbot.waitSignal(dialog.applied):
        dialog.accept()
    assert settings.get(S.SOUNDFONT) == "/sf/FluidR3.sf2"
    assert settings.get(S.TRAIN_THREADS) == 1 and settings.get(S.THEME) == "dark"
    assert settings.get(S.DEFAULT_MODEL) == "/models/tiny.safetensors"
    assert settings.get(S.AUDIO_DEVICE) == "" and settings.get(S.MIDI_PORT) == ""
    assert all(w.toolTip() for w in (dialog.soundfont, dialog.audio_device, dialog.midi_port,
                                     dialog.default_model, dialog.threads, dialog.theme))
