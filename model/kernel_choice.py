"""Choosing kernels by measuring them on this machine, and remembering the choice.

Which arithmetic is fastest (fp32, bf16, int8 recurrent weights while sampling; fp32 or bf16
autocast while training) and on how many threads depends on the CPU, the torch build, the
model's shape and the machine's load; flags in /proc/cpuinfo do not tell (bf16 autocast halved
the `lab` model's training speed on an AMD EPYC and made a training pass 1.3-1.5x faster on an
Intel Xeon with AMX). So the first use of a shape times every candidate on the real model for a
moment (interleaved rounds, the minimum of several), picks the fastest and remembers it in a
small JSON file keyed by the CPU model, the torch version, the cores and the shape. A new CPU,
torch or shape is measured afresh; so is a choice measured on a busy machine once it is much
quieter, or the other way round (a thread pool waiting for a busy core can be 10x slower than
one thread). The file's path is given by the caller (the app keeps it in the user's data
folder); without one, choices live for the process.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import platform
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

FILE_VERSION = 1
BUDGET_SECONDS = 1.0     # a measurement stops starting rounds after this long
MIN_ROUNDS, MAX_ROUNDS = 2, 12
SLOW_FACTOR = 4.0        # candidates this much slower than the best are dropped early
# A choice is measured again when the load per core then or now is above this and the other
# is under half of it: a busy machine favours fewer threads than a quiet one.
BUSY_LOAD_PER_CORE = 1.0


@dataclass(frozen=True)
class KernelChoice:
    """The fastest candidate found for one task and shape, and what every candidate took."""

    kernel: str                    # sampling: fp32, bf16, int8, int8dyn; training: fp32, bf16
    threads: int                   # torch intra-op threads
    seconds: dict[str, float] = field(default_factory=dict)  # "kernel@threads" -> best time
    load_per_core: float = 0.0     # the 1-minute load average per core when measured
    measured_at: str = ""          # UTC, ISO 8601

    @classmethod
    def from_json(cls, value: dict) -> "KernelChoice":
        seconds = {str(k): float(v) for k, v in dict(value.get("seconds", {})).items()}
        return cls(str(value["kernel"]), int(value["threads"]), seconds,
                   float(value.get("load_per_core", 0.0)), str(value.get("measured_at", "")))


Prepare = Callable[[str], Callable[[], None]]
Kernels = list[str] | Callable[[], list[str]]   # the candidates, or how to list them


def cpuinfo_value(field_name: str) -> str | None:
    """Return the value of the first `field_name` line of /proc/cpuinfo (None where absent)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(field_name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


@functools.cache
def cpu_model() -> str:
    """Return the CPU's model name as the OS reports it ("unknown" if it does not)."""
    return (cpuinfo_value("model name") or platform.processor() or platform.machine()
            or "unknown")


def usable_cores() -> int:
    """Return the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def load_per_core() -> float:
    """Return the 1-minute load average per usable core (0 where the OS has none)."""
    try:
        return os.getloadavg()[0] / usable_cores()
    except (AttributeError, OSError):
        return 0.0


def thread_candidates(most: int) -> list[int]:
    """Return the thread counts worth timing: 1, 2, 4, ... up to min(most, cores)."""
    top = max(1, min(most, usable_cores()))
    counts, n = [], 1
    while n < top:
        counts.append(n)
        n *= 2
    return counts + [top]


def machine_key() -> str:
    """Return the part of every key that names this machine and torch build."""
    import torch

    return f"{cpu_model()} | torch {torch.__version__} | {usable_cores()} cores"


def measure(prepare: Prepare, kernels: list[str], threads: list[int], *,
            timer: Callable[[], float] = time.perf_counter,
            budget: float = BUDGET_SECONDS) -> dict[tuple[str, int], float]:
    """Time every (kernel, threads) pair; return the best seconds of each.

    `prepare(kernel)` builds the kernel's weights once and returns a function that runs one
    timed pass. Rounds are interleaved (every pair once per round), so a burst of load hurts
    all pairs alike; the first round runs each pair once untimed before timing it. A pair whose
    pass took over SLOW_FACTOR times the best so far is not run again (a thread pool waiting
    for a busy core can take 100x longer). At least MIN_ROUNDS rounds, then more while the
    time spent stays under `budget` seconds. The caller's thread count is put back.
    """
    import torch   # here, so the app can name the file without loading torch

    runs = {kernel: prepare(kernel) for kernel in kernels}
    best: dict[tuple[str, int], float] = {}
    saved, start = torch.get_num_threads(), timer()
    try:
        for round_ in range(MAX_ROUNDS):
            if round_ >= MIN_ROUNDS and timer() - start > budget:
                break
            fastest = min(best.values(), default=float("inf"))
            for kernel, run in runs.items():
                for n in threads:
                    if best.get((kernel, n), 0.0) > SLOW_FACTOR * fastest:
                        continue
                    torch.set_num_threads(n)
                    took = _timed(run, timer)
                    if round_ == 0 and took <= SLOW_FACTOR * fastest:
                        took = _timed(run, timer)   # the first pass warmed caches up
                    best[(kernel, n)] = min(best.get((kernel, n), float("inf")), took)
                    fastest = min(fastest, took)
    finally:
        torch.set_num_threads(saved)
    return best


def _timed(run: Callable[[], None], timer: Callable[[], float]) -> float:
    t0 = timer()
    run()
    return timer() - t0


class KernelStore:
    """Remembered choices: in memory for the process, and in `path` (JSON) when one is given.

    `timer` and `load` are injectable so tests measure without real time. While
    `measure_again` is set, every choice asked for is measured afresh (once per process).
    """

    def __init__(self, path: str | Path | None = None, *,
                 timer: Callable[[], float] = time.perf_counter,
                 load: Callable[[], float] = load_per_core,
                 budget: float | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.timer, self.load = timer, load
        self.budget = BUDGET_SECONDS if budget is None else budget
        self._memory: dict[str, KernelChoice] = {}
        self._fresh: set[str] = set()     # keys measured by this process
        self.measure_again = False
        # One measurement at a time: two at once (the window's warm-up and a Generate) would
        # time each other, and threads are set for the whole process.
        self._lock = threading.RLock()

    def key(self, task: str, shape: str) -> str:
        return f"{machine_key()} | {task} | {shape}"

    def choose(self, task: str, shape: str, prepare: Prepare, kernels: Kernels,
               threads: list[int]) -> KernelChoice:
        """Return the remembered choice for this task and shape, measuring it if there is none
        (or if the machine's load changed much since, see BUSY_LOAD_PER_CORE). `kernels` may
        be a function giving the list, called only when measuring."""
        key = self.key(task, shape)
        with self._lock:
            choice = self._memory.get(key) or self.entries().get(key)
            if choice is not None and not self._stale(key, choice):
                self._memory[key] = choice
                return choice
            return self.remeasure(task, shape, prepare, kernels, threads)

    def remeasure(self, task: str, shape: str, prepare: Prepare, kernels: Kernels,
                  threads: list[int]) -> KernelChoice:
        """Measure the candidates now, remember the fastest and return it."""
        key = self.key(task, shape)
        kernels = kernels() if callable(kernels) else kernels
        load = self.load()
        with self._lock:
            timings = measure(prepare, kernels, threads, timer=self.timer, budget=self.budget)
        kernel, n = min(timings, key=lambda pair: (timings[pair], pair[1]))
        choice = KernelChoice(kernel, n, {f"{k}@{t}": round(s, 7) for (k, t), s
                                          in sorted(timings.items())}, round(load, 2),
                              time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        log.info("kernels for %s %s: %s on %d thread(s) (load %.2f per core)", task, shape,
                 kernel, n, load)
        self._memory[key] = choice
        self._fresh.add(key)
        self._save(key, choice)
        return choice

    def measured_now(self) -> dict[str, KernelChoice]:
        """Return the choices this process measured (rather than read)."""
        return {key: self._memory[key] for key in self._fresh}

    def _stale(self, key: str, choice: KernelChoice) -> bool:
        if key in self._fresh:
            return False
        if self.measure_again:
            return True
        high, low = sorted((self.load(), choice.load_per_core), reverse=True)
        return high > BUSY_LOAD_PER_CORE and low < high / 2

    def entries(self) -> dict[str, KernelChoice]:
        """Return every choice in the file (empty if there is none; a warning if unreadable)."""
        if self.path is None or not self.path.exists():
            return dict(self._memory)
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if raw.get("version") != FILE_VERSION:
                raise ValueError(f"version {raw.get('version')!r}, expected {FILE_VERSION}")
            return {str(k): KernelChoice.from_json(v) for k, v in raw["entries"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("%s: remembered kernel choices unreadable (%s); measuring again",
                        self.path, exc)
            return dict(self._memory)

    def forget(self) -> None:
        """Drop every remembered choice (memory and file)."""
        self._memory.clear()
        self._fresh.clear()
        if self.path is not None and self.path.exists():
            self.path.unlink()

    def _save(self, key: str, choice: KernelChoice) -> None:
        if self.path is None:
            return
        entries = {k: asdict(v) for k, v in self.entries().items()}
        entries[key] = asdict(choice)
        text = json.dumps({"version": FILE_VERSION, "entries": entries}, indent=1,
                          sort_keys=True)
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".kernels-",
                                       suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("%s: cannot remember kernel choices (%s)", self.path, exc)
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)


_store = KernelStore()


def default_store() -> KernelStore:
    """Return the process's store (the one "auto" settings consult)."""
    return _store


def remember_in(path: str | Path | None) -> KernelStore:
    """Make the process's store remember its choices in `path` (None: in memory only)."""
    global _store
    _store = KernelStore(path)
    return _store
