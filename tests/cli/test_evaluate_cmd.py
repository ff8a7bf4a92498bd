"""`evaluate`: bits per character of a file under the model `train` wrote; bad input."""

import json

from app.cli import main
from tests.cli.conftest import bad_input_exits_2


def test_evaluate_scores_raw_files(trained, book, capsys):
    assert main(["evaluate", "--model", str(trained), "--data", str(book), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {"bits_per_char", "scored_chars", "unknown_chars_skipped",
                            "bits_per_char_all", "chars_all"}
    assert 0 < figures["bits_per_char"] < 6 and figures["scored_chars"] > 1000
    assert main(["evaluate", "--model", str(trained), "--data", str(book)]) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"{figures['bits_per_char']:.4f} bits per character over "
                           f"{figures['scored_chars']:,} characters")


def test_bad_input_is_one_line_and_exit_2(book, tmp_path, capsys):
    argv = ["evaluate", "--model", str(tmp_path / "none.safetensors"), "--data", str(book)]
    assert "no such model" in bad_input_exits_2(argv, capsys, tmp_path)
    (tmp_path / "empty.txt").write_text("")
    argv = ["evaluate", "--model", str(book), "--data", str(tmp_path / "empty.txt")]
    assert "nothing to score" in bad_input_exits_2(argv, capsys, tmp_path)


def test_renumbered_files_cost_less_than_as_written(trained, tmp_path, capsys):
    numbered = tmp_path / "numbered.abc"
    numbered.write_text("\n".join(f"X:{900 + i}\nT:Tune {i}\nR:reel\nM:4/4\nL:1/8\nK:D\n"
                                   f"|:ABcd efga|bagf edcB:|\n" for i in range(20)))
    bits = {}
    for text in ("as-written", "renumbered"):
        assert main(["evaluate", "--model", str(trained), "--data", str(numbered), "--json",
                     "--text", text]) == 0
        figures = json.loads(capsys.readouterr().out)
        bits[text] = figures["bits_per_char"] * figures["scored_chars"]
    assert bits["renumbered"] < bits["as-written"]


def test_device_auto_scores_as_cpu_does_and_a_missing_gpu_is_one_line(trained, book, tmp_path,
                                                                      capsys, monkeypatch):
    """--device moves the model (the unknown-character pass too); on this CPU machine auto is
    the CPU, and cuda asked for where there is none is a one-line error, exit 2."""
    import torch

    figures = {}
    for device in ("cpu", "auto"):
        assert main(["evaluate", "--model", str(trained), "--data", str(book), "--json",
                     "--device", device]) == 0
        figures[device] = json.loads(capsys.readouterr().out)
    if not torch.cuda.is_available():
        assert figures["auto"] == figures["cpu"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    argv = ["evaluate", "--model", str(trained), "--data", str(book), "--device", "cuda"]
    assert "no CUDA GPU" in bad_input_exits_2(argv, capsys, tmp_path)
