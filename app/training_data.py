"""Preparing tunes for training: the one service the Train panel and `python main.py train` share.

`prepare_training_data(tunes, ...)` splits the tunes (or takes a validation set given apart),
writes the training and validation texts, measures the training tunes' lengths in bars by meter
(stored in the model file so generation can draw lengths from it), and summarises the data for
the confirmation the window shows before it trains: tunes, characters, keys, meters, characters
new to a base model, and warnings when there is too little to learn from. `TrainingData.for_model()`
gives what `model.train.train` takes. `training_data_from_sources` first reads the tunes (files,
folders, built-in corpora, ABC texts, a validation set given apart) the same way for both front
ends. GUI-free; torch is imported only by `for_model`.

What the text keeps is `app.music.normalize.TextOptions` (by default titles and styles, no
performer annotations). With `transpose=N` (or a set of `transpose_keys`) every training tune
is also written in N other keys (`app.music.transpose`): more to learn from, the same melodies.
Copies are made after the split, so a tune and its copies are all on the training side, and the
validation text holds only tunes as written. The model file keeps, besides the tune lengths, the
styles it was trained with (`styles`: {style: tunes}), how the text was written, and a digest of
each training title (`title_digests`, 8 hex digits each, at most MAX_TITLES), so generation can
say when a model names a tune after one it learned from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from app.music.bars import length_profile
from app.music.errors import MusicError
from app.music.normalize import TextOptions, title_digest, training_text, tune_text

MIN_TRAIN_CHARS = 20_000       # below this a model learns little beyond the header layout
MIN_TUNES = 20                 # fewer tunes than this: too little variety to learn from
MAX_TITLES = 50_000            # title digests kept in a model file (8 characters each)
MAX_TRANSPOSE = 11             # copies per tune: every other tonic at most


@dataclass
class TrainingData:
    """Texts ready for training, their tune-length profile, and the summary shown before."""

    train_text: str
    valid_text: str
    name: str
    tune_count: int                     # tunes in the training text
    tune_lengths: dict = field(default_factory=dict)   # {meter: {bars: count}} of those tunes
    summary: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)   # more for the model file: styles, titles, text

    def for_model(self):
        """Return the model.data.TrainData that model.train.train takes."""
        from model.data import TrainData

        return TrainData(self.train_text, self.valid_text, self.name, self.tune_count,
                         extra={"tune_lengths": self.tune_lengths, **self.extra})


def transposed_texts(texts: Sequence[str], copies: int = 0,
                     keys: Sequence[str] = ()) -> tuple[list[str], int]:
    """Return the copies of training texts in other keys, and how many tunes could not move.

    Each text goes into `keys` (tonics such as "D" or "Bb"; its own is skipped) when given,
    else into `copies` keys of its mode with the fewest sharps or flats
    (`app.music.transpose.transposition_targets`). A tune whose key or notes cannot be written
    in a key (`K:none`, a triple sharp) keeps only its own key and is counted.
    """
    from app.music.transpose import (TransposeError, parse_key, transpose_abc,
                                     transposition_targets)

    wanted = [parse_key(k) for k in keys]
    out: list[str] = []
    stuck = 0
    for text in texts:
        head = next((line[2:] for line in text.split("\n") if line.startswith("K:")), "")
        try:
            own = parse_key(head)
            targets = [k for k in wanted if k.pitch_class != own.pitch_class] if wanted \
                else transposition_targets(head, copies)
            out.extend(transpose_abc(text, target) for target in targets)
        except TransposeError:
            stuck += 1
    return out, stuck


def prepare_training_data(tunes: Sequence, name: str, *, valid_tunes: Sequence | None = None,
                          valid_fraction: float = 0.1, base_vocab: Iterable[str] | None = None,
                          seq_len: int = 0, text: TextOptions = TextOptions(),
                          transpose: int = 0, transpose_keys: Sequence[str] = ()
                          ) -> TrainingData:
    """Split `tunes` (app.music.tunebook.Tune objects) and write their training texts.

    With `valid_tunes` the validation set is given apart and every tune of `tunes` trains;
    otherwise `valid_fraction` of them is held back (none when there are too few). With
    `base_vocab` (a model to fine-tune) the characters new to it are listed. `text` says what
    the texts keep; `transpose` (0..MAX_TRANSPOSE) or `transpose_keys` add each training tune
    in other keys (see `transposed_texts`). Raises MusicError when there are no tunes, for a
    bad transposition option, or fewer characters than one training window of `seq_len`.
    """
    from app.music.stats import corpus_stats

    tunes = list(tunes)
    if not tunes:
        raise MusicError("no tunes to train on: choose a corpus, open files or select tunes")
    train, valid = _split(tunes, valid_tunes, valid_fraction)
    if not 0 <= transpose <= MAX_TRANSPOSE:
        raise MusicError(f"transpose to 0..{MAX_TRANSPOSE} other keys, not {transpose}")
    texts = [tune_text(t, text) for t in train]
    copies, stuck = transposed_texts(texts, transpose, transpose_keys) \
        if transpose or transpose_keys else ([], 0)
    train_text = "\n".join(texts + copies)
    valid_text = "\n".join(tune_text(t, text) for t in valid)
    if len(train_text) < seq_len + 1:
        raise MusicError(f"the selection has only {len(train_text)} characters of music, fewer "
                         f"than one training window ({seq_len + 1}); add more tunes")
    stats = corpus_stats(tunes).to_dict()
    summary = {"tunes": len(tunes), "train_tunes": len(train), "valid_tunes": len(valid),
               "characters": len(train_text) + len(valid_text),
               "keys": stats.get("keys", {}), "meters": stats.get("meters", {}),
               "transposed_copies": len(copies), "untransposable_tunes": stuck,
               "untransposed_train_chars": sum(len(t) + 1 for t in texts) - 1 if texts else 0}
    warnings = _warnings(train_text, valid_text, len(tunes), base_vocab, summary)
    lengths = length_profile([training_text(t) for t in train])
    return TrainingData(train_text, valid_text, name, len(train), lengths, summary, warnings,
                        _model_extra(train, text, transpose, transpose_keys))


def _split(tunes: list, valid_tunes: Sequence | None, valid_fraction: float
           ) -> tuple[list, list]:
    """The training and validation tunes: `valid_tunes` if given, else `valid_fraction` of
    `tunes` held back (none when there are too few)."""
    from app.music.corpus import Corpus

    if valid_tunes is not None:
        return tunes, list(valid_tunes)
    train, valid = Corpus(tunes=tunes).split(valid_fraction)
    return (train, valid) if train else (valid, [])


def _warnings(train_text: str, valid_text: str, tune_count: int,
              base_vocab: Iterable[str] | None, summary: dict) -> list[str]:
    """What the person should know before training on this text; sets `summary`'s
    "new_characters" (with `base_vocab`) and "too_small"."""
    warnings = []
    if base_vocab is not None:
        new = sorted(set(train_text) - set(base_vocab))
        summary["new_characters"] = "".join(new)
        if new:
            warnings.append(f"{len(new)} characters are new to the model ({''.join(new)[:30]!r}); "
                            "its vocabulary will grow")
    if len(train_text) < MIN_TRAIN_CHARS:
        warnings.append(f"only {len(train_text):,} characters: too little to learn much from "
                        f"(aim for {MIN_TRAIN_CHARS:,} or more); the model will mostly memorise")
    if tune_count < MIN_TUNES:
        warnings.append(f"only {tune_count} tunes: too few to learn from (aim for {MIN_TUNES} "
                        "or more)")
    if not valid_text:
        warnings.append("too few tunes to hold some back, so there is no validation loss")
    summary["too_small"] = len(train_text) < MIN_TRAIN_CHARS or tune_count < MIN_TUNES
    return warnings


def _model_extra(train: Sequence, text: TextOptions, transpose: int,
                 transpose_keys: Sequence[str]) -> dict:
    """What the model file keeps about the text: options, styles, training-title digests."""
    from collections import Counter

    from app.music.styles import style_of

    extra: dict = {"text": text.to_dict(),
                   "transpose": list(transpose_keys) or transpose}
    if text.styles:
        styles = Counter(style_of(t) for t in train)
        styles.pop("", None)
        extra["styles"] = dict(sorted(styles.items()))
    if text.titles:
        digests = sorted({title_digest(t.title) for t in train if t.title})
        extra["title_digests"] = "".join(digests[:MAX_TITLES])
    return extra


def training_data_from_sources(sources: Sequence[str], abcs: Sequence[str] = (),
                               name: str | None = None, *, base_model: str | None = None,
                               valid_sources: Sequence[str] | None = None,
                               valid_fraction: float = 0.1, seq_len: int = 0,
                               on_problem: Callable[[MusicError, bool], None] | None = None,
                               text: TextOptions = TextOptions(), transpose: int = 0,
                               transpose_keys: Sequence[str] = ()) -> TrainingData:
    """Read tunes from files, folders and built-in corpora (`sources`) and ABC texts (`abcs`),
    then prepare them as `prepare_training_data` does.

    `name` defaults to the corpus's (its sources' names); `valid_sources` give the validation
    tunes apart; `base_model` is a model file to fine-tune, whose vocabulary the summary compares
    with; `text`, `transpose` and `transpose_keys` are as for `prepare_training_data`. Each
    broken tune or file skipped goes to `on_problem(problem, in_validation_data)`.
    Raises MusicError when a source named is bad or holds no tune, ModelError when `base_model`
    is not a Ceol model.
    """
    from app.music.corpus import Corpus, load_corpus
    from app.music.tunebook import parse_tune_book

    corpus = load_corpus(sources) if sources else Corpus()
    for abc in abcs:
        corpus.tunes.extend(parse_tune_book(abc).tunes)
    for problem in corpus.problems if on_problem is not None else ():
        on_problem(problem, False)
    valid_tunes = None
    if valid_sources:
        valid = load_corpus(valid_sources)
        for problem in valid.problems if on_problem is not None else ():
            on_problem(problem, True)
        valid_tunes = valid.tunes
        if not valid_tunes:
            raise MusicError(f"no tunes in the validation data {' '.join(valid_sources)}")
    base_vocab = base_vocabulary(base_model) if base_model else None
    return prepare_training_data(corpus.tunes, corpus.name if name is None else name,
                                 valid_tunes=valid_tunes, valid_fraction=valid_fraction,
                                 base_vocab=base_vocab, seq_len=seq_len, text=text,
                                 transpose=transpose, transpose_keys=transpose_keys)


def base_vocabulary(model_path: str) -> list[str]:
    """Return the vocabulary of a model file (read from its header, without torch)."""
    from model.checkpoint_meta import read_metadata
    from model.errors import ModelError

    meta = read_metadata(model_path)
    if "vocab" not in meta:
        raise ModelError(f"{model_path}: not a Ceol model file (no vocabulary)")
    return list(meta["vocab"])
