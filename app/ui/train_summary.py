"""The summary of the tunes a model is about to learn from, as the Train panel shows it: counts,
top keys and meters, characters new to the base model, warnings, and the "Start training?" box
that asks to confirm it.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.training_data import TrainingData


def summary_html(data: TrainingData, base_name: str | None = None) -> str:
    """The data summary as rich text: counts, top keys and meters, new characters, warnings."""
    s = data.summary
    keys = ", ".join(f"{k} {n}" for k, n in list(s["keys"].items())[:6]) or "–"
    meters = ", ".join(f"{k} {n}" for k, n in list(s["meters"].items())[:5]) or "–"
    text = (f"<b>{s['tunes']:,} tunes</b> ({s['train_tunes']:,} train, {s['valid_tunes']:,} "
            f"validation), {s['characters']:,} characters.<br>Keys: {html.escape(keys)}<br>"
            f"Meters: {html.escape(meters)}")
    if "new_characters" in s:
        new = s["new_characters"]
        model = f" to {html.escape(base_name)}" if base_name else ""
        text += (f"<br>New characters{model}: {len(new)} "
                 f"({html.escape(repr(new[:30]))})" if new else
                 f"<br>New characters{model}: none, the model knows them all")
    if s.get("too_small"):
        text += "<br><b><font color='#b35900'>⚠ Too little data to learn from.</font></b>"
    for warning in data.warnings:
        text += f"<br><font color='#b35900'>⚠ {html.escape(warning)}</font>"
    return text


def confirm_box(parent: QWidget, plan: str, data: TrainingData,
                base_name: str | None) -> QMessageBox:
    """The confirmation shown before training: `plan` (rich text), the data summary, and
    Start training / Cancel; a warning icon when the data is too little."""
    box = QMessageBox(QMessageBox.Icon.Warning if data.summary.get("too_small")
                      else QMessageBox.Icon.Question, "Start training?", "", parent=parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(f"{plan}<br><br>{summary_html(data, base_name)}")
    start = box.addButton("Start training", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(start)
    return box
