"""Scoring held-out tunes with a model: the service behind `python main.py evaluate`.

`evaluate_model(model, sources)` returns bits per character the way the reference lab scores:
each blank-line separated block from a fresh state, its first character unscored (`model.evaluate`).
How the text is read (`EVAL_TEXTS`):

- `as-written` (the default): a file is scored exactly as it is, titles, `X:` numbers, comments
  and all, only its line endings made `\\n`: the figure to compare with another model on the
  same file.
- `renumbered`: the same, with every `X:` reference number made `1`, as in the training text, so
  numbering costs (almost) nothing: a number carries no music.
- `training`: every tune of a file is normalised into training text first (the old scoring
  of built-in corpora; the model's own text options: titles, styles, annotations).

A built-in corpus name always scores its validation split as training text, written with the
text options the model was trained with (`training["text"]`; older models: no titles, no
styles, annotations kept, which is the text they were trained on).

Characters the model never saw cannot be scored by its softmax. The lab's figure
(`bits_per_char`) removes them and counts them (`unknown_chars_skipped`); `bits_per_char_all`
keeps them in place, each read as the model's unknown symbol (index 0, which it was never
trained to predict), so each such character costs what the model really gives that symbol
and disturbs the state after it as it would in sampling. GUI-free; torch only with a model.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Sequence

EVAL_TEXTS = ("as-written", "renumbered", "training")
_NUMBER = re.compile(r"^X:[^\n]*$", re.MULTILINE)


def _options_of(training: dict):
    from app.music.normalize import TextOptions

    text = training.get("text")
    if not text:
        return TextOptions(titles=False, styles=False, annotations=True)
    return TextOptions.from_dict(text)


def evaluation_blocks(sources: Sequence[str], text: str = "as-written",
                      training: dict | None = None) -> list[str]:
    """Return the blocks to score: files read as `text` asks (see EVAL_TEXTS), built-in
    corpora's validation tunes as training text; `training` is the model's summary."""
    from app.music.corpus import BUILTIN_CORPORA, load_corpus
    from app.music.normalize import corpus_text
    from app.music.tunebook import parse_tune_book
    from model.evaluate import split_blocks

    if text not in EVAL_TEXTS:
        raise ValueError(f"unknown text {text!r} (known: {', '.join(EVAL_TEXTS)})")
    options = _options_of(training or {})
    blocks: list[str] = []
    for source in sources:
        path = Path(source)
        if not path.exists() and source in BUILTIN_CORPORA:
            _, valid = load_corpus([source]).split()
            blocks += split_blocks(corpus_text(valid, options=options))
            continue
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            with open(file, encoding="utf-8", errors="replace") as f:
                raw = f.read().replace("\r\n", "\n").replace("\r", "\n")
            if text == "training":
                raw = corpus_text(parse_tune_book(raw, str(file)).tunes, options=options)
            elif text == "renumbered":
                raw = _NUMBER.sub("X:1", raw)
            blocks += split_blocks(raw)
    return blocks


def evaluate_model(model, sources: Sequence[str], text: str = "as-written",
                   device: str = "cpu") -> dict:
    """Score the sources with a model (a path, a loaded ModelFile, or None: the default model)
    on `device` (cpu, cuda, mps or auto; a loaded ModelFile is scored where it is).

    Returns {"bits_per_char", "scored_chars", "unknown_chars_skipped", "bits_per_char_all",
    "chars_all"}: the lab's figure and the one over every character (see the module
    docstring). Raises ModelError when there is nothing to score or the model file is bad,
    ValueError for an unknown `text`, OSError for an unreadable file.
    """
    from model.checkpoint import ModelFile, load_model
    from model.errors import ModelError
    from model.evaluate import evaluate
    from model.paths import default_model_path

    path = None if isinstance(model, ModelFile) else (model or default_model_path())
    blocks = evaluation_blocks(sources, text, model.training if path is None
                               else _training_summary(path))
    if not blocks:
        raise ModelError(f"nothing to score in {', '.join(sources)}")
    loaded = model if path is None else load_model(path)
    if path is not None and device != "cpu":
        from model.device import resolve_device

        loaded.model.to(resolve_device(device))
    index = loaded.vocab.index
    clean = [b for b in blocks if all(c in index for c in b)]
    dirty = [b for b in blocks if not all(c in index for c in b)]
    figures = evaluate(loaded.model, loaded.vocab, clean) if clean else _none()
    skipped = evaluate(loaded.model, loaded.vocab, dirty) if dirty else _none()
    bits = _bits(figures) + _bits(skipped)
    scored = figures["scored_chars"] + skipped["scored_chars"]
    charged_bits, charged_chars = _charged(loaded, dirty)
    all_chars = figures["scored_chars"] + charged_chars
    return {"bits_per_char": round(bits / scored, 4) if scored else float("nan"),
            "scored_chars": scored, "unknown_chars_skipped": skipped["unknown_chars_skipped"],
            "bits_per_char_all": round((_bits(figures) + charged_bits) / all_chars, 4)
            if all_chars else float("nan"), "chars_all": all_chars}


def _training_summary(path) -> dict:
    """The training summary in a model file's header ({} when it cannot be read: loading
    the model then says why)."""
    from model.checkpoint_meta import read_metadata
    from model.errors import ModelError

    try:
        return read_metadata(path).get("training") or {}
    except (ModelError, OSError):
        return {}


def _none() -> dict:
    return {"bits_per_char": 0.0, "scored_chars": 0, "unknown_chars_skipped": 0}


def _bits(figures: dict) -> float:
    return figures["bits_per_char"] * figures["scored_chars"] if figures["scored_chars"] else 0.0


def _charged(loaded, blocks: Sequence[str]) -> tuple[float, int]:
    """Bits and scored characters of `blocks` with every character in place (unknown ones as
    the unknown symbol), each block and its blank line from a fresh state, as the lab scores."""
    import torch
    import torch.nn.functional as F

    bits, chars = 0.0, 0
    model = loaded.model.eval()
    device = next(model.parameters()).device
    with torch.inference_mode():
        for block in blocks:
            ids = torch.tensor([loaded.vocab.encode(block + "\n\n")], device=device)  # (1, T)
            logits, _ = model(ids[:, :-1])                                  # (1, T-1, V)
            nats = F.cross_entropy(logits[0].float(), ids[0, 1:], reduction="sum").item()
            bits += nats / math.log(2)
            chars += ids.shape[1] - 1
    return bits, chars
