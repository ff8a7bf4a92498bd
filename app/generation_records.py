"""Generated tunes as library records: the repaired text, its provenance and its probabilities.

`generate_records` runs `app.generation.generate_tunes` for the window and hands over each
variation, the moment it is final, as `(abc, provenance, probabilities)`: the provenance is what
the library stores and an export writes as comments (date, model, settings, header fields,
repairs), and the probabilities cover the whole text so the tune view can colour it (the prime
counts as certain). GUI-free; the window runs it on a worker thread.
"""

from __future__ import annotations

from datetime import datetime, timezone
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Callable, Mapping

from app.generation import GeneratedResult, generate_tunes
from app.generation_controls import GenerationControls

Record = tuple[str, dict[str, Any], list[float]]


def tune_provenance(tune: GeneratedResult, model_path: str, headers: Mapping[str, str | None],
                    *, date: str, arrival: int, continued: bool) -> dict[str, Any]:
    """Return the provenance of one generated tune (`arrival` 0: the first one ready)."""
    provenance = {"date": date, "index": tune.settings.get("variation", arrival + 1) - 1,
                  "arrival": arrival,
                  **{k: v for k, v in tune.settings.items() if not isinstance(v, list)},
                  "model": Path(model_path).name.removesuffix(".safetensors"),
                  "model_path": model_path, **{k: v for k, v in headers.items() if v}}
    if continued:
        provenance["continued"] = True
    if tune.repairs:
        provenance["repairs"] = "; ".join(tune.repairs)
    return provenance


def probabilities_over(text: str, generated: str, probabilities: list[float]) -> list[float]:
    """Spread the generated part's probabilities over the whole text, one per character.

    The prime counts as certain (1). When repairs changed the generated part (a bar line
    closed, annotations removed), each character of `text` that lines up with one the model
    wrote (`difflib`'s matching blocks) gets its probability, a character added counts as 1.
    """
    start = text.rfind(generated) if generated else len(text)
    if start >= 0:
        tail = len(text) - start - len(probabilities)
        return [1.0] * start + list(probabilities) + [1.0] * max(tail, 0)
    spread = [1.0] * len(text)
    matcher = SequenceMatcher(None, text, generated, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        for k in range(min(size, len(probabilities) - b)):
            spread[a + k] = probabilities[b + k]
    return spread


def generate_records(model, model_path: str, controls: GenerationControls,
                     headers: Mapping[str, str | None], on_record: Callable[[Record], None],
                     on_progress: Callable[[tuple[int, int]], None] | None = None,
                     stop=None, repair: Callable | None = None) -> int:
    """Generate tunes and hand each to `on_record` as (abc, provenance, probabilities).

    `model` is a loaded ModelFile (or a path), read from `model_path`; `headers` are the header
    fields asked for (meter, key, rhythm), kept in the provenance. `on_progress((done, count))`
    follows each record; once `stop.is_set()` no more records are handed over. Returns how many
    were. `repair` is as for `generate_tunes`. Raises ValueError for bad controls, ModelError for a bad model or settings.
    """
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    continued = bool(controls.prime) or controls.continue_from is not None
    done: list[GeneratedResult] = []

    def hand_over(tune: GeneratedResult) -> None:
        if stop is not None and stop.is_set():
            return
        provenance = tune_provenance(tune, model_path, headers, date=date, arrival=len(done),
                                     continued=continued)
        on_record((tune.text, provenance,
                   probabilities_over(tune.text, tune.generated, tune.probabilities)))
        done.append(tune)
        if on_progress is not None:
            on_progress((len(done), controls.count))

    generate_tunes(model, controls, on_tune=hand_over, stop=stop, repair=repair)
    return len(done)
