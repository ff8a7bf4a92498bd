"""Scoring held-out tunes with a model: the service behind `python main.py evaluate`.

`evaluate_model(model, sources)` returns bits per character the way the reference lab scores:
each blank-line separated block from a fresh state, its first character unscored, characters the
model never saw skipped and counted (`model.evaluate`). Files are scored as raw text, as written;
a built-in corpus name scores its validation split in training format (`evaluation_blocks`).
GUI-free; torch is imported only when a model is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


def evaluation_blocks(sources: Sequence[str]) -> list[str]:
    """Return the blocks to score: raw files as written, built-in corpora's validation tunes."""
    from app.music.corpus import BUILTIN_CORPORA, load_corpus
    from app.music.normalize import corpus_text
    from model.evaluate import split_blocks

    blocks: list[str] = []
    for source in sources:
        path = Path(source)
        if not path.exists() and source in BUILTIN_CORPORA:
            _, valid = load_corpus([source]).split()
            blocks += split_blocks(corpus_text(valid))
            continue
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            with open(file, encoding="utf-8", errors="replace") as f:
                blocks += split_blocks(f.read())
    return blocks


def evaluate_model(model, sources: Sequence[str]) -> dict:
    """Score the sources with a model (a path, a loaded ModelFile, or None: the default model).

    Returns {"bits_per_char", "scored_chars", "unknown_chars_skipped"}. Raises ModelError when
    there is nothing to score or the model file is bad, OSError for an unreadable file.
    """
    from model.checkpoint import ModelFile, load_model
    from model.errors import ModelError
    from model.evaluate import evaluate
    from model.paths import default_model_path

    blocks = evaluation_blocks(sources)
    if not blocks:
        raise ModelError(f"nothing to score in {', '.join(sources)}")
    loaded = model if isinstance(model, ModelFile) else load_model(model or default_model_path())
    return evaluate(loaded.model, loaded.vocab, blocks)
