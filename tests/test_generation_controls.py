"""app.generation_controls and app.generation_records without a model: the window's options as
controls, and the probabilities spread over a whole tune."""

from app.generation_controls import GenerationControls, controls_from_options
from app.generation_records import probabilities_over


def test_window_options_become_controls():
    options = {"count": 2, "temperature": 0.7, "top_k": 5, "top_p": 0.9, "seed": None,
               "max_chars": 900, "parts": 2, "bars": None, "unknown_option": 1}
    controls = controls_from_options(options, {"key": "G", "meter": "", "rhythm": "jig"},
                                     "|:GAG GAB|")
    assert controls == GenerationControls(key="G", rhythm="jig", prime="|:GAG GAB|", count=2,
                                          temperature=0.7, top_k=5, top_p=0.9, max_chars=900,
                                          parts=2)


def test_with_continue_bars_the_selected_tune_is_continued():
    tune = "X:1\nK:D\n|:FA|d2fd Adfd|\n"
    controls = controls_from_options({"count": 1, "continue_bars": 3}, {}, tune)
    assert (controls.continue_from, controls.continue_bars, controls.prime) == (tune, 3, None)
    assert controls_from_options({"count": 1, "continue_bars": 3}, {}, "").continue_from is None


def test_probabilities_cover_the_whole_text():
    text = "X:1\nK:D\nAB|\n"
    assert probabilities_over(text, "AB|\n", [0.5] * 4) == [1.0] * 8 + [0.5] * 4
    assert probabilities_over(text, "", []) == [1.0] * len(text)
    assert probabilities_over(text + "|]", "AB|\n", [0.5] * 4) == [1.0] * 8 + [0.5] * 4 + [1.0] * 2


def test_probabilities_follow_the_notes_when_repairs_changed_the_generated_part():
    # the model wrote '"4"AB uc|' (probabilities 0.1 ... 0.9); the repair removed the
    # fingering and the bowing mark: each note keeps its own probability
    generated = '"4"AB uc|\n'
    probabilities = [round(0.1 * (i + 1), 1) for i in range(len(generated))]
    text = "X:1\nK:D\nAB c|\n"
    spread = probabilities_over(text, generated, probabilities)
    assert len(spread) == len(text)
    assert spread[:8] == [1.0] * 8                                     # the prime
    assert spread[8:10] == [probabilities[3], probabilities[4]]      # A, B
    assert spread[11] == probabilities[7]                             # c (after the dropped u)
