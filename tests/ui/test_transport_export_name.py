"""The transport's Export offers a file name made from the tune's title, safe on every OS."""

from app.ui.transport import Transport


def test_export_offers_a_safe_name_made_from_the_title(qtbot):
    transport = Transport()
    qtbot.addWidget(transport)
    transport.set_tune("X:1\nT:t\nM:4/4\nL:1/8\nK:D\nABcd|\n", 'Reel: "The Kesh"/No. 2?')
    asked = []
    transport.ask_export_path = lambda name, suffix: asked.append((name, suffix)) or ""
    action = next(a for a in transport.export_button.menu().actions() if a.data() == "mid")
    transport._export_chosen(action)
    assert asked == [("Reel The Kesh -No. 2.mid", "mid")]
