"""Generating tunes with musical controls: the one service the CLI and the GUI both call.

`generate_tunes(model, controls)` turns `GenerationControls` (key, meter, unit length, rhythm,
title, length in bars or in AABB parts, continue-from, count, temperature/top-k/top-p, seed,
length cap) into a prime, samples the variations as one batch through `model.sample.sample_rows`
(the one sampling loop) with a `TuneHook` that applies the controls step by step, and returns one
`GeneratedResult` per variation: the text the model wrote (`original`), the repaired text
(`text`), the repairs made, the problems left, the per-character probabilities and the settings
for provenance. It reads in three steps: the prime (`_prime`, `_plan`), sampling
(`_sample`, `_first_pass`, `_retry_unclean`) and the result (`_result`, `_shape`). The controls
and their checks live in `app.generation_controls`, the per-step hook in `app.tune_hook`, and
what the window stores for each tune in `app.generation_records`.

How the controls take effect:
- key, meter, unit length, rhythm and title are written into the header of the prime, so the
  model writes only the body under them (the header is never sampled); a key or meter asked
  for is kept by masking `K`/`M` at the start of a body line and after `[` (no field change).
- style (irish, german...: `app.music.styles`) is written as the `O:` line after `X:1`, for a
  model trained with style lines (`training["styles"]`); other models ignore it with a warning.
- title: with none asked for, a model trained with titles names each tune itself: in the
  header it writes, or, when the prime holds header fields, by a title sampled apart
  (`app.generation_titles`); `title_note` in the settings says it is the model's own and
  whether a training tune has the same title. Other models' tunes get no title here.
- attempts (default 3): a variation that is not clean after repair is sampled again (another
  seed, recorded as `attempt` and `sample_seed` in its settings) up to `attempts` times in all;
  the first clean one is kept, else the first try is returned with its problems listed.
- bars that fit (`fit_bars`, on by default): when a bar line closes a bar, the checker measures
  that bar; one too long, or too short where folk practice allows no short bar (not a pickup,
  not at a repeat or section boundary completing one), is sampled again from its start, up to
  MAX_BAR_TRIES times (app/tune_hook.py; then kept, repair follows). `model.sample.sample_rows` restores the
  recurrent state exactly; `bars_resampled` in each result's settings counts the rewinds.
  After a space (where ABC groups beats), a bar that already lasts as long as the meter asks
  may only be followed by a bar line, so a model that writes 4/4 bars under M:2/4 is made to
  close them where they are full.
- length drawn from the model (`auto_length`, on by default): with no length asked for, each
  variation's length in bars is drawn, once its meter is known, from the lengths of the model's
  training tunes in that meter (the `tune_lengths` profile `python main.py train` stores); an
  LSTM keeps no reliable count of 16 or 32 bars. Models without a profile decide for themselves.
- the last bar (of a drawn or asked length) is sampled again, like a bar that does not fit,
  until it ends on the key's tonic (up to MAX_BAR_TRIES times), so the tune comes home rather
  than stopping mid-phrase.
- length: while the body has fewer bars than asked, the blank line that ends a tune and the
  final bar line `|]` are masked out; sampling of a variation stops at the bar line that closes its last bar, and that bar line
  becomes a final bar line (`|]`, or `:|` for parts). A bar is counted at each bar line that
  follows a note or rest (outside strings, chords symbols, comments and inline fields), so a
  pickup counts as a bar and first/second endings count as bars of their own.
- parts (AABB): `parts` sections of `bars_per_part` bars; the bar line closing each section is
  made a repeat (`:|`), and the next section opens with `|:`; these edits are listed as repairs.
- continue-from: the given tune's header (normalised) and its first N bars are the prime; its
  header wins over the key/meter controls (a warning says so).
- performer annotations (`keep_annotations`, off by default): after shaping and before the
  repair, the fingering digits, bowing marks and free text in quotes a model copies from the
  tune books are removed from the body lines of every tune, whatever the model was trained on
  (`app.generation_annotations`; real chord symbols stay, `original` keeps the model's text);
  the repairs list how many went. `keep_annotations` keeps them.
Contradictory or unusual controls (a 6/8 reel, a rhythm the corpus does not name) are a
documented best effort: the explicit meter wins and a warning is listed. Bad values (0 or
10,000 bars, a meter like 7/0, a prime that is not ABC) raise ValueError with one clear line.
Generation always ends: every variation stops at the length cap (`max_chars`, raised to fit the
bars asked for) at the latest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from app.generation_annotations import strip_annotations
from app.generation_controls import (GenerationControls, check_controls, continuation_prime,
                                     looks_like_abc)
from app.generation_titles import (header_title, needs_sampled_titles, sample_titles,
                                   title_note, with_title)
from app.music.bars import bar_end_index, body_bars, split_header
from app.tune_hook import TuneHook
from model.config import SampleConfig

__all__ = ["GenerationControls", "GeneratedResult", "generate_tunes"]

CHARS_PER_BAR = 48          # cap per bar asked for (generous: corpus bars average ~14 chars)


@dataclass
class GeneratedResult:
    """One variation: the model's text, its repaired form, and how it was made."""

    text: str                     # repaired ABC (what to show and play)
    original: str                 # prime + what the model wrote, unchanged
    prime: str
    generated: str                # what the model wrote
    probabilities: list[float]    # one per character of `generated`
    finished: bool                # ended at a blank line or at the bars asked for
    repairs: list[str] = field(default_factory=list)
    problems_left: list = field(default_factory=list)   # app.music.checker.Problem
    ok: bool = False
    bars: int = 0                 # bars in the body of `text`
    settings: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

