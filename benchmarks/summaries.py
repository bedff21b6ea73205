#!/usr/bin/env python3
"""pgtrace's summary benchmark (issue 15): for 10, 100 and 1,000 kernel-shaped traces (runs
of one kernel: benchmarks/generate-graph.py's `kernel` workload with one fixed graph,
`--param graph=1`, and one seed per trace for the walks), the cost of `pgtrace summarize` per
trace, the size of a trace's summary and of the merged summary, the cost of merging the N
summaries (one flat `merge` of all N, and a tree of merges of fan-in 10), and `analyze` of the
merged summary beside `analyze` of all N traces in one run (the baseline), whose JSON reports
must be identical byte for byte (the script fails if not; so must the flat and the tree's
merged summaries). Then the merged summary's bytes per class and per dependency, its bytes
by kind of line, and where the time of reading and writing a summary goes.

    python3 benchmarks/summaries.py            # N = 10, 100, 1000; 5,000 events a trace (~14 min)
    python3 benchmarks/summaries.py --quick    # N = 10, 100; 1,000 events a trace (~2 min)
    python3 benchmarks/summaries.py --counts 10,100 --events 20000

Builds the release binary as run.py does (--no-build: use .build/release/pgtrace). Traces
are generated (two at a time) and cached in benchmarks/out/ as graphs.py caches them
(graph-kernel-EVENTS-sSEED-graph=1-VERSION.xml); seeds 1..N, so a row's traces are the
first N of the next row's. Summaries, merges and reports go to benchmarks/out/summaries/,
made again on every run. Each trace is summarized once, measured; a row's summarize figures
are over its N traces. Merges and analyses are the best of --runs runs (default 3; a run
longer than 10 s is not repeated). Figures: wall time, CPU time (user + system: steadier
than wall time on a machine shared with other work) and peak RSS, each run from
benchmarks/measure.c (run.py's `run_once`).
"""
import argparse
import collections
import concurrent.futures
import filecmp
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no benchmarks/__pycache__ from importing graphs.py and run.py
import graphs  # noqa: E402  (benchmarks/graphs.py: trace(), the generator and its cache)
import run  # noqa: E402  (benchmarks/run.py: the shared paths, RELEASE_BUILD)

ROOT, OUT = run.ROOT, run.OUT
WORK = os.path.join(OUT, "summaries")
SHAPE = {"graph": 1}  # one kernel's graph for every trace: declarations agree across seeds
FAN_IN = 10
REPEAT_UNDER = 10.0  # seconds: a run longer than this is not repeated


class Failed(Exception):
    pass


def measure(command, runs=1, stdout=None, expect=(0,)):
    """Best (by wall time) of `runs` runs of `command`, one if a run takes over REPEAT_UNDER
    s; standard output to the file `stdout` (or nowhere). Fails on an exit not in `expect`.
    Each run is from benchmarks/measure.c (run.py's `run_once`): from this process, which
    reads whole summaries and reports, a run's peak RSS would start from its own. The
    fastest run's figures, but the median of the runs' peak RSS (`run.fastest`)."""
    measured_runs = []
    for _ in range(runs):
        out = open(stdout, "wb") if stdout else subprocess.DEVNULL
        try:
            measured = run.run_once(command, stdout=out)
        finally:
            if stdout:
                out.close()
        if measured.code not in expect:
            shown = " ".join(command[:4]) + (f" ... ({len(command)} arguments)" if len(command) > 4 else "")
            raise Failed(f"{shown}: exit {measured.code}: {measured.stderr.strip()[:1000]}")
        measured_runs.append(measured)
        if measured.wall > REPEAT_UNDER:
            break
    return run.fastest(measured_runs)


