"""How a caller steers Ceol's one sampling loop (`model.sample.sample_rows`), step by step.

No torch import here, so GUI-side code (app/generation.py) can define hooks without paying for
torch at import time.
"""

from __future__ import annotations

# What a hook answers for each sampled character (see SampleHook.feed).
KEEP = 0       # keep the character
MARK = 1       # set the rewind point just before this character, then keep it
REWIND = 2     # drop the character and return the variation to its rewind point
END = 3        # the variation is finished; drop the character (the blank line's second \n)
END_KEEP = 4   # the variation is finished after this character


class SampleHook:
    """Per-step control of a sampling run: which characters may come next, and what to do with
    each one sampled. This default ends a variation at a blank line (the end of a tune).

    A hook that returns REWIND sets `rewinds = True`; the sampler then keeps, for each
    variation, the model state at its last MARK and restores it (text, probabilities and
    recurrent state) on REWIND, so a hook can resample a bar that does not fit. The hook keeps
    its own per-variation state and rewinds that itself.
    """

    rewinds = False

    def begin(self, count: int, prime: str) -> None:
        """Called once before sampling `count` variations of `prime`."""
        self.after_newline = [prime.endswith("\n")] * count

    def mask(self, logits: Tensor, active: list[int]) -> None:
        """Ban characters for the next step: set their logits to -inf in place (rows `active`)."""

    def feed(self, row: int, ch: str) -> int:
        """Judge the character just sampled for variation `row`: KEEP, MARK, REWIND, END..."""
        if ch == "\n" and self.after_newline[row]:
            return END
        self.after_newline[row] = ch == "\n"
        return KEEP