@dataclass
class _Plan:
    """What the controls make of one request: the prime and all that sampling needs."""

    prime: str
    header: dict[str, str]        # header fields the controls ask for
    warnings: list[str]
    target: int | None            # bars asked for (None: drawn or the model's choice)
    titles: bool                  # the model was trained with T: lines
    config: SampleConfig          # with the seed drawn when none was given
    bans: dict[str, set[str]]     # characters banned after a character (no K:/M: change)
    profile: dict | None          # the model's tune lengths by meter, to draw lengths from
    floor: int                    # bars of a continued tune that are kept as given
    settings: dict[str, Any]      # for provenance, shared by all variations
    defaults: dict[str, str]      # header fields the repair fills in when missing
    names: list[str] = field(default_factory=list)   # titles sampled apart, one per variation
    digests: str = ""             # the model's training-title digests
    repair: Callable | None = None   # (abc, defaults) -> RepairResult; None: repair_tune here


# ------------------------------------------------------------------ the service


def generate_tunes(model, controls: GenerationControls, on_tune: Callable | None = None,
                   stop=None, repair: Callable | None = None) -> list[GeneratedResult]:
    """Generate `controls.count` tunes; `model` is a model file path or a loaded ModelFile.

    `on_tune(result)` is called once per variation as soon as it is final: a variation that is
    clean on its first try the moment it ends (while the rest of the batch is sampled), the
    others after their retries, in order; `stop` (an Event-like object with `is_set()`) ends
    sampling early (the tunes so far are returned, unfinished). `repair(abc, defaults)`
    repairs each tune (default: `app.music.repair.repair_tune` on this thread; the window
    passes `repair_in_worker`). Raises ValueError for bad controls and ModelError for a bad
    model file or sampling settings.
    """
    header, warnings = check_controls(controls)
    loaded = _loaded(model)
    plan = _plan(loaded, controls, header, warnings)
    plan.repair = repair
    if needs_sampled_titles(loaded, plan.prime, bool(plan.header.get("T"))):
        style = plan.header.get("O") if loaded.training.get("styles") else None
        plan.names = sample_titles(loaded, controls.count, style,
                                   plan.config.temperature, plan.config.seed, stop)
    emitted: set[int] = set()
    results = _first_pass(loaded, controls, plan, on_tune, emitted, stop)
    _retry_unclean(loaded, controls, plan, results, stop)
    for b, result in enumerate(results):
        if not result.ok:
            result.warnings.append(f"no clean tune in {controls.attempts} attempt(s); "
                                   "the repaired text still has errors")
        if on_tune is not None and b not in emitted:
            on_tune(result)
    return results


# ------------------------------------------------------------------ prime


def _prime(loaded, controls: GenerationControls, header: dict[str, str], warnings: list[str],
           titles: bool, target: int | None) -> str:
    """Return the text sampling starts from: the continued tune's first bars, else the header
    the controls ask for (and a raw prime); ValueError for a prime that is not ABC."""
    from model.sample import build_prime

    if controls.continue_from is not None:
        prime = continuation_prime(controls.continue_from, controls.continue_bars)
        given = [k for k in ("K", "M", "L", "R") if k in header]
        if given:
            warnings.append("continuing a tune: its own header is kept; "
                            f"{', '.join(given)} from the controls are ignored")
        if "T" in header and titles:
            prime = re.sub(r"^X:1\n", f"X:1\nT:{header['T']}\n", prime)
        if target is not None and target <= controls.continue_bars:
            raise ValueError(f"asked for {target} bars but the continued tune already gives "
                             f"{controls.continue_bars}")
    else:
        prime = build_prime(meter=header.get("M"), key=header.get("K"),
                            unit_length=header.get("L"), rhythm=header.get("R"),
                            title=header.get("T"), prime=controls.prime,
                            title_in_prime=titles)
        if controls.prime and not looks_like_abc(controls.prime):
            raise ValueError("the prime is not ABC: expected a tune (X: ... K:) or bars of "
                             "notes such as |:ABcd efga|")
    if "O" in header:
        if loaded.training.get("styles"):
            prime = re.sub(r"^X:1\n", f"X:1\nO:{header['O']}\n", prime)
        else:
            warnings.append("this model was trained without style lines: the style is ignored")
    unknown = sorted(loaded.vocab.unknown_chars(prime))
    if unknown:
        warnings.append(f"the model never saw {''.join(unknown)!r}; read as its unknown symbol "
                        "(best effort)")
    return prime


