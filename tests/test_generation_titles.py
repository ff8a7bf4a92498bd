"""Titles and styles in generation: the model's own title (sampled apart when the prime holds
header fields), its provenance note, the style line in the prime, and old models falling back."""

from dataclasses import replace

import pytest

from app.generation import GenerationControls, generate_tunes
from app.generation_titles import header_title, title_note, with_title
from app.music.normalize import title_digest
from app.music.tunebook import parse_tune_book

JIG = "|:GAG GAB|ABA ABd|edd gdd|edB dBA:|"
WALTZ = "|:A2 cB A2|e2 dc B2|A2 cB AG|E6:|"


def _book() -> str:
    tunes = []
    for i in range(48):
        origin, title, meter, key, body = (("Irland", "Tune", "6/8", "G", JIG) if i % 2 else
                                           ("Deutschland", "Lied", "3/4", "Am", WALTZ))
        tunes.append(f"X:{i}\nT:{title} {i % 6}\nO:{origin}\nM:{meter}\nL:1/8\nK:{key}\n"
                     f"{body}\n{body}\n")
    return "\n".join(tunes)


@pytest.fixture(scope="module")
def styled(tmp_path_factory):
    """A tiny model trained on the training text with titles and styles (O:irish/O:german)."""
    from model.checkpoint import load_model
    from model.config import TINY
    from model.train import train
    from app.training_data import prepare_training_data

    data = prepare_training_data(parse_tune_book(_book()).tunes, "styled", valid_fraction=0.0)
    path = tmp_path_factory.mktemp("titles") / "styled.safetensors"
    train(replace(TINY.train, steps=400, seq_len=64, out_path=str(path), eval_interval=400),
          data.for_model(), model_config=replace(TINY.model, hidden_size=64))
    return load_model(path)


def test_the_model_file_knows_its_styles_and_titles(styled):
    assert styled.training["titles"] is True
    assert styled.training["styles"] == {"german": 24, "irish": 24}
    assert title_digest("Lied 4") in styled.training["title_digests"]


def test_with_header_controls_each_tune_gets_a_sampled_title(styled):
    tunes = generate_tunes(styled, GenerationControls(key="G", meter="6/8", count=6, seed=3,
                                                      max_chars=200, attempts=1))
    titled = [t for t in tunes if header_title(t.text)]
    assert len(titled) >= 4                        # the model learned "T:Tune n" / "T:Lied n"
    for tune in titled:
        head = tune.text.split("K:")[0]
        assert head.startswith("X:1\nT:") and "M:6/8" in head
        assert tune.settings["title_note"].startswith("the model's own")
    copied = [t for t in titled if header_title(t.text) in {f"{w} {n}" for w in ("Tune", "Lied")
                                                            for n in range(6)}]
    assert all("training tune" in t.settings["title_note"] for t in copied)


def test_an_asked_title_is_kept_and_gets_no_note(styled):
    tune = generate_tunes(styled, GenerationControls(title="My Own", key="G", seed=1,
                                                     max_chars=100, attempts=1))[0]
    assert header_title(tune.text) == "My Own" and "title_note" not in tune.settings


def test_the_style_goes_into_the_prime(styled):
    tune = generate_tunes(styled, GenerationControls(style="German", key="Am", seed=2,
                                                     max_chars=120, attempts=1))[0]
    assert tune.prime.startswith("X:1\nO:german\n")
    assert tune.settings["header_O"] == "german"
    with pytest.raises(ValueError, match="unknown style"):
        generate_tunes(styled, GenerationControls(style="martian"))
    unseen = generate_tunes(styled, GenerationControls(style="scottish", key="G", seed=2,
                                                       max_chars=80, attempts=1))[0]
    assert any("learned no scottish tunes" in w and "irish" in w for w in unseen.warnings)
    assert not any("learned no" in w for w in tune.warnings)


def test_a_model_without_titles_or_styles_falls_back(styled, tmp_path):
    from model.checkpoint import load_model
    from model.config import TINY
    from model.train import train

    text = "\n".join(f"X:1\nM:6/8\nL:1/8\nK:G\n{JIG}\n" for _ in range(40))
    path = tmp_path / "old.safetensors"
    train(replace(TINY.train, steps=20, seq_len=32, out_path=str(path)), (text, ""))
    old = load_model(path)
    tune = generate_tunes(old, GenerationControls(style="irish", key="G", seed=1,
                                                  max_chars=80, attempts=1))[0]
    assert "O:" not in tune.prime and "T:" not in tune.text.split("K:")[0]
    assert "title_note" not in tune.settings
    assert any("without style lines" in w for w in tune.warnings)


def test_with_title_goes_after_x_and_o_and_never_twice():
    assert with_title("X:1\nO:irish\nM:6/8\nK:G\nGAG|\n", "New") == \
        "X:1\nO:irish\nT:New\nM:6/8\nK:G\nGAG|\n"
    assert with_title("X:1\nT:Old\nK:G\nG|\n", "New") == "X:1\nT:Old\nK:G\nG|\n"
    assert with_title("X:1\nK:G\nT:body title\n", "New") == "X:1\nT:New\nK:G\nT:body title\n"
    assert with_title("X:1\nK:G\n", "") == "X:1\nK:G\n"


def test_title_note_reads_digests_on_their_boundaries():
    digests = "".join(sorted([title_digest("The Kesh"), title_digest("Cooley's")]))
    assert "training tune" in title_note("kesh", digests)
    assert title_note("Brand New Reel", digests) == "the model's own"
    shifted = "x" + title_digest("Brand New Reel") + "yyyyyyy"     # across a boundary only
    assert title_note("Brand New Reel", shifted) == "the model's own"
    assert title_note("", digests) == ""
