"""Kernels chosen by measuring: the fastest candidate wins, the choice is remembered per CPU,
torch, cores and shape, re-measured when any of them changes or the machine got much quieter,
and a broken file costs a warning, never a crash. A fake clock makes the timings exact."""

import json
import logging

import pytest
import torch

from model import kernel_choice
from model.config import ModelConfig, SampleConfig
from model.device import training_kernels
from model.fused_cell import split
from model.kernel_choice import KernelStore, measure
from model.lm import MusicLM
from model.lstm_step import sampling_choice, sampling_threads, weights_mode

COSTS = {("fp32", 1): 5.0, ("fp32", 2): 3.0, ("int8", 1): 2.0, ("int8", 2): 4.0,
         ("bf16", 1): 9.0, ("bf16", 2): 400.0}


class FakeClock:
    """A clock that moves only when a candidate runs: by its cost for the threads set."""

    def __init__(self, costs=COSTS):
        self.now, self.costs, self.runs = 0.0, costs, []

    def __call__(self) -> float:
        return self.now

    def prepare(self, kernel):
        self.runs.append(("prepare", kernel))

        def run():
            pair = (kernel, torch.get_num_threads())
            self.runs.append(pair)
            self.now += self.costs[pair]
        return run


def store_at(path, clock, load=0.1):
    return KernelStore(path, timer=clock, load=lambda: load, budget=1e9)


def choose(store, clock, shape="lstm 1x1024 batch 1"):
    return store.choose("sample", shape, clock.prepare, ["fp32", "int8", "bf16"], [1, 2])


def measure_once(path):
    clock = FakeClock()
    return choose(store_at(path, clock), clock)


def test_the_fastest_candidate_wins_and_threads_are_put_back(tmp_path):
    clock = FakeClock()
    threads = torch.get_num_threads()
    choice = choose(store_at(tmp_path / "k.json", clock), clock)
    assert (choice.kernel, choice.threads) == ("int8", 1)
    assert choice.seconds["fp32@2"] == 3.0 and choice.seconds["int8@1"] == 2.0
    assert torch.get_num_threads() == threads


def test_far_slower_candidates_are_dropped_after_one_pass():
    clock = FakeClock()
    best = measure(clock.prepare, ["fp32", "int8", "bf16"], [1, 2], timer=clock, budget=1e9)
    assert clock.runs.count(("bf16", 2)) == 1      # 400 s: over 4x the best, never again
    assert clock.runs.count(("int8", 1)) >= 3       # warm-up + every round
    assert best[("bf16", 2)] == 400.0


def test_the_choice_is_remembered_in_the_file(tmp_path):
    path = tmp_path / "k.json"
    measure_once(path)
    again = FakeClock({pair: 1.0 for pair in COSTS})     # a second process: all alike now
    choice = choose(store_at(path, again), again)
    assert (choice.kernel, choice.threads) == ("int8", 1)
    assert again.runs == []                               # nothing measured
    saved = json.loads(path.read_text())
    assert saved["version"] == kernel_choice.FILE_VERSION and len(saved["entries"]) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["k.json"]   # no temporary file left


@pytest.mark.parametrize("change", ["shape", "cpu", "torch", "cores"])
def test_a_new_cpu_torch_cores_or_shape_is_measured_again(tmp_path, monkeypatch, change):
    path = tmp_path / "k.json"
    measure_once(path)
    shape = "lstm 1x1024 batch 1"
    if change == "shape":
        shape = "lstm 2x512 batch 8"
    elif change == "cpu":
        monkeypatch.setattr(kernel_choice, "cpu_model", lambda: "AMD EPYC 9B14")
    elif change == "torch":
        monkeypatch.setattr(torch, "__version__", "9.9.9")
    else:
        monkeypatch.setattr(kernel_choice, "usable_cores", lambda: 64)
    clock = FakeClock({**COSTS, ("bf16", 1): 0.5})
    choice = choose(store_at(path, clock), clock, shape)
    assert choice.kernel == "bf16" and clock.runs
    assert len(json.loads(path.read_text())["entries"]) == 2   # the old machine's row stays


@pytest.mark.parametrize("content", ["{not json", "[]", '{"version": 99, "entries": {}}',
                                     '{"version": 1, "entries": {"k": {"threads": 1}}}'])
def test_a_broken_file_is_ignored_with_a_warning(tmp_path, caplog, content):
    path = tmp_path / "k.json"
    path.write_text(content)
    clock = FakeClock()
    with caplog.at_level(logging.WARNING, logger="model.kernel_choice"):
        choice = choose(store_at(path, clock), clock)
    assert choice.kernel == "int8"
    assert "unreadable" in caplog.text
    assert json.loads(path.read_text())["version"] == kernel_choice.FILE_VERSION  # rewritten


