#!/usr/bin/env python3
"""What the reduce costs: the size of a summary against the classes and dependencies it
holds, and the time of `pgtrace merge`, on the kernel workload of
benchmarks/generate-graph.py at a few sizes (the figures of README.md and docs/fleet.md).

    measure.py --pgtrace PATH [--sizes 400,2000,8000] [--workdir DIR]

For each size C: two traces of one kernel (classes=C, deps=5*C, graph=1; seeds 1 and 2,
250*C events each), each summarized, the two merged. Prints, per size, the classes and
dependencies the merged summary reports, its bytes and their split by line kind (class
lines with their names, dependency facts, usage facts, the moments facts refer to), bytes
per class and per dependency, and the times of summarize, merge and an analyze of the
merged summary. Then, at the first size, how a summary grows with the traces it holds:
1, 4, 16 and 64 traces of that kernel at 3000 events.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

GENERATOR = Path(__file__).resolve().parents[2] / "benchmarks" / "generate-graph.py"


def timed(command, cwd):
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def generate(classes, events, seed, path):
    with open(path, "wb") as out:
        subprocess.run([sys.executable, str(GENERATOR), "kernel", str(events), "--seed", str(seed),
                        "--param", f"classes={classes}", "--param", f"deps={5 * classes}",
                        "--param", "graph=1"], stdout=out, check=True)


def kinds(summary):
    """Bytes of a summary by line kind."""
    sizes = Counter()
    with open(summary, "rb") as lines:
        for line in lines:
            record = json.loads(line)
            if "fact" in record:
                kind = {"dependency": "dependencies", "usage": "usage", "used": "usage"}.get(record["fact"], record["fact"])
            elif "held" in record:
                kind = "moments"
            elif "class" in record or "sym" in record or "declaration" in record:
                kind = "classes and names"
            else:
                kind = "header, traces, end"
            sizes[kind] += len(line)
    return sizes


def graph(pgtrace, summary, cwd):
    report = subprocess.run([pgtrace, "analyze", "--format", "json", summary], cwd=cwd, capture_output=True)
    if report.returncode not in (0, 1):
        sys.exit(report.stderr.decode())
    found = json.loads(report.stdout)["graph"]
    return len(found["classes"]), len(found["dependencies"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pgtrace", required=True)
    parser.add_argument("--sizes", default="400,2000,8000")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    pgtrace = os.path.abspath(args.pgtrace)
    work = args.workdir or tempfile.mkdtemp(prefix="pgtrace-measure-")
    os.makedirs(work, exist_ok=True)
    sizes = [int(size) for size in args.sizes.split(",")]

    print("| kernel classes | events a trace | classes | dependencies | merged summary | classes and names "
          "| dependency facts | usage facts | moments | B/class | B/dependency | summarize (1 trace) "
          "| merge (2) | analyze merged |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        events = 250 * size
        for seed in (1, 2):
            trace = os.path.join(work, f"k{size}-s{seed}.xml")
            if not os.path.exists(trace):
                generate(size, events, seed, trace)
        summarize = timed([pgtrace, "summarize", f"k{size}-s1.xml", "-o", f"k{size}-s1.sum"], work)
        timed([pgtrace, "summarize", f"k{size}-s2.xml", "-o", f"k{size}-s2.sum"], work)
        merge = timed([pgtrace, "merge", f"k{size}-s1.sum", f"k{size}-s2.sum", "-o", f"k{size}.sum"], work)
        analyze = timed([pgtrace, "analyze", f"k{size}.sum"], work)
        classes, dependencies = graph(pgtrace, f"k{size}.sum", work)
        split = kinds(os.path.join(work, f"k{size}.sum"))
        total = sum(split.values())
        print(f"| {size} | {events:,} | {classes:,} | {dependencies:,} | {total:,} B "
              f"| {split['classes and names']:,} | {split['dependencies']:,} | {split['usage']:,} "
              f"| {split['moments']:,} | {split['classes and names'] / classes:.0f} "
              f"| {split['dependencies'] / dependencies:.0f} | {summarize:.2f} s | {merge:.2f} s | {analyze:.2f} s |")

    size = sizes[0]
    print()
    print(f"| traces of kernel classes={size}, 3000 events | summary | dependencies | summarize |")
    print("|---:|---:|---:|---:|")
    names = []
    for count in (1, 4, 16, 64):
        while len(names) < count:
            seed = len(names) + 1
            name = f"small-{size}-{seed:03d}.xml"
            path = os.path.join(work, name)
            if not os.path.exists(path):
                generate(size, 3000, seed, path)
            names.append(name)
        seconds = timed([pgtrace, "summarize", *names, "-o", f"small-{count}.sum"], work)
        _, dependencies = graph(pgtrace, f"small-{count}.sum", work)
        print(f"| {count} | {os.path.getsize(os.path.join(work, f'small-{count}.sum')):,} B | {dependencies:,} "
              f"| {seconds:.2f} s |")


if __name__ == "__main__":
    main()
