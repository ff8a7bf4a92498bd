"""The model commands end to end on a small ABC file: train -> model-info -> generate -> evaluate,
and the bad-input paths (one line on stderr, exit 2, nothing written)."""

import json

import pytest

from app.cli import main

BODIES = ["|:ABcd efga|bagf edcB:|", "|:GABc dedB|dBAG FDD2:|", "|:d2fd Adfd|cdeg fdec:|",
          "|:FAAB AFED|FAAB d2dB:|", "|:e2ae faef|g2bg afge:|"]
KEYS = ["D", "G", "A", "Em", "Bm", "Ador"]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_model")
    tunes = [f"X:{i + 1}\nT:Tune {i}\nR:reel\nM:4/4\nL:1/8\nK:{KEYS[i % 6]}\n"
             f"{BODIES[i % 5]}\n{BODIES[(i * 3 + 1) % 5]}\n" for i in range(60)]
    path = folder / "book.abc"
    path.write_text("\n".join(tunes))
    return path


@pytest.fixture(scope="module")
def trained(book):
    out = book.parent / "tiny.safetensors"
    assert main(["train", "--data", str(book), "--preset", "tiny", "--steps", "60",
                 "--out", str(out), "--quiet", "--checkpoint-every", "30"]) == 0
    return out


def test_train_writes_a_model_and_a_checkpoint(trained, capsys):
    assert trained.exists()
    assert (trained.parent / "tiny.ckpt.safetensors").exists()
    assert main(["model-info", str(trained), "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["training"]["steps"] == 60 and meta["training"]["tune_count"] > 40
    assert meta["model_config"]["hidden_size"] == 32 and meta["resume"] is False
    assert main(["model-info", str(trained)]) == 0
    assert "lstm 1x32" in capsys.readouterr().out


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


def test_evaluate_scores_raw_files(trained, book, capsys):
    assert main(["evaluate", "--model", str(trained), "--data", str(book), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {"bits_per_char", "scored_chars", "unknown_chars_skipped"}
    assert 0 < figures["bits_per_char"] < 6 and figures["scored_chars"] > 1000


def test_fine_tune_from_a_model(trained, book, tmp_path, capsys):
    extra = tmp_path / "mine.abc"
    extra.write_text("X:1\nT:Mine\nM:3/4\nL:1/8\nK:F\n\"F\"FAc fcA|\"C\"GBd ecG|\n")
    out = tmp_path / "tuned.safetensors"
    capsys.readouterr()
    assert main(["train", "--data", str(extra), str(book), "--from", str(trained),
                 "--steps", "3", "--preset", "tiny", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["model-info", str(out), "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)
    old = json.loads(_info(trained, capsys))
    assert meta["vocab"][:len(old["vocab"])] == old["vocab"] and '"' in meta["vocab"]


def _info(path, capsys):
    main(["model-info", str(path), "--json"])
    return capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "--data", "{book}", "--preset", "huge", "--out", "{tmp}/m.safetensors"],
     "unknown preset"),
    (["train", "--data", "{book}", "--device", "cuda", "--out", "{tmp}/m.safetensors"],
     "CUDA"),
    (["train", "--data", "{tmp}/short.abc", "--preset", "tiny", "--out", "{tmp}/m.safetensors"],
     "fewer than one training window"),
    (["generate", "--model", "{book}"], "not a Ceol model file"),
    (["generate", "--model", "{model}", "--temperature", "0"], "temperature"),
    (["generate", "--model", "{model}", "--top-p", "1.5"], "top-p"),
    (["evaluate", "--model", "{tmp}/none.safetensors", "--data", "{book}"], "no such model"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, book, trained, tmp_path, capsys):
    (tmp_path / "short.abc").write_text("X:1\nK:D\nAB|\n")
    argv = [a.format(book=book, tmp=tmp_path, model=trained) for a in argv]
    if "cuda" in argv:
        pytest.importorskip("torch")
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


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


def test_train_with_separate_validation_data_stores_tune_lengths(book, tmp_path, capsys):
    valid = tmp_path / "valid.abc"
    valid.write_text("X:1\nM:4/4\nL:1/8\nK:D\n|:ABcd efga|bagf edcB:|\n\n"
                     "X:2\nM:4/4\nL:1/8\nK:G\n|:GABc dedB|dBAG FDD2:|\n")
    out = tmp_path / "v.safetensors"
    assert main(["train", "--data", str(book), "--valid-data", str(valid), "--preset", "tiny",
                 "--steps", "4", "--eval-every", "2", "--weight-decay", "0.2", "--out", str(out),
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["model-info", str(out), "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["train_config"]["weight_decay"] == 0.2
    training = meta["training"]
    assert training["tune_count"] == 60                  # all of --data is trained on
    assert training["valid_chars"] == len(valid.read_text())   # the two tunes, as written
    assert [h["step"] for h in training["history"] if h.get("val_loss")] == [2, 4]
    assert training["tune_lengths"] == {"4/4": {"4": 60}}
    empty = tmp_path / "empty.abc"
    empty.write_text("no tunes here\n")
    assert main(["train", "--data", str(book), "--valid-data", str(empty), "--preset", "tiny",
                 "--steps", "2", "--out", str(tmp_path / "x.safetensors"), "--quiet"]) == 2
    assert "empty.abc: no tune found" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()
