"""What the Train panel says before and after a run: the summary of the tunes a model is about
to learn from (counts, top keys and meters, characters new to the base model, warnings), the
"Start training?" box that asks to confirm it, and the message naming the saved model, its
held-out score and where it is in the Generate panel once the run has ended.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from pathlib import Path

from app.training_data import TrainingData
from app.ui.train_monitor import duration


def counted(n: float, word: str, plural: str | None = None) -> str:
    """`n` and the word for it, singular for exactly one: "1 minute", "2.5 minutes"."""
    number = f"{int(n):,}" if float(n).is_integer() else f"{n:g}"
    return f"{number} {word if n == 1 else plural or word + 's'}"


def summary_html(data: TrainingData, base_name: str | None = None) -> str:
    """The data summary as rich text: counts, top keys and meters, new characters, warnings."""
    s = data.summary
    keys = ", ".join(f"{k} {n}" for k, n in list(s["keys"].items())[:6]) or "–"
    meters = ", ".join(f"{k} {n}" for k, n in list(s["meters"].items())[:5]) or "–"
    text = (f"<b>{counted(s['tunes'], 'tune')}</b> ({s['train_tunes']:,} train, "
            f"{s['valid_tunes']:,} validation), {counted(s['characters'], 'character')}."
            f"<br>Keys: {html.escape(keys)}<br>"
            f"Meters: {html.escape(meters)}")
    if s.get("transposed_copies"):
        stuck = s.get("untransposable_tunes") or 0
        text += (f"<br>In other keys too: {counted(s['transposed_copies'], 'copy', 'copies')} "
                 f"of the training tunes" + (f" ({counted(stuck, 'tune')} could not move)"
                                             if stuck else ""))
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


def outcome_html(model_path: str, training: dict) -> str:
    """The message shown when a run has ended, from its model file's `training` metadata: how
    it ended, the file, the held-out score in bits per character, and that it is selected in
    the Generate panel's model list (under the file's name, as that list names models)."""
    steps, best = training.get("steps") or 0, training.get("best_step")
    ended = "stopped" if training.get("stopped") else "finished"
    lines = [f"<b>Training {ended}</b> after {counted(steps, 'step')} "
             f"({duration(training.get('seconds'))} of training).",
             f"Saved as <b>{html.escape(Path(model_path).stem)}</b>: "
             f"<small>{html.escape(str(model_path))}</small>"]
    bits = training.get("val_bits_per_char")
    if bits is not None:
        at = f"weights of step {best:,}; " if best is not None else ""
        lines.append(f"Held-out score: <b>{bits:.3f} bits per character</b> on the validation "
                     f"tunes ({at}lower is better).")
    elif not training.get("valid_chars"):
        lines.append("No held-out score: there were too few tunes to keep some back for "
                     "validation.")
    else:
        lines.append("No held-out score: the run stopped before its first validation.")
    lines.append(f"It is now selected in the Generate panel's model list as "
                 f"<b>{html.escape(Path(model_path).stem)}</b>.")
    return "<br>".join(lines)
