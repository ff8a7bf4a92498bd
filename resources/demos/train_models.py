"""Train and write the bundled demo models: `python resources/demos/train_models.py`.

For each demo, one recurrent network per cell (lstm, gru, rnn_tanh, rnn_relu) and the baseline,
trained with the panel's defaults on the bundled demo set, go to resources/models/demos/ as
demo-<task>-<cell>.safetensors and demo-<task>-<baseline>.safetensors.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.demos import CELL_NAMES, TASKS, held_out_accuracy, save_pair, train_demo  # noqa: E402
from model.demo_train import DemoTrainConfig  # noqa: E402


def main() -> None:
    for task in TASKS:
        for cell in CELL_NAMES:
            trained = train_demo(task, cell, config=DemoTrainConfig(max_seconds=600))
            written = save_pair(trained.pair)
            accuracy = held_out_accuracy(trained)
            print(f"{task} {cell}: {trained.summary['seconds']} s, held-out accuracy "
                  f"{accuracy[0]:.3f} (baseline {accuracy[1]:.3f}) -> "
                  f"{', '.join(p.name for p in written)}")


if __name__ == "__main__":
    main()