def test_a_file_that_cannot_be_written_costs_a_warning(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    clock = FakeClock()
    with caplog.at_level(logging.WARNING, logger="model.kernel_choice"):
        choice = choose(store_at(blocker / "k.json", clock), clock)
    assert choice.kernel == "int8" and "cannot remember" in caplog.text


def test_a_choice_made_on_a_busy_machine_is_measured_again_when_quiet(tmp_path):
    path = tmp_path / "k.json"
    busy = FakeClock({**COSTS, ("fp32", 1): 1.0})
    assert choose(store_at(path, busy, load=3.0), busy).kernel == "fp32"
    still_busy = FakeClock()
    assert choose(store_at(path, still_busy, load=2.0), still_busy).kernel == "fp32"
    assert still_busy.runs == []
    quiet = FakeClock()
    assert choose(store_at(path, quiet, load=0.5), quiet).kernel == "int8"
    assert quiet.runs


def test_a_choice_made_on_a_quiet_machine_is_measured_again_when_busy(tmp_path):
    path = tmp_path / "k.json"
    measure_once(path)                                   # at load 0.1
    calm = FakeClock()
    choose(store_at(path, calm, load=0.9), calm)
    assert calm.runs == []                               # under one per core: kept
    busy = FakeClock({**COSTS, ("bf16", 1): 0.1})
    assert choose(store_at(path, busy, load=2.5), busy).kernel == "bf16"


def test_measure_again_and_forget(tmp_path):
    path = tmp_path / "k.json"
    measure_once(path)
    clock = FakeClock({**COSTS, ("fp32", 2): 0.1})
    store = store_at(path, clock)
    store.measure_again = True
    assert choose(store, clock).kernel == "fp32"
    assert list(store.measured_now()) == [store.key("sample", "lstm 1x1024 batch 1")]
    store.forget()
    assert not path.exists() and store.entries() == {}


def remembered(monkeypatch, tmp_path, task, shape, kernel, threads):
    """Make the process's store one whose file already holds this choice."""
    store = KernelStore(tmp_path / "k.json", load=lambda: 0.0)
    entry = {"kernel": kernel, "threads": threads, "seconds": {}, "load_per_core": 0.0,
             "measured_at": "2026-11-28T00:00:00Z"}
    store.path.write_text(json.dumps({"version": kernel_choice.FILE_VERSION,
                                      "entries": {store.key(task, shape): entry}}))
    monkeypatch.setattr(kernel_choice, "_store", store)
    return store


@pytest.mark.parametrize("kernel,threads", [("bf16", 1), ("int8dyn", 2), ("fp32", 1)])
def test_auto_sampling_follows_the_remembered_choice(tmp_path, monkeypatch, kernel, threads):
    wide = MusicLM(ModelConfig(embedding_size=8, hidden_size=256, num_layers=1), 20)
    remembered(monkeypatch, tmp_path, "sample",
               "lstm 1x256 batch 4", kernel, threads)
    config = SampleConfig(count=3)                # measured as a batch of 4
    assert weights_mode(wide, config) == kernel
    assert sampling_threads(wide, config) == threads
    assert weights_mode(wide, SampleConfig(count=3, quantize="off")) == "fp32"


def test_auto_sampling_measures_a_new_shape_once(tmp_path, monkeypatch):
    store = KernelStore(tmp_path / "k.json", budget=0.0)
    monkeypatch.setattr(kernel_choice, "_store", store)
    wide = MusicLM(ModelConfig(embedding_size=8, hidden_size=256, num_layers=1), 20)
    choice = sampling_choice(wide, 1)
    assert split(choice.kernel)[0] in ("fp32", "bf16", "int8", "int8dyn")   # fused or not
    assert set(choice.seconds) >= {"fp32@1", "bf16@1"}
    assert sampling_choice(wide, 1) is choice
    small = MusicLM(ModelConfig(embedding_size=8, hidden_size=32, num_layers=1), 20)
    assert sampling_choice(small, 1) is None and weights_mode(small, SampleConfig()) == "fp32"


def test_auto_training_follows_the_choice_and_leaves_the_model_alone(tmp_path, monkeypatch):
    torch.manual_seed(0)
    model = MusicLM(ModelConfig(embedding_size=8, hidden_size=32, num_layers=1), 20)
    weights = [p.detach().clone() for p in model.parameters()]
    ids = torch.randint(1, 20, (400,))
    store = KernelStore(tmp_path / "k.json", budget=0.0)
    monkeypatch.setattr(kernel_choice, "_store", store)
    cpu = torch.device("cpu")
    rng = torch.get_rng_state()
    dtype = training_kernels(model, ids, precision="auto", threads=0, batch_size=4,
                             seq_len=50, device=cpu)
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters()))
    assert all(p.grad is None for p in model.parameters())
    (key, choice), = store.entries().items()
    assert "window 16 of 50" in key and set(choice.seconds) >= {"fp32@1", "bf16@1"}
    assert dtype == (torch.bfloat16 if choice.kernel == "bf16" else None)
    assert torch.get_num_threads() == choice.threads
    # explicit settings are kept, without measuring
    assert training_kernels(model, ids, precision="fp32", threads=1, batch_size=4, seq_len=50,
                            device=cpu) is None
    assert training_kernels(model, ids, precision="bf16", threads=1, batch_size=4, seq_len=50,
                            device=cpu) is torch.bfloat16
    assert len(store.entries()) == 1


class FixedStore:
    """A store whose every choice is given: what training must then use."""

    def __init__(self, kernel, threads):
        self.choice, self.asked = kernel_choice.KernelChoice(kernel, threads), []

    def choose(self, task, shape, prepare, kernels, threads):
        self.asked.append((task, shape, kernels, threads))
        return self.choice


@pytest.mark.parametrize("kernel", ["bf16", "fp32"])
def test_training_on_auto_runs_what_was_chosen(corpus_texts, monkeypatch, kernel):
    from dataclasses import replace

    from model.config import TINY
    from model.train import train

    store = FixedStore(kernel, 1)
    monkeypatch.setattr(kernel_choice, "_store", store)
    config = replace(TINY.train, steps=3, precision="auto", threads=0, device="cpu")
    result = train(config, corpus_texts, model_config=TINY.model)
    assert result.summary["precision"] == kernel and result.summary["threads"] == 1
    ((task, shape, kernels, _),) = store.asked
    assert task == "train" and kernels == ["fp32", "bf16"] and "lstm 1x32" in shape
    store.asked.clear()
    result = train(replace(config, precision="fp32", threads=1), corpus_texts,
                   model_config=TINY.model)
    assert result.summary["precision"] == "fp32" and store.asked == []   # explicit: as asked
