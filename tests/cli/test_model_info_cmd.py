"""`model-info`: a model file's metadata as JSON and as a summary, without loading torch."""

import json

from app.cli import main
from tests.cli.conftest import bad_input_exits_2


def test_model_info_as_json_and_as_text(trained, capsys):
    assert main(["model-info", str(trained), "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["model_config"]["cell"] == "lstm" and meta["resume"] is False
    assert main(["model-info", str(trained)]) == 0
    out = capsys.readouterr().out
    assert "lstm 1x32" in out and f"vocabulary: {len(meta['vocab'])} characters" in out
    assert "steps: 60" in out
    checkpoint = trained.parent / "tiny.ckpt.safetensors"
    assert main(["model-info", str(checkpoint)]) == 0
    assert "resumable checkpoint" in capsys.readouterr().out


def test_a_file_that_is_not_a_model(book, tmp_path, capsys):
    assert "not a Ceol model file" in bad_input_exits_2(["model-info", str(book)], capsys,
                                                        tmp_path)
