"""The kernel choices the app remembers: where they live, what they are, measuring them again.

model/kernel_choice.py measures the sampling and training arithmetic (fp32, bf16, int8) and
thread count on first use of a model shape; this service gives it a file in the user's data
folder (`kernels.json`; $CEOL_DATA_DIR for a sandbox, as for the window's files) so the choice
outlives the process, and lists or re-measures the choices for `python main.py kernels`.
torch is imported only by `measure`.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

from model import kernel_choice

KERNELS_FILE = "kernels.json"
SAMPLE_COUNTS = (1, 8)   # one variation and a batch: the two shapes the app samples most


def kernels_file() -> Path:
    """Return the file that remembers the choices (in the user's data folder)."""
    override = os.environ.get("CEOL_DATA_DIR")
    if override:
        return Path(override) / KERNELS_FILE
    import platformdirs

    return Path(platformdirs.user_data_dir("ceol")) / KERNELS_FILE


def remember_kernels(path: str | Path | None = None) -> kernel_choice.KernelStore:
    """Make this process remember its kernel choices in `path` (default: `kernels_file()`)."""
    return kernel_choice.remember_in(path if path is not None else kernels_file())


def remembered() -> list[dict]:
    """Return the remembered choices, one dict each: key, kernel, threads, seconds, load."""
    store = kernel_choice.default_store()
    return [dict(key=key, **asdict(choice)) for key, choice in sorted(store.entries().items())]


def measure(model_path: str | None = None, preset: str | None = None,
            counts: tuple[int, ...] = SAMPLE_COUNTS, train: bool = True) -> list[dict]:
    """Measure the kernels again for a model file (default: the default model) or a preset's
    shape (random weights): sampling `counts` variations, and training on its windows and
    batch. Return the choices made, as `remembered` gives them. ModelError for a bad model."""
    import torch

    from model.checkpoint import load_model
    from model.config import TrainConfig
    from model.config import preset as get_preset
    from model.device import training_kernels
    from model.lm import MusicLM
    from model.lstm_step import sampling_choice
    from model.paths import default_model_path

    if preset:
        chosen = get_preset(preset)
        model, train_config = MusicLM(chosen.model, 96), chosen.train
    else:
        loaded = load_model(model_path or default_model_path())
        model, train_config = loaded.model, loaded.train_config or TrainConfig()
    store = kernel_choice.default_store()
    store.measure_again = True
    model = model.to("cpu")
    threads = torch.get_num_threads()
    try:
        for count in counts:
            sampling_choice(model.eval(), count)
        if train:
            vocab = model.head.weight.shape[0]
            ids = torch.randint(1, vocab, (train_config.batch_size * train_config.seq_len * 4,))
            training_kernels(model.train(), ids, precision="auto", threads=0,
                             batch_size=train_config.batch_size, seq_len=train_config.seq_len,
                             device=torch.device("cpu"))
    finally:
        store.measure_again = False
        torch.set_num_threads(threads)
    return [dict(key=key, **asdict(choice)) for key, choice in sorted(store.measured_now().items())]
