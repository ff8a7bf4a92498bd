"""Name what holds a stalled GUI thread, from outside the process (py-spy dump while it stalls).

A watchdog thread inside the window cannot see a stall caused by another thread that holds
the GIL in native code: the watchdog needs the GIL itself and wakes only after the holder lets
go. This sampler runs as its own process. The window's StallMonitor writes the time of each
20 ms tick and the current step's label to a small shared file (`publish_ticks`); when the
last tick is more than `--late-ms` old, the sampler runs `py-spy dump --native` on the window
and appends the dump, which marks the thread holding the GIL `(active+gil)`, to `--out`.
Repeated every `--every-ms` while the stall lasts. A benchmark tool: needs py-spy (pip
install py-spy) and permission to attach (root, or ptrace_scope 0); the app does not use it.

    python benchmarks/stall_sampler.py --pid PID --ticks TICKFILE --out dumps.txt
"""

from __future__ import annotations

import argparse
import mmap
import os
import struct
import subprocess
import sys
import time
from pathlib import Path


def read_tick(ticks: mmap.mmap) -> tuple[float, str]:
    (when,) = struct.unpack_from("d", ticks, 0)
    label = bytes(ticks[8:]).split(b"\0", 1)[0].decode("utf-8", "replace")
    return when, label


def thread_times() -> dict[tuple[int, int], tuple[str, str, int]]:
    """Every thread on the machine: (pid, tid) -> (name, state, CPU ticks used so far)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/task/[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        found[(int(stat.parts[2]), int(stat.parts[4]))] = (name, fields[0],
                                                           int(fields[11]) + int(fields[12]))
    return found


def schedstat(pid: int) -> tuple[int, int]:
    """The GUI thread's time on a CPU and time waiting for one (runnable), in ns."""
    try:
        run, wait, _ = (Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split())
    except (OSError, ValueError):
        return 0, 0
    return int(run), int(wait)


def gui_state(pid: int) -> str:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/stat").read_text()
    except OSError:
        return "?"
    return text[text.rindex(")") + 2:].split()[0]


def busiest(before: dict, after: dict, n: int = 8) -> str:
    """The threads that used the most CPU between two thread_times(), as one line each."""
    used = []
    for key, (name, state, ticks) in after.items():
        delta = ticks - before.get(key, (name, state, 0))[2]   # new threads: all they used
        if delta > 0:
            used.append((delta, key, name, state))
    used.sort(reverse=True)
    hz = os.sysconf("SC_CLK_TCK")
    return "".join(f"    {1000 * d / hz:6.0f} ms  pid {k[0]} tid {k[1]} {name} ({state})\n"
                   for d, k, name, state in used[:n])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--ticks", required=True, help="the file StallMonitor.publish_ticks writes")
    parser.add_argument("--out", required=True)
    parser.add_argument("--late-ms", type=float, default=150.0)
    parser.add_argument("--every-ms", type=float, default=50.0)
    parser.add_argument("--native", action=argparse.BooleanOptionalAction, default=False,
                        help="stop the process once a stall for a dump with native stacks "
                             "(it lengthens that stall by the dump's 0.1-0.3 s)")
    args = parser.parse_args(argv)
    with open(args.ticks, "rb") as f:
        ticks = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    # --nonblocking: do not stop the process to read it (a blocking dump of the window took
    # 280 ms and lengthened the very stall it was looking at). py-spy reads native stacks only
    # from a stopped process, so one dump a stall (the third) stops it for those.
    quick = ["py-spy", "dump", "--nonblocking", "--pid", str(args.pid)]
    native = ["py-spy", "dump", "--native", "--pid", str(args.pid)]
    out = open(args.out, "a")
    stall_tick, last_dump, dumps = None, 0.0, 0
    while alive(args.pid):
        time.sleep(0.01)
        tick, label = read_tick(ticks)
        if tick == 0.0:
            continue
        now = time.monotonic()
        late = now - tick
        if stall_tick is not None and tick != stall_tick:
            run, wait = schedstat(args.pid)
            out.write(f"=== stall ended: {1000 * (tick - stall_tick):.0f} ms between ticks "
                      f"({dumps} dumps); GUI thread since the first dump: "
                      f"{(run - sched[0]) / 1e6:.0f} ms on a CPU, {(wait - sched[1]) / 1e6:.0f} "
                      f"ms runnable but waiting for one; CPU used meanwhile:\n"
                      + busiest(threads, thread_times()) + "\n")
            out.flush()
            stall_tick = None
        if late * 1000 < args.late_ms or now - last_dump < args.every_ms / 1000:
            continue
        state = gui_state(args.pid)
        if stall_tick is None:
            stall_tick, dumps = tick, 0
            sched, threads = schedstat(args.pid), thread_times()
        started = time.monotonic()
        command = native if args.native and dumps == 2 else quick
        result = subprocess.run(command, capture_output=True, text=True)
        last_dump = time.monotonic()
        dumps += 1
        took_ms = 1000 * (last_dump - started)
        out.write(f"=== {time.strftime('%H:%M:%S')} step {label!r}: tick {1000 * late:.0f} ms "
                  f"late, GUI thread state {state}, {command[2]} dump took {took_ms:.0f} ms\n")
        out.write(result.stdout + result.stderr)
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
