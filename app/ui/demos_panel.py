"""The Demos panel: next-word prediction and sentiment on the recurrent core, beside baselines.

Two tabs share one model bar. Next word: type a sentence and see the recurrent network's five
likeliest next words beside the fixed-window baseline's (it sees only the last two words).
Sentiment: type a text and see P(positive), the bag-of-words baseline's, and a strip with the
model's view after each word. The model bar picks the cell (tanh RNN, ReLU RNN, LSTM, GRU),
the optimiser and gradient clipping, and retrains on the bundled set or the user's .txt/.csv in
a worker (app.workers.Job) with a progress bar and Stop. Two plots show the gradient flow
through time of the current model on a long input, and the gradient norm of each training step
(where clipping's effect on exploding gradients shows). All work is done by app.demos.
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGridLayout, QHBoxLayout,
                               QLabel, QPlainTextEdit, QProgressBar, QPushButton, QScrollArea,
                               QTabWidget, QVBoxLayout, QWidget)

from app import demos
from app.native_libs import preload_torch_libraries
from app.ui.widgets.gradient_plot import GradientPlot
from app.ui.widgets.word_strip import WordStrip
from app.workers import Job, start_job

log = logging.getLogger(__name__)
TYPING_PAUSE_MS = 120
EXAMPLES = {"nextword": "France is where I grew up, but I now live in Boston. I speak fluent",
            "sentiment": "The food was good, not bad at all."}
FILE_FILTERS = {"nextword": "Text files (*.txt);;All files (*)",
                "sentiment": "CSV files (*.csv);;All files (*)"}


def load_job(context, cell: str) -> dict:
    """Worker: the bundled pair of each demo for `cell`, with its gradient flow."""
    preload_torch_libraries()   # with the GIL released, if this is the first to need torch
    loaded = {}
    for task in demos.TASKS:
        pair = demos.load_bundled(task, cell)
        loaded[task] = (pair, demos.gradient_flow(pair))
    return loaded


def train_job(context, task: str, cell: str, path: str | None, clip: bool, optimizer: str):
    """Worker: train a demo; return (TrainedDemo, its gradient flow or None, accuracies)."""
    trained = demos.train_demo(task, cell, path, clip=clip, optimizer=optimizer,
                               on_progress=context.progress, stop=context.stop)
    if trained.pair is None:
        return trained, None, None
    return trained, demos.gradient_flow(trained.pair), demos.held_out_accuracy(trained)


class DemosPanel(QWidget):
    """Next-word and sentiment demos with cell choice, retraining and gradient plots."""

    status = Signal(str)
    state_changed = Signal(str)      # idle, loading, training

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pairs: dict[str, demos.DemoPair] = {}
        self.flows: dict[str, demos.GradientFlow] = {}
        self.job: Job | None = None
        self.state = "idle"
        self._loading_cell: str | None = None
        self._norms: list[float] = []
        self._timer = QTimer(self, singleShot=True, interval=TYPING_PAUSE_MS)
        self._timer.timeout.connect(self.predict)
        self._build()
        self.load_models()

    # -- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._nextword_page(), "Next word")
        self.tabs.addTab(self._sentiment_page(), "Sentiment")
        self.tabs.currentChanged.connect(self._tab_changed)
        layout.addWidget(self.tabs)
        layout.addLayout(self._model_bar())
        self.flow_plot = GradientPlot("The gradient flow of the chosen cell appears here")
        self.flow_plot.setToolTip("||dL/dh_t|| for each earlier word t of a long input, relative "
                                  "to the last word (log scale): it vanishes in a plain RNN")
        self.flow_title = QLabel()
        self.flow_title.setWordWrap(True)
        layout.addWidget(self.flow_title)
        layout.addWidget(self.flow_plot, 2)
        self.norm_plot = GradientPlot("Gradient norms appear here while training")
        self.norm_plot.setToolTip("Global gradient norm at each training step before clipping "
                                  "(log scale); the dashed line is the clip threshold")
        self.norm_title = QLabel("Gradient norm at each training step (before clipping)")
        layout.addWidget(self.norm_title)
        layout.addWidget(self.norm_plot, 1)

    def _text_box(self, task: str) -> QPlainTextEdit:
        box = QPlainTextEdit(EXAMPLES[task])
        box.setMaximumHeight(64)
        box.setPlaceholderText("Type here…")
        box.textChanged.connect(self._timer.start)
        return box

    def _nextword_page(self) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        self.next_text = self._text_box("nextword")
        grid.addWidget(self.next_text, 0, 0, 1, 2)
        self.next_title = QLabel("<b>LSTM</b>")
        grid.addWidget(self.next_title, 1, 0)
        grid.addWidget(QLabel("<b>Fixed window</b> (sees the last two words)"), 1, 1)
        self.next_top = QLabel()
        self.window_top = QLabel()
        for label in (self.next_top, self.window_top):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setAlignment(Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.next_top, 2, 0)
        grid.addWidget(self.window_top, 2, 1)
        self.next_notes = QLabel()
        self.next_notes.setWordWrap(True)
        grid.addWidget(self.next_notes, 3, 0, 1, 2)
        return page

    def _sentiment_page(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        self.mood_text = self._text_box("sentiment")
        box.addWidget(self.mood_text)
        self.mood_label = QLabel()
        self.mood_label.setTextFormat(Qt.TextFormat.RichText)
        box.addWidget(self.mood_label)
        self.strip = WordStrip()
        scroll = QScrollArea()
        scroll.setWidget(self.strip)
        scroll.setWidgetResizable(False)
        scroll.setFixedHeight(80)
        box.addWidget(scroll)
        self.mood_notes = QLabel()
        self.mood_notes.setWordWrap(True)
        box.addWidget(self.mood_notes)
        box.addStretch(1)
        return page

    def _model_bar(self) -> QVBoxLayout:
        bar = QVBoxLayout()
        row = QHBoxLayout()
        self.cell = QComboBox()
        for cell, name in demos.CELL_NAMES.items():
            self.cell.addItem(name, cell)
        self.cell.setCurrentIndex(self.cell.findData("lstm"))
        self.cell.setToolTip("The recurrent cell; its bundled model loads at once")
        self.cell.currentIndexChanged.connect(self.load_models)
        self.optimizer = QComboBox()
        self.optimizer.addItem("Adam", "adam")
        self.optimizer.addItem("SGD (lr 0.5)", "sgd")
        self.optimizer.setToolTip("SGD takes an exploding gradient at full size: try it "
                                  "with the ReLU RNN and clipping off")
        self.clip = QCheckBox("Clip gradients")
        self.clip.setChecked(True)
        self.clip.setToolTip("Scale the gradient down to norm 1 when it is larger")
        for widget in (QLabel("Cell:"), self.cell, QLabel("Optimiser:"), self.optimizer,
                       self.clip):
            row.addWidget(widget)
        row.addStretch(1)
        bar.addLayout(row)
        row = QHBoxLayout()
        self.retrain_button = QPushButton("Retrain")
        self.retrain_button.setToolTip("Train the chosen cell from scratch on the demo set")
        self.retrain_button.clicked.connect(self._retrain)
        self.file_button = QPushButton("Train on file…")
        self.file_button.setToolTip("Train on your own .txt (next word) or text,label .csv "
                                    "(sentiment)")
        self.file_button.clicked.connect(self._choose_file)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        for widget in (self.retrain_button, self.file_button, self.stop_button):
            row.addWidget(widget)
        row.addWidget(self.progress, 1)
        bar.addLayout(row)
        self.train_label = QLabel("Bundled models, trained on the demo sets.")
        self.train_label.setWordWrap(True)
        bar.addWidget(self.train_label)
        self._set_state("idle")
        return bar

    # -- state --------------------------------------------------------------------------------
    def task(self) -> str:
        return demos.TASKS[self.tabs.currentIndex()]

    def _set_state(self, state: str) -> None:
        self.state = state
        busy = state != "idle"
        for widget in (self.cell, self.optimizer, self.clip, self.retrain_button,
                       self.file_button):
            widget.setEnabled(not busy)
        self.stop_button.setEnabled(state == "training")
        self.state_changed.emit(state)

    def _start(self, job: Job, state: str, done) -> Job:
        self.job = job
        job.done.connect(done)
        job.failed.connect(self._failed)
        job.finished.connect(self._job_finished)
        self._set_state(state)
        start_job(job)
        return job

    # -- loading and predicting -----------------------------------------------------------------
    @Slot()
    def load_models(self) -> Job | None:
        """Load the bundled models of the chosen cell for both demos (in a worker)."""
        if self.job is not None:
            return None
        cell = self._loading_cell = self.cell.currentData()
        self.train_label.setText(f"Loading the bundled {demos.CELL_NAMES[cell]} models…")
        return self._start(Job(load_job, cell, name="demo-load"), "loading", self._loaded)

    @Slot(object)
    def _loaded(self, loaded: dict) -> None:
        for task, (pair, flow) in loaded.items():
            self.pairs[task], self.flows[task] = pair, flow
        name = demos.CELL_NAMES[self.cell.currentData()]
        self.train_label.setText(f"Bundled {name} models, trained on the demo sets.")
        self.norm_plot.clear()
        self._show_flow()
        self.predict()

    @Slot()
    def predict(self) -> None:
        """Answer for the current tab's text (called after a pause in typing)."""
        task = self.task()
        pair = self.pairs.get(task)
        if pair is None:
            return
        if task == "nextword":
            self._show_next(demos.predict_next(pair, self.next_text.toPlainText()), pair)
        else:
            self._show_sentiment(demos.predict_sentiment(pair, self.mood_text.toPlainText()))

    def _show_next(self, result: demos.NextWordPrediction, pair: demos.DemoPair) -> None:
        self.next_title.setText(f"<b>{html.escape(demos.CELL_NAMES[pair.cell])}</b>")
        self.next_top.setText(_top_html(result.top))
        self.window_top.setText(_top_html(result.baseline_top))
        self.next_notes.setText("\n".join(result.notes))

    def _show_sentiment(self, result: demos.SentimentPrediction) -> None:
        if result.positive is None:
            self.mood_label.setText("<i>No words to classify yet.</i>")
        else:
            verdict = "positive" if result.positive >= 0.5 else "negative"
            self.mood_label.setText(
                f"<span style='font-size:large'><b>{result.positive:.0%} positive</b></span> "
                f"({verdict}) &nbsp; Bag of words: {result.baseline_positive:.0%} positive")
        self.strip.set_words(result.per_word)
        self.mood_notes.setText("\n".join(result.notes))

    def _show_flow(self) -> None:
        task, flow = self.task(), self.flows.get(self.task())
        if flow is None:
            self.flow_plot.clear()
            return
        name = demos.CELL_NAMES[self.pairs[task].cell]
        self.flow_title.setText(f"Gradient flow through time, {name}: ||dL/dh_t|| at each word, "
                                "relative to the last word (loss at the last word)")
        self.flow_plot.set_series(flow.relative(), flow.tokens, "word of the long input")

    @Slot(int)
    def _tab_changed(self, index: int) -> None:
        self._show_flow()
        self.predict()

    # -- training -------------------------------------------------------------------------------
    @Slot()
    def _retrain(self) -> None:
        self.train()

    @Slot()
    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Train on a file", "",
                                              FILE_FILTERS[self.task()])
        if path:
            self.train(path)

    def train(self, path: str | None = None) -> Job | None:
        """Retrain the current demo's chosen cell on the bundled set or on `path`."""
        if self.job is not None:
            return None
        self.progress.setValue(0)
        self.norm_plot.clear()
        self._norms = []
        self.train_label.setText("Training…")
        job = Job(train_job, self.task(), self.cell.currentData(), path, self.clip.isChecked(),
                  self.optimizer.currentData(), name="demo-train")
        job.progress.connect(self._progress)
        return self._start(job, "training", self._trained)

    @Slot(object)
    def _progress(self, p) -> None:
        self.progress.setValue(int(p.fraction * 100))
        if p.network == "recurrent":
            self._norms.append(p.grad_norm)
            if len(self._norms) % 10 == 0:
                self._plot_norms()

    def _plot_norms(self) -> None:
        self.norm_plot.set_series(self._norms, None, "training step",
                                  1.0 if self.clip.isChecked() else None)

    @Slot(object)
    def _trained(self, outcome) -> None:
        trained, flow, accuracy = outcome
        self._norms = list(trained.grad_norms)
        self._plot_norms()
        s = trained.summary
        peak = s["max_grad_norm"]
        norms = (f"largest gradient norm {peak:,.1f}" if peak is not None else "no finite "
                 "gradient") + (f", clipped in {s['clipped_steps']} of {s['steps']} steps"
                                if s["clip"] else ", no clipping")
        lines = list(trained.notes)
        if trained.pair is not None:
            task = trained.pair.task
            self.pairs[task], self.flows[task] = trained.pair, flow
            score = (f"held-out accuracy {accuracy[0]:.0%} (baseline {accuracy[1]:.0%})"
                     if accuracy else "no held-out examples")
            lines.insert(0, f"Trained {demos.CELL_NAMES[s['cell']]} on {trained.data.source} "
                         f"in {s['seconds']:.1f} s: {score}; {norms}.")
            self._show_flow()
            self.predict()
        else:
            lines.append(f"({norms})")
        self.progress.setValue(100)
        self.train_label.setText("\n".join(lines))
        self.status.emit(lines[0])

    @Slot()
    def stop(self) -> None:
        """Stop training; a model stopped early is still used (the label says so)."""
        if self.job is not None:
            self.job.cancel()

    @Slot(str)
    def _failed(self, message: str) -> None:
        self.train_label.setText(f"⚠ {message}")
        self.status.emit(message)

    @Slot()
    def _job_finished(self) -> None:
        self.job = None
        self._set_state("idle")
        loading, self._loading_cell = self._loading_cell, None
        if loading is not None and loading != self.cell.currentData():
            self.load_models()   # the choice changed while the last one loaded

    def shutdown(self, timeout_ms: int = 3000) -> None:
        """Stop any work and wait for its thread (on window close)."""
        if self.job is not None:
            self.job.cancel()
            if self.job.thread is not None:
                self.job.thread.wait(timeout_ms)

    def save_state(self) -> dict:
        return {"tab": self.tabs.currentIndex(), "cell": self.cell.currentData(),
                "clip": self.clip.isChecked(), "optimizer": self.optimizer.currentData()}

    def restore_state(self, state: dict) -> None:
        """Restore save_state()'s choices; unknown or missing values keep the defaults."""
        if not isinstance(state, dict):
            return
        if state.get("tab") in (0, 1):
            self.tabs.setCurrentIndex(state["tab"])
        for combo, key in ((self.optimizer, "optimizer"), (self.cell, "cell")):
            index = combo.findData(state.get(key))
            if index >= 0:
                combo.setCurrentIndex(index)
        if isinstance(state.get("clip"), bool):
            self.clip.setChecked(state["clip"])


def _top_html(top: list[tuple[str, float]]) -> str:
    rows = "".join(f"<tr><td>{html.escape(w)}</td><td align='right'>&nbsp;{p:.1%}</td>"
                   f"<td>&nbsp;<span style='color:#1f77b4'>{'█' * max(1, round(p * 20))}"
                   "</span></td></tr>" for w, p in top)
    return f"<table>{rows}</table>"