def traces(count, events):
    """Paths of the traces of seeds 1..count, generated two at a time when not cached."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda seed: graphs.trace("kernel", SHAPE, events, seed), range(1, count + 1)))


def check_together(pgtrace, paths):
    """Traces of two seeds must analyse together: pgtrace refuses (exit 2) a class declared
    with two types, which is what the kernel workload does across seeds without `graph`."""
    process = subprocess.run([pgtrace, "analyze", "--quiet", "--no-progress"] + paths[:2],
                             capture_output=True, text=True)
    if process.returncode not in (0, 1):
        raise Failed(f"traces of seeds 1 and 2 do not analyse together (exit {process.returncode}): "
                     f"{process.stderr.strip()[:500]}")


def merge(pgtrace, inputs, output, runs):
    return measure([pgtrace, "merge", "--no-progress", "-o", output] + inputs, runs)


def merge_tree(pgtrace, inputs, directory, runs):
    """Merges `inputs` in groups of FAN_IN, then the results in groups of FAN_IN, up to one
    summary; returns (its path, the number of merges, total wall, total CPU, the largest peak
    RSS). Each merge is measured as `merge` is (best of `runs`)."""
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    level, merges, wall, cpu, rss = 0, 0, 0.0, 0.0, 0
    while True:
        level += 1
        outputs = []
        for index in range(0, len(inputs), FAN_IN):
            output = os.path.join(directory, f"level{level}-{index // FAN_IN}.sum")
            result = merge(pgtrace, inputs[index:index + FAN_IN], output, runs)
            merges, wall, cpu, rss = merges + 1, wall + result.wall, cpu + result.cpu, max(rss, result.rss)
            outputs.append(output)
        inputs = outputs
        if len(inputs) == 1:
            return inputs[0], merges, wall, cpu, rss


def line_kind(line):
    """What a summary line is, by its distinguishing key (docs: SummaryLine)."""
    for key in ("pgtrace-summary", "end", "sym", "class", "declaration", "moment", "finding", "note"):
        if key in line:
            return key
    if "fact" in line:
        return "fact " + line["fact"]
    return "file" if "file" in line else "?"


def line_bytes(path):
    """Lines and bytes of a summary by kind of line: {kind: (lines, bytes)}."""
    lines, sizes = collections.Counter(), collections.Counter()
    with open(path, "rb") as summary:
        for text in summary:
            kind = line_kind(json.loads(text))
            lines[kind] += 1
            sizes[kind] += len(text)
    return {kind: (lines[kind], sizes[kind]) for kind in lines}


def graph_size(pgtrace, summary):
    """(classes, dependencies) of the graph `pgtrace graph --format json` shows of a summary."""
    output = subprocess.run([pgtrace, "graph", "--format", "json", "--no-progress", summary],
                            check=True, capture_output=True).stdout
    graph = json.loads(output)
    return len(graph["classes"]), len(graph["dependencies"])


def mb(kib):
    return f"{kib / 1024:.1f}"


def row(args, pgtrace, paths, summaries, summarized, count):
    """Merges and analyses of the first `count` traces; prints nothing, returns a dict."""
    paths, summaries, summarized = paths[:count], summaries[:count], summarized[:count]
    directory = os.path.join(WORK, f"n{count}")
    os.makedirs(directory, exist_ok=True)
    flat_path = os.path.join(directory, "merged.sum")
    flat = merge(pgtrace, summaries, flat_path, args.runs)
    tree_path, merges, tree_wall, tree_cpu, tree_rss = merge_tree(pgtrace, summaries, os.path.join(directory, "tree"),
                                                                  args.runs)
    if not filecmp.cmp(flat_path, tree_path, shallow=False):
        raise Failed(f"N={count}: the tree of merges ({tree_path}) and the flat merge ({flat_path}) differ")
    merged_report = os.path.join(directory, "merged.json")
    traces_report = os.path.join(directory, "traces.json")
    analyze = [pgtrace, "analyze", "--format", "json", "--no-progress"]
    of_merged = measure(analyze + [flat_path], args.runs, merged_report, expect=(0, 1))
    of_traces = measure(analyze + paths, args.runs, traces_report, expect=(0, 1))
    if not filecmp.cmp(merged_report, traces_report, shallow=False):
        raise Failed(f"N={count}: analyze of the merged summary ({merged_report}) and of the {count} traces "
                     f"({traces_report}) report differently")
    if of_merged.code != of_traces.code:
        raise Failed(f"N={count}: analyze exits {of_merged.code} on the merged summary, {of_traces.code} on the traces")
    with open(merged_report) as report:
        findings = len(json.load(report)["findings"])
    classes, dependencies = graph_size(pgtrace, flat_path)
    kinds = line_bytes(flat_path)
    return dict(count=count, summarized=summarized, flat=flat, merges=merges, tree_wall=tree_wall,
                tree_cpu=tree_cpu, tree_rss=tree_rss, merged=os.path.getsize(flat_path),
                merged_path=flat_path, lines=sum(lines for lines, _ in kinds.values()), kinds=kinds,
                of_merged=of_merged, of_traces=of_traces, classes=classes, dependencies=dependencies,
                trace_bytes=sum(os.path.getsize(path) for path in paths),
                summary_bytes=sum(os.path.getsize(path) for path in summaries), findings=findings)


def print_tables(rows, events):
    print(f"\nsummarize, one trace at a time ({events:,} events a trace; s: wall, cpu: user + system)")
    print(f"{'N':>5} {'mean s':>7} {'mean cpu':>9} {'total s':>8} {'max RSS MB':>11} {'trace KB':>9} "
          f"{'summary KB':>11} {'x trace':>8}")
    for r in rows:
        s, n = r["summarized"], r["count"]
        print(f"{n:>5} {sum(x.wall for x in s) / n:>7.3f} {sum(x.cpu for x in s) / n:>9.3f} "
              f"{sum(x.wall for x in s):>8.1f} {mb(max(x.rss for x in s)):>11} {r['trace_bytes'] / n / 1e3:>9.0f} "
              f"{r['summary_bytes'] / n / 1e3:>11.0f} {r['summary_bytes'] / r['trace_bytes']:>8.2f}")
    print("\nmerge of the N summaries: flat (one merge of all N) and a tree of fan-in 10 (its total)")
    print(f"{'N':>5} {'inputs MB':>10} {'flat s':>7} {'flat cpu':>9} {'RSS MB':>7} {'MB/s cpu':>9} "
          f"{'merges':>7} {'tree s':>7} {'tree cpu':>9} {'RSS MB':>7} {'merged MB':>10} {'x 1 summary':>12}")
    for r in rows:
        flat, n = r["flat"], r["count"]
        print(f"{n:>5} {r['summary_bytes'] / 1e6:>10.1f} {flat.wall:>7.2f} {flat.cpu:>9.2f} {mb(flat.rss):>7} "
              f"{r['summary_bytes'] / 1e6 / flat.cpu:>9.1f} {r['merges']:>7} {r['tree_wall']:>7.2f} "
              f"{r['tree_cpu']:>9.2f} {mb(r['tree_rss']):>7} {r['merged'] / 1e6:>10.2f} "
              f"{r['merged'] / (r['summary_bytes'] / n):>12.2f}")
    print("\nthe merged summary against the graph (`pgtrace graph --format json merged.sum`)")
    print(f"{'N':>5} {'classes':>8} {'deps':>7} {'lines':>8} {'B/class':>8} {'B/dep':>6} "
          f"{'class B/class':>14} {'dep B/dep':>10} {'findings':>9}")
    for r in rows:
        class_bytes = r["kinds"].get("class", (0, 0))[1]
        dependency_bytes = r["kinds"].get("fact dependency", (0, 0))[1]
        print(f"{r['count']:>5} {r['classes']:>8,} {r['dependencies']:>7,} {r['lines']:>8,} "
              f"{r['merged'] / r['classes']:>8,.0f} {r['merged'] / r['dependencies']:>6,.0f} "
              f"{class_bytes / r['classes']:>14,.0f} {dependency_bytes / r['dependencies']:>10,.0f} {r['findings']:>9}")
    print("\nanalyze --format json: the merged summary, and the N traces in one run (the baseline); "
          "reports identical")
    print(f"{'N':>5} {'events':>10} {'merged s':>9} {'cpu':>6} {'RSS MB':>7} {'traces s':>9} {'cpu':>6} "
          f"{'RSS MB':>7} {'merged/traces':>14}")
    for r in rows:
        a, b = r["of_merged"], r["of_traces"]
        print(f"{r['count']:>5} {r['events']:>10,} {a.wall:>9.2f} {a.cpu:>6.2f} {mb(a.rss):>7} {b.wall:>9.2f} "
              f"{b.cpu:>6.2f} {mb(b.rss):>7} {a.cpu / b.cpu:>14.2f}")
    last = rows[-1]
    print(f"\nthe merged summary of N={last['count']}, by kind of line")
    print(f"{'line':>16} {'lines':>9} {'bytes':>12} {'share':>6} {'B/line':>7}")
    for kind, (lines, size) in sorted(last["kinds"].items(), key=lambda item: -item[1][1]):
        print(f"{kind:>16} {lines:>9,} {size:>12,} {size / last['merged']:>6.1%} {size / lines:>7.0f}")


def where_the_time_goes(pgtrace, rows, runs):
    """Reading and writing a summary, apart: `validate` reads one (every line decoded and
    checked), `merge` of it alone reads and writes it, `analyze --quiet` reads it and finds
    the graph's findings again; per line of the summary. And summarize against analyze of
    one trace: what writing its summary adds."""
    last = rows[-1]
    path, lines = last["merged_path"], last["lines"]
    alone = os.path.join(WORK, "alone.sum")
    steps = [("validate (read)", measure([pgtrace, "validate", path], runs)),
             ("merge of it alone (read + write)", merge(pgtrace, [path], alone, runs)),
             ("analyze --quiet (read + findings)", measure([pgtrace, "analyze", "--quiet", "--no-progress", path],
                                                           runs, expect=(0, 1)))]
    print(f"\nwhere the time goes: the merged summary of N={last['count']} ({last['merged'] / 1e6:.1f} MB, "
          f"{lines:,} lines)")
    print(f"{'':>34} {'s':>6} {'cpu':>6} {'us/line':>8} {'MB/s cpu':>9} {'RSS MB':>7}")
    for name, result in steps:
        print(f"{name:>34} {result.wall:>6.2f} {result.cpu:>6.2f} {result.cpu / lines * 1e6:>8.1f} "
              f"{last['merged'] / 1e6 / result.cpu:>9.1f} {mb(result.rss):>7}")
    if not filecmp.cmp(alone, path, shallow=False):
        raise Failed(f"a merge of one summary ({alone}) is not that summary ({path})")
    trace = last["paths"][0]
    summary = os.path.join(WORK, "one.sum")
    analyzed = measure([pgtrace, "analyze", "--quiet", "--no-progress", trace], runs, expect=(0, 1))
    summarized = measure([pgtrace, "summarize", "--no-progress", "-o", summary, trace], runs)
    lines = sum(count for count, _ in line_bytes(summary).values())
    print(f"{'analyze --quiet of one trace':>34} {analyzed.wall:>6.2f} {analyzed.cpu:>6.2f}")
    print(f"{'summarize of it':>34} {summarized.wall:>6.2f} {summarized.cpu:>6.2f} "
          f"{(summarized.cpu - analyzed.cpu) / lines * 1e6:>8.1f}  (the difference, per line of its "
          f"{lines:,}-line summary)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="N = 10, 100 and 1,000 events a trace")
    parser.add_argument("--counts", help="comma-separated numbers of traces (default 10,100,1000)")
    parser.add_argument("--events", type=int, help="events a trace (default 5,000; 1,000 with --quick)")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs of a merge or analyze (default 3)")
    parser.add_argument("--no-build", action="store_true", help="use the binary already built")
    args = parser.parse_args()
    counts = [int(n) for n in args.counts.split(",")] if args.counts else [10, 100] if args.quick else [10, 100, 1000]
    events = args.events or (1_000 if args.quick else 5_000)
    if args.no_build:
        pgtrace = os.path.join(ROOT, ".build", "release", "pgtrace")
        if not os.path.exists(pgtrace):
            sys.exit(f"summaries.py: --no-build, but {pgtrace} is missing")
        run.warn_unless_static(pgtrace, "summaries.py")
    else:
        subprocess.run(run.RELEASE_BUILD + ["--product", "pgtrace"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        pgtrace = os.path.join(subprocess.run(run.RELEASE_BUILD + ["--show-bin-path"], cwd=ROOT,
                                              check=True, capture_output=True, text=True).stdout.strip(), "pgtrace")
    started = time.perf_counter()
    try:
        paths = traces(max(counts), events)
        print(f"{len(paths)} kernel-shaped traces of {events:,} events (seeds 1-{len(paths)}, "
              f"--param graph=1) generated or cached in {time.perf_counter() - started:.0f} s", flush=True)
        check_together(pgtrace, paths)
        os.makedirs(os.path.join(WORK, "traces"), exist_ok=True)
        summaries, summarized = [], []
        for seed, path in enumerate(paths, 1):
            summary = os.path.join(WORK, "traces", f"s{seed}.sum")
            summarized.append(measure([pgtrace, "summarize", "--no-progress", "-o", summary, path]))
            summaries.append(summary)
        print(f"{len(paths)} traces summarized in {sum(x.wall for x in summarized):.0f} s", flush=True)
        rows = []
        for count in counts:
            r = row(args, pgtrace, paths, summaries, summarized, count)
            with open(r["merged_path"], "rb") as merged:
                r["events"] = sum(json.loads(text).get("events", 0) for text in merged
                                  if text.startswith(b'{"events"'))
            r["paths"] = paths[:count]
            rows.append(r)
            print(f"N={count}: merged ({r['merges']} merges in the tree; flat and tree identical), "
                  f"analyzed (reports identical, {r['findings']} findings), "
                  f"{time.perf_counter() - started:.0f} s so far", flush=True)
        print_tables(rows, events)
        where_the_time_goes(pgtrace, rows, args.runs)
    except Failed as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        return 1
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
