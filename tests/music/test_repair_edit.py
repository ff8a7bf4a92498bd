"""The repair's token editor: edits written back as text, and trial copies kept apart."""

from app.music.repair_edit import Edit, error_count, last_music_index

TUNE = "X:1\nM:2/4\nL:1/8\nK:C\nAB cd|\n"


def test_edits_are_written_back_with_the_header_untouched():
    edit = Edit(TUNE)
    edit.drop(0)                      # A
    edit.insert_after(1, "/")         # B -> B/
    edit.insert_after(1, "2")         # a second insertion goes after the first
    assert edit.text() == "X:1\nM:2/4\nL:1/8\nK:C\nB/2 cd|\n"


def test_a_copy_keeps_its_changes_to_itself():
    edit = Edit(TUNE)
    edit.drop(3)
    trial = edit.copy()
    trial.insert_after(0, "]")
    trial.drop(1)
    assert edit.text() == "X:1\nM:2/4\nL:1/8\nK:C\nAB d|\n"
    assert trial.text() == "X:1\nM:2/4\nL:1/8\nK:C\nA] d|\n"


def test_error_count_and_the_last_music_token():
    assert error_count(TUNE) == 0
    assert error_count("X:1\nM:2/4\nL:1/8\nK:C\nAB cde|\n") == 1   # bar too long
    edit = Edit(TUNE)
    assert edit.body[last_music_index(edit.body)].text == "|"
