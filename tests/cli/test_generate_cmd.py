"""`generate` with the model the `train` command wrote: ABC on stdout, files, JSON, the default
model, and bad input (one line, exit 2)."""

import json

import pytest

from app.cli import main
from tests.cli.conftest import bad_input_exits_2


def test_generate_prints_and_writes_tunes(trained, tmp_path, capsys):
    assert main(["generate", "--model", str(trained), "--count", "3", "--seed", "5",
                 "--rhythm", "jig", "--key", "G", "--max-chars", "300"]) == 0
    out = capsys.readouterr().out
    assert out.count("R:jig\nM:6/8\nL:1/8\nK:G\n") == 3
    assert out.startswith("X:1\n") and "\nX:2\n" in out and "\nX:3\n" in out
    folder = tmp_path / "tunes"
    assert main(["generate", "--model", str(trained), "--count", "2", "--seed", "5",
                 "--out", str(folder)]) == 0
    files = sorted(folder.glob("*.abc"))
    assert [f.name for f in files] == ["tune-5-01.abc", "tune-5-02.abc"]
    assert all(f.read_text().startswith("X:") for f in files)
    capsys.readouterr()
    assert main(["generate", "--model", str(trained), "--seed", "1", "--json",
                 "--max-chars", "50"]) == 0
    result = json.loads(capsys.readouterr().out)[0]
    assert result["settings"]["seed"] == 1
    assert len(result["probabilities"]) == len(result["generated"]) > 0
    assert result["text"].startswith(result["prime"])


def test_without_model_the_newest_user_model_is_used(trained, tmp_path, monkeypatch, capsys):
    import shutil

    import model.paths as paths

    monkeypatch.setattr(paths, "BUNDLED_MODEL", tmp_path / "absent.safetensors")
    monkeypatch.setattr(paths, "user_models_dir", lambda: tmp_path / "models")
    assert main(["generate", "--seed", "1", "--max-chars", "20"]) == 2
    assert "no model given and none found" in capsys.readouterr().err
    (tmp_path / "models").mkdir()
    shutil.copy(trained, tmp_path / "models" / "mine.safetensors")
    assert main(["generate", "--seed", "1", "--max-chars", "20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)[0]
    assert result["settings"]["model"].endswith("mine.safetensors")


@pytest.mark.parametrize("argv, message", [
    (["--model", "{book}"], "not a Ceol model file"),
    (["--model", "{model}", "--temperature", "0"], "temperature"),
    (["--model", "{model}", "--top-p", "1.5"], "top-p"),
    (["--model", "{model}", "--out", "{book}"], "exists and is not a folder"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, book, trained, tmp_path, capsys):
    argv = ["generate"] + [a.format(book=book, model=trained) for a in argv]
    assert message in bad_input_exits_2(argv, capsys, tmp_path)


def test_files_are_named_after_their_titles(trained, tmp_path, capsys):
    folder = tmp_path / "named"
    assert main(["generate", "--model", str(trained), "--count", "2", "--seed", "4",
                 "--title", 'Reel: "The Kesh"/2', "--max-chars", "100", "--out",
                 str(folder)]) == 0
    names = sorted(f.name for f in folder.glob("*.abc"))
    assert names == ["Reel The Kesh -2-2.abc", "Reel The Kesh -2.abc"]
    assert all('T:Reel: "The Kesh"/2' in f.read_text() for f in folder.glob("*.abc"))


def test_an_unknown_style_is_one_line(trained, tmp_path, capsys):
    err = bad_input_exits_2(["generate", "--model", str(trained), "--style", "martian"],
                            capsys, tmp_path)
    assert "unknown style 'martian'" in err and "irish" in err


def test_keep_annotations_flag_reaches_the_controls(tmp_path):
    from app.cli import build_parser
    from app.cli.generate_cmd import generation_controls

    parser = build_parser()
    assert generation_controls(parser.parse_args(["generate"])).keep_annotations is False
    args = parser.parse_args(["generate", "--keep-annotations"])
    assert generation_controls(args).keep_annotations is True
