"""Held-out bits per character, scored exactly like the reference peer's `evaluate`.

Each blank-line separated block of the text, plus the blank line that ends it ("\n\n"), is
scored from a fresh state; the first character is not scored; characters outside the model's
vocabulary are removed before scoring and counted. Blocks are batched (padded at the end,
which a left-to-right network never sees) for speed; the sums are the same as one at a time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import torch
import torch.nn.functional as F

from model.device import fastest_threads
from model.lm import MusicLM
from model.vocab import UNKNOWN, Vocab


def split_blocks(text: str) -> list[str]:
    """Split text into blank-line separated blocks, as the reference's load_songs does."""
    text = text.replace("\r\n", "\n")
    return [block.strip("\n") for block in re.split(r"\n\s*\n", text) if block.strip()]


@torch.inference_mode()
def evaluate(model: MusicLM, vocab: Vocab, blocks: Iterable[str], batch_chars: int = 32768,
             stop=None) -> dict[str, float | int]:
    """Return {"bits_per_char", "scored_chars", "unknown_chars_skipped"} over `blocks`."""
    model = model.eval()
    device = next(model.parameters()).device
    index = vocab.index
    seqs, unknown = [], 0
    for block in blocks:
        ids = [index.get(c, -1) if c != UNKNOWN else -1 for c in block + "\n\n"]
        unknown += sum(i < 0 for i in ids)
        ids = [i for i in ids if i >= 0]
        if len(ids) >= 2:
            seqs.append(ids)
    seqs.sort(key=len)
    threads = torch.get_num_threads()
    if device.type == "cpu" and seqs:
        probe = torch.tensor([seq[:256] for seq in seqs[-4:]][:1] * 4)  # (4, <=256)
        fastest_threads(lambda: model(probe))
    try:
        return _score(model, seqs, unknown, batch_chars, stop, device)
    finally:
        torch.set_num_threads(threads)


def _score(model, seqs, unknown, batch_chars, stop, device) -> dict[str, float | int]:
    total_nats, scored, i = 0.0, 0, 0
    while i < len(seqs):
        if stop is not None and stop.is_set():
            break
        j = i + 1
        while j < len(seqs) and len(seqs[j]) * (j + 1 - i) <= batch_chars:
            j += 1
        batch = seqs[i:j]
        width = len(batch[-1])
        ids = torch.zeros(len(batch), width, dtype=torch.long)
        mask = torch.zeros(len(batch), width - 1, dtype=torch.bool)
        for row, seq in enumerate(batch):
            ids[row, :len(seq)] = torch.tensor(seq)
            mask[row, :len(seq) - 1] = True
        ids = ids.to(device)
        logits, _ = model(ids[:, :-1])  # (B, T-1, V)
        nll = F.cross_entropy(logits.transpose(1, 2).float(), ids[:, 1:], reduction="none")
        total_nats += nll[mask.to(device)].double().sum().item()
        scored += int(mask.sum())
        i = j
    bits = total_nats / math.log(2) / scored if scored else float("nan")
    return {"bits_per_char": round(bits, 4), "scored_chars": scored,
            "unknown_chars_skipped": unknown}
