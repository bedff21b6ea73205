#!/usr/bin/env python3
"""Binaries compared in turn: runs two or more pgtrace binaries (`analyze --quiet`) over one trace,
round after round, the order turning each round, and prints each one's median wall time, CPU
time and peak RSS, and the median and quartiles of its wall time over the first binary's in
the same round.

    python3 benchmarks/pairs.py TRACE BEFORE AFTER [MORE...] [--rounds 20]

For changes of a few percent on a machine whose speed drifts by more than that from one
minute to the next (docs/performance.md, stop 58): a binary against a copy of itself, 30
rounds of the kernel trace at 1M events, came out at 1.001 at the median round while single
rounds ranged from 0.90 to 1.07 between their quartiles. Each run goes through
benchmarks/measure.c as run.py's do (compiled into benchmarks/out/ on first use); the
binaries are given built, as paths to files. Before each round benchmarks/core-trip.c
measures how far apart the host has put the cpus; when some rounds found them near and some
far, each binary's median wall time is printed for each kind apart.
"""
import argparse
import os
import statistics

import run

# Where this VM's round trips split (benchmarks/core-trip.c): some 70-100 ns or 350-400 ns.
FAR = 200


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trace")
    parser.add_argument("binaries", nargs="+", help="pgtrace binaries; the first is the one the others are measured against")
    parser.add_argument("--rounds", type=int, default=20, help="rounds of one run of each binary (default 20)")
    args = parser.parse_args()
    if len(args.binaries) < 2:
        parser.error("give two binaries or more")
    if args.rounds < 1:
        parser.error("--rounds must be 1 or more")
    # A bare name is a file here, not a program on PATH (which may be another pgtrace).
    for binary in args.binaries:
        if not os.path.isfile(binary):
            parser.error(f"no such file: {binary}")
    binaries = [os.path.abspath(binary) for binary in args.binaries]
    runs = {index: [] for index in range(len(binaries))}
    order = list(range(len(binaries)))
    trips = []  # the cores' round trip before each round (benchmarks/core-trip.c), ns or None
    for round_ in range(args.rounds):
        trips.append(run.core_trip())
        turn = round_ % len(order)
        for index in order[turn:] + order[:turn]:
            # As run.py and graphs.py run it: the text report, findings counted, not printed.
            measured = run.run_once([binaries[index], "analyze", "--quiet", args.trace])
            if measured.code not in (0, 1):
                raise SystemExit(f"{args.binaries[index]} failed ({measured.code}): {measured.stderr}")
            runs[index].append(measured)
    # Builds that disagree on whether the trace has findings are not the same program.
    codes = {measured.code for measured in sum(runs.values(), [])}
    if len(codes) > 1:
        raise SystemExit(f"the binaries' exit statuses differ ({sorted(codes)}): they do not analyse the trace alike")
    first = runs[0]
    print(f"{args.rounds} rounds of `analyze --quiet {os.path.basename(args.trace)}`")
    for index, binary in enumerate(args.binaries):
        measured = runs[index]
        ratios = [m.wall / f.wall for m, f in zip(measured, first)]
        quartiles = statistics.quantiles(ratios, n=4, method="inclusive") if len(ratios) > 1 else [ratios[0]] * 3
        print(f"{binary}: wall {statistics.median(m.wall for m in measured):.3f} s "
              f"(best {min(m.wall for m in measured):.3f}), CPU {statistics.median(m.cpu for m in measured):.3f} s, "
              f"peak RSS {statistics.median(m.rss for m in measured) / 1024:.1f} MB; "
              f"over the first: {statistics.median(ratios):.3f} ({quartiles[0]:.3f}-{quartiles[2]:.3f})")
    # The host places a VM's vCPUs close or far apart (some 80 or 370 ns here, stop 61): the
    # rounds of each, apart, where both came.
    known = [trip for trip in trips if trip is not None]
    if known and min(known) < FAR <= max(known):
        for name, near in (("near", True), ("far", False)):
            chosen = [index for index, trip in enumerate(trips) if trip is not None and (trip < FAR) == near]
            figures = ", ".join(
                f"{statistics.median(runs[index][r].wall for r in chosen):.3f} s" for index in range(len(binaries)))
            print(f"{len(chosen)} rounds with the cores {name} (round trip {'under' if near else 'of at least'} {FAR} ns): "
                  f"median wall {figures}")


if __name__ == "__main__":
    main()
