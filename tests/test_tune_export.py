"""app.tune_export: the window's export options, and files written through the worker process."""

import pytest

from app.music.audio import RenderOptions
from app.music.errors import MusicError
from app.tune_export import export_tune_file, render_options

TUNE = "X:1\nT:Little Tune\nM:3/4\nL:1/8\nK:G\nG2 B>c d2|e/f/g d2 B2|]\n"


def test_window_options_become_render_options():
    assert render_options({}) == RenderOptions()
    assert render_options({"instrument": "", "tempo": 0, "transpose": None}) == RenderOptions()
    assert render_options({"instrument": "flute", "tempo": 96.0, "transpose": "-2",
                           "soundfont": "gm.sf2"}) == \
        RenderOptions(instrument="flute", tempo_qpm=96.0, transpose=-2, soundfont="gm.sf2")


def test_an_abc_and_a_midi_file_are_written_with_provenance(tmp_path):
    from app.music.midi_file import read_midi

    abc = export_tune_file(TUNE, str(tmp_path / "t.abc"), {"seed": 7}, {})
    assert abc == str(tmp_path / "t.abc")
    text = (tmp_path / "t.abc").read_text()
    assert "seed" in text and "7" in text and "G2 B>c d2|" in text
    midi = export_tune_file(TUNE, str(tmp_path / "t.mid"), {"seed": 7}, {"transpose": 2})
    tune = read_midi(midi)
    assert tune.provenance["seed"] == "7"
    assert min(n.pitch for n in tune.melody()) == 69       # G4 up a tone


def test_an_unknown_format_names_the_file(tmp_path):
    with pytest.raises(MusicError, match="cannot export to .doc"):
        export_tune_file(TUNE, str(tmp_path / "t.doc"), None, {})


@pytest.mark.parametrize("title, name", [
    ("The Kesh", "The Kesh.abc"), ('Reel: "Bóthar" <2>', "Reel Bóthar 2.abc"),
    ("a/b\\c", "a-b-c.abc"), (" ..CON ", "CON_.abc"), ("", "tune.abc"), ("\x00\x07", "tune.abc"),
    ("x" * 300, "x" * 120 + ".abc"), ("é" * 100, "é" * 60 + ".abc")])
def test_file_names_from_titles_are_safe_everywhere(title, name):
    from app.tune_export import export_file_name

    assert export_file_name(title, "abc") == name
