"""Name the code behind the soak's memory growth, from its tracemalloc snapshots.

`benchmarks/soak.py --trace-memory-from-round N` starts tracemalloc before round N and dumps
what is still allocated after each later round (`memory-rK.snapshot`). Everything in a snapshot
was allocated after tracing began and was still alive after a settle and a full collection, so
the difference between two snapshots is what the later rounds kept: this prints it grouped by
the allocating stack, largest first.

    python benchmarks/memory_growth.py OUT/memory-r3.snapshot OUT/memory-r5.snapshot
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--frames", type=int, default=8)
    args = parser.parse_args(argv)
    before = tracemalloc.Snapshot.load(args.before)
    after = tracemalloc.Snapshot.load(args.after)
    total_before = sum(s.size for s in before.statistics("filename"))
    total_after = sum(s.size for s in after.statistics("filename"))
    print(f"traced: {total_before / 2**20:.1f} MiB -> {total_after / 2**20:.1f} MiB "
          f"({(total_after - total_before) / 2**20:+.1f} MiB)\n")
    print("by file:")
    for stat in after.compare_to(before, "filename")[:args.top]:
        print(f"  {stat.size_diff / 2**20:+8.2f} MiB {stat.count_diff:+9d} blocks  "
              f"{stat.traceback[0].filename}")
    print("\nby stack:")
    for stat in after.compare_to(before, "traceback")[:args.top]:
        print(f"{stat.size_diff / 2**20:+8.2f} MiB {stat.count_diff:+9d} blocks "
              f"(now {stat.size / 2**20:.2f} MiB)")
        for line in stat.traceback.format(limit=args.frames, most_recent_first=True):
            print("    " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