def _plan(loaded, controls: GenerationControls, header: dict[str, str],
          warnings: list[str]) -> _Plan:
    """Turn checked controls into the prime, the sampling settings and the shared settings."""
    import secrets

    target = controls.target_bars()
    titles = bool(loaded.training.get("titles"))
    learned = loaded.training.get("styles") or {}
    if learned and header.get("O") and header["O"] not in learned:
        warnings.append(f"this model learned no {header['O']} tunes, so the style line steers "
                        f"nothing (it knows {', '.join(learned)})")
    prime = _prime(loaded, controls, header, warnings, titles, target)
    max_chars = controls.max_chars
    if target is not None:
        max_chars = max(max_chars, CHARS_PER_BAR * target)
    config = SampleConfig(count=controls.count, temperature=controls.temperature,
                          top_k=controls.top_k, top_p=controls.top_p, max_chars=max_chars,
                          seed=controls.seed)
    config.check()
    bans: dict[str, set[str]] = {}
    if controls.continue_from is None and "\nK:" in "\n" + prime:
        fixed = {letter for letter in "KM" if letter in header}
        if fixed:                  # keep the asked key and meter: no K:/M: change in the body
            bans["\n"] = set(fixed)
            bans["["] = set(fixed)
    profile = loaded.training.get("tune_lengths") if controls.auto_length else None
    seed = config.seed if config.seed is not None else secrets.randbelow(2 ** 31)
    config = replace(config, seed=seed)
    floor = controls.continue_bars if controls.continue_from is not None else 0
    name = Path(loaded.path).name.removesuffix(".safetensors") if loaded.path else "model"
    settings = {"model": str(loaded.path or name), "model_name": name, "seed": seed,
                "temperature": config.temperature, "top_k": config.top_k, "top_p": config.top_p,
                "max_chars": max_chars, "count": config.count}
    settings.update({f"header_{k}": v for k, v in header.items()})
    if target is not None:
        settings["bars"] = target
    if controls.parts:
        settings["parts"] = controls.parts
    if controls.continue_from is not None:
        settings["continued_bars"] = controls.continue_bars
    if controls.keep_annotations:
        settings["keep_annotations"] = True
    defaults = {k: v for k, v in header.items() if k in "MLK"}
    defaults.setdefault("L", "1/8")
    return _Plan(prime, header, warnings, target, titles, config, bans, profile, floor,
                 settings, defaults, digests=loaded.training.get("title_digests") or "")


# ------------------------------------------------------------------ sample


def _sample(loaded, controls: GenerationControls, plan: _Plan, config: SampleConfig,
            targets: list[int | None], stop, on_row: Callable | None = None) -> list[tuple]:
    """Sample one batch; return per row (generated text, probabilities, finished, bars to
    close at, bars resampled). `on_row(b, row)` comes as each row ends."""
    from model.sample import sample_rows

    hook = TuneHook(plan.prime, targets, plan.bans, plan.profile, config.seed,
                    loaded.vocab.index, controls.fit_bars, plan.floor, config.max_chars)

    def unpack(b, r):
        return (loaded.vocab.decode(r.ids), r.probs, r.finished, hook.bars_written(b),
                r.rewinds)

    sampled, _ = sample_rows(loaded.model, loaded.vocab, config, plan.prime, hook, stop,
                             None if on_row is None else
                             (lambda b, r: on_row(b, unpack(b, r))))
    return [unpack(b, r) for b, r in enumerate(sampled)]


def _first_pass(loaded, controls: GenerationControls, plan: _Plan, on_tune: Callable | None,
                emitted: set[int], stop) -> list[GeneratedResult]:
    """Sample every variation once; a clean one goes to `on_tune` the moment it ends."""
    config = plan.config
    results: list[GeneratedResult | None] = [None] * config.count

    def finished_row(b: int, row) -> None:
        results[b] = _result(controls, plan, row, b + 1, 1, config.seed)
        if results[b].ok and on_tune is not None:
            emitted.add(b)
            on_tune(results[b])

    rows = _sample(loaded, controls, plan, config, [plan.target] * config.count, stop,
                   finished_row)
    return [r if r is not None else _result(controls, plan, row, b + 1, 1, config.seed)
            for b, (r, row) in enumerate(zip(results, rows))]


