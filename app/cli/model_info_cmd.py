"""`python main.py model-info`: describe a model file from its metadata, without torch.

The header is read by `model.checkpoint_meta.read_metadata` (the loader's own checks and
limits; nothing in the file is executed) and printed as a short summary or as JSON.
"""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    """Add the `model-info` command."""
    p = subparsers.add_parser("model-info", help="describe a model file",
                              description="Print a model file's configs, vocabulary size and "
                              "training summary (read from its metadata; nothing is executed).")
    p.add_argument("model", metavar="MODEL", help="a .safetensors model file")
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")
    p.set_defaults(func=run_model_info)


def run_model_info(args: argparse.Namespace) -> int:
    """Print a model file's metadata (without loading torch)."""
    from model.checkpoint_meta import read_metadata

    meta = read_metadata(args.model)
    if args.json:
        meta = dict(meta, resume=bool(meta.get("resume")))
        print(json.dumps(meta, ensure_ascii=False))
        return 0
    m, t, s = meta["model_config"], meta.get("train_config") or {}, meta.get("training") or {}
    lines = [f"{args.model}",
             f"  model: {m.get('cell')} {m.get('num_layers')}x{m.get('hidden_size')}, "
             f"embedding {m.get('embedding_size')}, dropout {m.get('dropout')}",
             f"  vocabulary: {len(meta['vocab'])} characters (index 0 = unknown)"]
    if t:
        lines.append(f"  training: windows {t.get('seq_len')}, batch {t.get('batch_size')}, "
                     f"{t.get('optimizer')} lr {t.get('learning_rate')}, seed {t.get('seed')}")
    if s:
        bpc = s.get("val_bits_per_char")
        lines.append(f"  corpus: {s.get('corpus') or '?'}, {s.get('tune_count', 0)} tunes, "
                     f"{s.get('train_chars', 0):,} characters")
        lines.append(f"  steps: {s.get('steps')}, train loss {s.get('train_loss')}, "
                     f"validation {bpc if bpc is not None else '?'} bits/char, "
                     f"date {s.get('date', '?')}")
        if s.get("fine_tuned_from"):
            lines.append(f"  fine-tuned from: {s['fine_tuned_from']}")
    if meta.get("resume"):
        lines.append("  resumable checkpoint (optimiser state included)")
    print("\n".join(lines))
    return 0
