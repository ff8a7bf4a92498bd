"""`train` end to end on a small ABC file: the model and checkpoint written, fine-tuning, a
separate validation set, the default file name, and bad input (one line, exit 2)."""

import json

import pytest

from app.cli import main
from tests.cli.conftest import bad_input_exits_2


def _info(path, capsys) -> dict:
    capsys.readouterr()
    assert main(["model-info", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_train_writes_a_model_and_a_checkpoint(trained, capsys):
    assert trained.exists()
    assert (trained.parent / "tiny.ckpt.safetensors").exists()
    meta = _info(trained, capsys)
    assert meta["training"]["steps"] == 60 and meta["training"]["tune_count"] > 40
    assert meta["model_config"]["hidden_size"] == 32 and meta["resume"] is False
    assert meta["train_config"]["checkpoint_interval"] == 30


def test_fine_tune_from_a_model(trained, book, tmp_path, capsys):
    extra = tmp_path / "mine.abc"
    extra.write_text("X:1\nT:Mine\nM:3/4\nL:1/8\nK:F\n\"F\"FAc fcA|\"C\"GBd ecG|\n")
    out = tmp_path / "tuned.safetensors"
    assert main(["train", "--data", str(extra), str(book), "--from", str(trained),
                 "--steps", "3", "--preset", "tiny", "--out", str(out), "--quiet"]) == 0
    meta, old = _info(out, capsys), _info(trained, capsys)
    assert meta["vocab"][:len(old["vocab"])] == old["vocab"] and '"' in meta["vocab"]


def test_train_with_separate_validation_data_stores_tune_lengths(book, tmp_path, capsys):
    valid = tmp_path / "valid.abc"
    valid.write_text("X:1\nM:4/4\nL:1/8\nK:D\n|:ABcd efga|bagf edcB:|\n\n"
                     "X:2\nM:4/4\nL:1/8\nK:G\n|:GABc dedB|dBAG FDD2:|\n")
    out = tmp_path / "v.safetensors"
    assert main(["train", "--data", str(book), "--valid-data", str(valid), "--preset", "tiny",
                 "--steps", "4", "--eval-every", "2", "--weight-decay", "0.2", "--out", str(out),
                 "--quiet"]) == 0
    meta = _info(out, capsys)
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


def test_without_out_the_model_goes_to_the_user_folder(book, tmp_path, monkeypatch, capsys):
    import model.paths as paths

    monkeypatch.setattr(paths, "user_models_dir", lambda: tmp_path / "models")
    assert main(["train", "--data", str(book), "--preset", "tiny", "--steps", "2",
                 "--quiet"]) == 0
    written = [p.name for p in (tmp_path / "models").iterdir()]
    assert len(written) == 1 and written[0].startswith("book-tiny-")
    assert f"saved {tmp_path / 'models' / written[0]}: 2 steps" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--preset", "huge"], "unknown preset"),
    (["--device", "cuda"], "CUDA"),
    (["--valid-fraction", "1.5"], "--valid-fraction must be in [0, 1)"),
    (["--lr", "-1"], "learning_rate must be between"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, book, tmp_path, capsys):
    if "cuda" in argv:
        pytest.importorskip("torch")
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    argv = ["train", "--data", str(book), "--out", str(tmp_path / "m.safetensors"), *argv]
    assert message in bad_input_exits_2(argv, capsys, tmp_path)


def test_too_little_data_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "short.abc").write_text("X:1\nK:D\nAB|\n")
    argv = ["train", "--data", str(tmp_path / "short.abc"), "--preset", "tiny",
            "--out", str(tmp_path / "m.safetensors")]
    assert "fewer than one training window" in bad_input_exits_2(argv, capsys, tmp_path)


def test_transposed_copies_and_text_options(book, trained, tmp_path, capsys):
    out = tmp_path / "moved.safetensors"
    assert main(["train", "--data", str(book), "--preset", "tiny", "--steps", "2",
                 "--valid-fraction", "0", "--transpose", "2", "--no-titles", "--out", str(out),
                 "--quiet"]) == 0
    assert "60 tunes and 120 transposed copies" in capsys.readouterr().err
    training = _info(out, capsys)["training"]
    assert training["tune_count"] == 60 and training["transpose"] == 2
    assert training["titles"] is False and "title_digests" not in training
    assert training["text"] == {"titles": False, "styles": True, "annotations": False,
                                "numbers": False, "headers": False}
    plain = tmp_path / "plain.safetensors"
    assert main(["train", "--data", str(book), "--preset", "tiny", "--steps", "2",
                 "--valid-fraction", "0", "--no-titles", "--out", str(plain), "--quiet"]) == 0
    assert _info(out, capsys)["training"]["train_chars"] > \
        2.9 * _info(plain, capsys)["training"]["train_chars"]
    assert _info(trained, capsys)["training"]["titles"] is True      # the default


def test_keep_numbers_is_recorded_and_scored_the_same_way(book, tmp_path, capsys):
    out = tmp_path / "numbered.safetensors"
    assert main(["train", "--data", str(book), "--preset", "tiny", "--steps", "2",
                 "--keep-numbers", "--keep-annotations", "--keep-headers", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    text = _info(out, capsys)["training"]["text"]
    assert text["numbers"] is True and text["annotations"] is True and text["headers"] is True
    from app.evaluation import _options_of
    from model.checkpoint import load_model

    options = _options_of(load_model(out).training)
    assert options.numbers is True and options.headers is True