def _retry_unclean(loaded, controls: GenerationControls, plan: _Plan,
                   results: list[GeneratedResult], stop) -> None:
    """Sample the variations that are not clean again (another seed each attempt), in place."""
    seed = plan.config.seed
    for attempt in range(2, controls.attempts + 1):
        bad = [i for i, r in enumerate(results) if not r.ok]
        if not bad or (stop is not None and stop.is_set()):
            break
        retry_seed = (seed + 7919 * (attempt - 1)) % 2 ** 31
        retry = replace(plan.config, count=len(bad), seed=retry_seed)
        rows = _sample(loaded, controls, plan, retry, [results[i].settings.get("bars")
                                                       for i in bad], stop)
        for i, row in zip(bad, rows):
            result = _result(controls, plan, row, i + 1, attempt, retry_seed)
            if result.ok:
                results[i] = result


# ------------------------------------------------------------------ result


def _result(controls: GenerationControls, plan: _Plan, row: tuple, variation: int, attempt: int,
            sample_seed: int) -> GeneratedResult:
    """Shape one sampled row (length, AABB repeats, title), repair it and describe it."""
    from app.music.repair import repair_tune

    generated, probs, finished, row_target, rewinds = row
    original = plan.prime + generated
    if not original.endswith("\n"):
        original += "\n"
    structured, edits = _shape(original, plan.prime, controls, row_target, finished)
    if controls.title and not plan.titles \
            and "\nT:" not in "\n" + split_header(structured)[0]:
        structured = structured.replace("X:1\n", f"X:1\nT:{plan.header.get('T', '')}\n", 1)
    if plan.names:
        structured = with_title(structured, plan.names[variation - 1])
    note = "" if plan.header.get("T") else title_note(header_title(structured), plan.digests)
    named = {"title_note": note} if note else {}
    if not controls.keep_annotations:
        structured, removed = strip_annotations(structured)
        if removed:
            edits.append("removed performer annotations (fingering, bowing, text in quotes): "
                         f"{removed}")
    repaired = plan.repair(structured, plan.defaults) if plan.repair is not None \
        else repair_tune(structured, defaults=plan.defaults)
    tune_warnings = list(plan.warnings)
    if not finished:
        tune_warnings.append("stopped at the length cap before the tune ended")
    drawn = {"bars": row_target, "length": "drawn from the model's tunes"} \
        if plan.target is None and row_target is not None else {}
    return GeneratedResult(
        text=repaired.text, original=original, prime=plan.prime, generated=generated,
        probabilities=[round(p, 5) for p in probs], finished=finished,
        repairs=edits + repaired.repairs, problems_left=repaired.problems_left,
        ok=repaired.ok, bars=body_bars(repaired.text),
        settings=dict(plan.settings, variation=variation, attempt=attempt,
                      sample_seed=sample_seed, bars_resampled=rewinds, **drawn, **named),
        warnings=tune_warnings)


def _loaded(model):
    from model.checkpoint import ModelFile, load_model

    if isinstance(model, ModelFile):
        return model
    return load_model(model)


def _shape(text: str, prime: str, controls: GenerationControls, target: int | None,
           finished: bool) -> tuple[str, list[str]]:
    """Close the tune at the bars asked for and mark the AABB repeats; return text and edits."""
    edits: list[str] = []
    if target is None:
        return text, edits
    head, body = split_header(text)
    cut = bar_end_index(body, target)
    if cut is None:
        return text, edits
    if body[cut:].strip():
        edits.append(f"cut the tune after bar {target}")
    body = body[:cut].rstrip()
    if controls.parts:
        ends = [bar_end_index(body, controls.bars_per_part * k)
                for k in range(1, controls.parts + 1)]
        for k in reversed(range(len(ends))):
            end = ends[k]
            if end is None:
                continue
            start = end - 1
            while start > 0 and body[start - 1] in "|:[]":
                start -= 1
            token = body[start:end]
            last = k == len(ends) - 1
            if ":|" not in token and "||" not in token and token != "|]":
                opens = body[end:].lstrip(" \n").startswith("|:")
                new = ":|" if last or opens else ":|\n|:"
                body = body[:start] + new + body[end:]
                edits.append(f"made bar {controls.bars_per_part * (k + 1)} the end of a "
                             f"repeated part ({new.replace(chr(10), ' ')})")
    else:
        start = len(body) - 1
        while start > 0 and body[start - 1] in "|:[]":
            start -= 1
        token = body[start:]
        if token == "|":
            body = body[:start] + "|]"
            edits.append(f"closed bar {target} with a final bar line |]")
    return head + body + "\n", edits
