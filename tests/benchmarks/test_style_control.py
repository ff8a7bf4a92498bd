"""benchmarks/style_control.py: the judge never sees O: or T:, and tells two plain styles apart."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import style_control  # noqa: E402

JIG = "X:1\nO:irish\nT:A Jig\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA:|\n"
SONG = "X:1\nO:chinese\nT:A Song\nM:2/4\nL:1/16\nK:Am\nA4 c4|e8|d4 c2A2|A8|]\n"


def test_features_ignore_style_and_title_lines():
    features = style_control.features(JIG)
    assert "M=6/8" in features and "L=1/8" in features and "mode=maj" in features
    assert not any("irish" in f or "Jig" in f for f in features)
    assert style_control.features(JIG.replace("O:irish", "O:chinese")) == features


def test_the_judge_tells_two_plain_styles_apart():
    judge = style_control.NaiveBayes([(style_control.features(JIG), "irish"),
                                      (style_control.features(SONG), "chinese")])
    other_jig = JIG.replace("GAG GAB", "BAG GAB").replace("K:G", "K:D")
    other_song = SONG.replace("e8", "g8")
    assert judge.classify(style_control.features(other_jig)) == "irish"
    assert judge.classify(style_control.features(other_song)) == "chinese"
