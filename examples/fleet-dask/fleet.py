#!/usr/bin/env python3
"""A fleet's traces through pgtrace on Dask: `pgtrace summarize` mapped over a directory of
traces, the summaries tree-reduced with `pgtrace merge`, the merged summary analysed.

    fleet.py --pgtrace PATH --traces DIR [--workdir DIR] [options]
    fleet.py --pgtrace PATH --generate N --workdir DIR [options]

Map: a dask.bag of the trace names, `--partition-size` to a partition; each partition is one
`pgtrace summarize` call writing one summary file. Reduce: Bag.reduction with
`--split-every` K: each aggregate is one `pgtrace merge` of at most K summaries, so N
partitions take ceil(log_K N) levels of merges. Tasks pass file paths, never summary bytes:
traces and summaries live in directories every worker reads (here local; on a cluster,
shared storage). The last merge is copied to WORKDIR/merged.sum and analysed.

pgtrace runs in the traces directory, on names relative to it, so the report's "files"
and every evidence site read the same wherever that directory is mounted. `--check` runs
one `pgtrace analyze --format json` over all the traces (same names, same directory) and
compares it, byte for byte, with `pgtrace analyze --format json merged.sum`: exit 1 where
they differ.

`--generate N` first writes N+2 traces into WORKDIR/traces: N runs of one kernel
(benchmarks/generate-graph.py kernel, `graph=1` so every seed shares the classes and their
types, seeds 1..N for the walks), and two small traces of a module, trace-0000.xml and the
last one, whose problems only show together: one takes fleetmod->a then fleetmod->b and
fleetmod->c in a hardirq, the other fleetmod->b then fleetmod->a and fleetmod->c with
hardirqs on. Neither is a finding alone; all the traces together report an AB-BA cycle and
an irq inconsistency, which sit in different map partitions and meet only in the merge.

`--scheduler` is a local scheduler (processes, threads, synchronous) or a dask.distributed
scheduler's address (tcp://HOST:8786; needs the distributed package): see README.md.
Exit status: 0 done (and with --check, the reports agree), 1 the reports differ, 2 a pgtrace
call or the arguments failed.
"""
import argparse
import difflib
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import dask
import dask.bag as db

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "benchmarks" / "generate-graph.py"

# The kernel the generated fleet runs: small enough that a few hundred traces take seconds.
KERNEL = ["classes=400", "deps=2000", "graph=1"]
KERNEL_EVENTS = 3000

# The module whose two halves only show their problems together (see the docstring).
MODULE_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<trace version="1" source="examples/fleet-dask/fleet.py: {what}" cpus="2">
  <classes>
    <class name="fleetmod->a" type="spinlock"/>
    <class name="fleetmod->b" type="spinlock"/>
    <class name="fleetmod->c" type="spinlock"/>
  </classes>
  <events>
"""
MODULE_FLUSH = MODULE_HEAD.format(what="fleetmod_flush takes a then b; its irq handler takes c") + """\
    <acquire cpu="0" task="kworker/0:1" lock="fleetmod->a" t="100" fn="fleetmod_flush"/>
    <acquire cpu="0" task="kworker/0:1" lock="fleetmod->b" t="200" fn="fleetmod_flush"/>
    <release cpu="0" task="kworker/0:1" lock="fleetmod->b" t="300"/>
    <release cpu="0" task="kworker/0:1" lock="fleetmod->a" t="400"/>
    <hardirq-enter cpu="1" irq="42" t="500"/>
    <acquire cpu="1" lock="fleetmod->c" t="600" fn="fleetmod_irq"/>
    <release cpu="1" lock="fleetmod->c" t="700"/>
    <hardirq-exit cpu="1" t="800"/>
  </events>
</trace>
"""
MODULE_RESET = MODULE_HEAD.format(what="fleetmod_reset takes b then a; fleetmod_poll takes c, irqs on") + """\
    <acquire cpu="1" task="fleetd" lock="fleetmod->b" t="100" fn="fleetmod_reset"/>
    <acquire cpu="1" task="fleetd" lock="fleetmod->a" t="200" fn="fleetmod_reset"/>
    <release cpu="1" task="fleetd" lock="fleetmod->a" t="300"/>
    <release cpu="1" task="fleetd" lock="fleetmod->b" t="400"/>
    <acquire cpu="0" task="fleetd" lock="fleetmod->c" t="500" fn="fleetmod_poll"/>
    <release cpu="0" task="fleetd" lock="fleetmod->c" t="600"/>
  </events>
</trace>
"""


class PgtraceFailed(RuntimeError):
    """A pgtrace (or generator) call that exited with an error, with its standard error."""


def run(command, cwd, statuses=(0,)):
    """Runs `command` in `cwd` and returns its standard output (bytes); raises PgtraceFailed
    with the command's standard error when it exits with a status not in `statuses`."""
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, check=True)
    except subprocess.CalledProcessError as failed:
        if failed.returncode in statuses:
            return failed.stdout
        raise PgtraceFailed(f"{' '.join(map(str, command))} (in {cwd}) exited {failed.returncode}:\n"
                            f"{failed.stderr.decode(errors='replace').rstrip()}") from None
    return done.stdout


def written(directory, kind, inputs, write):
    """Calls write(path) to make the file for `inputs` and returns its final path:
    DIRECTORY/KIND-DIGEST.sum, DIGEST naming the inputs. A task run again (a retry, a lost
    worker) writes the same name with the same bytes; the rename makes it appear whole."""
    digest = hashlib.sha256("\n".join(map(str, inputs)).encode()).hexdigest()[:20]
    final = os.path.join(directory, f"{kind}-{digest}.sum")
    handle, partial = tempfile.mkstemp(dir=directory, prefix=f".{kind}-{digest}.", suffix=".partial")
    os.close(handle)
    try:
        write(partial)
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide it from other users of the storage
        os.replace(partial, final)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return final


def summarize(names, pgtrace, traces, summaries):
    """Map: one `pgtrace summarize` of a partition's traces (names relative to the traces
    directory); the partition of the summary's path."""
    names = list(names)
    return [written(summaries, "map", names, lambda out: run(
        [pgtrace, "summarize", "--no-progress", *names, "-o", out], cwd=traces))]


def merge(pgtrace, traces, summaries, paths):
    """Reduce: one `pgtrace merge` of at most --split-every summaries; returns its path."""
    paths = sorted(paths)
    if len(paths) == 1:
        return paths[0]
    return written(summaries, "merge", [os.path.basename(p) for p in paths], lambda out: run(
        [pgtrace, "merge", "--no-progress", *paths, "-o", out], cwd=traces))


def only(partition):
    """A map partition's one summary path."""
    return list(partition)[0]


def generate(seeds, traces):
    """Kernel traces of the generated fleet, one a seed, as `generate-graph.py kernel EVENTS
    --seed SEED --param ...` writes them (its write(), run here: no interpreter a trace);
    returns their names."""
    generator = {"__name__": "generate_graph"}
    exec(compile(GENERATOR.read_text(), str(GENERATOR), "exec"), generator)
    names = []
    for seed in seeds:
        names.append(f"trace-{seed:04d}.xml")
        with open(os.path.join(traces, names[-1]), "w", buffering=1 << 20) as out:
            generator["write"](out, "kernel", KERNEL_EVENTS, seed, KERNEL)
    return names


def analyze(pgtrace, traces, files):
    """`pgtrace analyze --format json FILES` in the traces directory: (report bytes, status)."""
    done = subprocess.run([pgtrace, "analyze", "--format", "json", "--no-progress", *files],
                          cwd=traces, capture_output=True)
    if done.returncode not in (0, 1):
        raise PgtraceFailed(f"pgtrace analyze exited {done.returncode}:\n"
                            f"{done.stderr.decode(errors='replace').rstrip()}")
    return done.stdout, done.returncode


def clock(what, figures, work):
    start = time.perf_counter()
    result = work()
    figures[what] = time.perf_counter() - start
    return result


def tree(leaves, fan_in):
    """(merges, levels) of Bag.reduction's tree over `leaves` summaries: groups of `fan_in`,
    level by level, a group of one passed up unmerged."""
    merges = levels = 0
    while leaves > 1:
        merges += leaves // fan_in + (leaves % fan_in > 1)
        leaves, levels = -(-leaves // fan_in), levels + 1
    return merges, levels


def plural(n, one, many=None):
    return f"{n} {one if n == 1 else many or one + 's'}"


def size(n):
    return f"{n:,} B" if n < 10_000 else f"{n / 1024:,.1f} KiB" if n < 10 << 20 else f"{n / (1 << 20):,.1f} MiB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pgtrace", required=True, help="the pgtrace binary (on a cluster: its path on every worker)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--traces", help="a directory of traces: every file in it but dotfiles")
    source.add_argument("--generate", type=int, metavar="N", help="generate N kernel traces and 2 module traces first")
    parser.add_argument("--workdir", help="summaries (and generated traces) go here; required with --generate; "
                                          "default a new temporary directory")
    parser.add_argument("--partition-size", type=int, default=16, metavar="P",
                        help="traces summarized by one pgtrace call (default 16)")
    parser.add_argument("--split-every", type=int, default=8, metavar="K",
                        help="fan-in of the merge tree: summaries merged by one pgtrace call (default 8)")
    parser.add_argument("--scheduler", default="processes",
                        help="processes (default), threads, synchronous, or a dask.distributed scheduler "
                             "address such as tcp://HOST:8786")
    parser.add_argument("--workers", type=int, help="local workers (default: the cores)")
    parser.add_argument("--check", action="store_true",
                        help="also analyze all traces in one run and compare the JSON reports byte for byte")
    args = parser.parse_args()
    if args.generate is not None and not args.workdir:
        parser.error("--generate needs --workdir")
    if args.split_every < 2 or args.partition_size < 1:
        parser.error("--split-every must be at least 2 and --partition-size at least 1")

    pgtrace = os.path.abspath(args.pgtrace)
    workdir = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix="pgtrace-fleet-"))
    summaries = os.path.join(workdir, "summaries")
    os.makedirs(summaries, exist_ok=True)
    traces = os.path.abspath(args.traces) if args.traces else os.path.join(workdir, "traces")

    client = None
    if "://" in args.scheduler:
        from distributed import Client  # only for a cluster
        client = Client(args.scheduler)
        settings = {}
    elif args.scheduler in ("processes", "threads", "synchronous"):
        settings = {"scheduler": args.scheduler}
        if args.workers and args.scheduler != "synchronous":
            settings["num_workers"] = args.workers
    else:
        parser.error(f"--scheduler: processes, threads, synchronous or an address, not {args.scheduler!r}")

    figures = {}
    try:
        with dask.config.set(settings):
            if args.generate is not None:
                os.makedirs(traces, exist_ok=True)
                first, last = "trace-0000.xml", f"trace-{args.generate + 1:04d}.xml"
                Path(traces, first).write_text(MODULE_FLUSH)
                Path(traces, last).write_text(MODULE_RESET)
                seeds = db.from_sequence(range(1, args.generate + 1), partition_size=max(1, args.partition_size))
                names = sorted([first, last, *clock("generate", figures, lambda: seeds.map_partitions(
                    generate, traces).compute())])
            else:
                names = sorted(entry.name for entry in os.scandir(traces)
                               if entry.is_file() and not entry.name.startswith("."))
            if not names:
                raise PgtraceFailed(f"no traces in {traces}")

            bag = db.from_sequence(names, partition_size=args.partition_size)
            mapped = bag.map_partitions(summarize, pgtrace, traces, summaries)
            # persist: the map's summaries are made (and timed) before the reduce starts; one
            # graph (bag.reduction(summarize, merge)) would overlap the two.
            mapped = clock("map", figures, lambda: wait(client, mapped.persist()))
            root = clock("reduce", figures, lambda: mapped.reduction(
                only, functools.partial(merge, pgtrace, traces, summaries),
                split_every=args.split_every).compute())
            maps = mapped.compute()
    finally:
        if client is not None:
            client.close()

    merged = os.path.join(workdir, "merged.sum")
    shutil.copyfile(root, merged)
    report, status = clock("analyze merged", figures, lambda: analyze(pgtrace, traces, [merged]))
    summary = json.loads(report)
    graph = summary["graph"]
    merges, levels = tree(len(maps), args.split_every)

    print(f"traces:      {len(names)} in {traces}, {summary['summary']['events']:,} events")
    print(f"graph:       {len(graph['classes'])} classes, {len(graph['dependencies'])} dependencies; "
          f"{summary['summary']['errors']} errors, {summary['summary']['warnings']} warnings")
    print(f"map:         {plural(bag.npartitions, 'summary', 'summaries')} of up to "
          f"{plural(args.partition_size, 'trace')}, mean {size(sum(map(os.path.getsize, maps)) // max(1, len(maps)))} "
          f"({size(sum(map(os.path.getsize, maps)) // len(names))} a trace)")
    print(f"reduce:      {plural(merges, 'merge')} of up to {args.split_every} in "
          f"{plural(levels, 'level')}; merged summary {size(os.path.getsize(merged))}: {merged}")
    if "generate" in figures:
        print(f"time:        generate {figures['generate']:.2f} s")
    print(f"time:        map {figures['map']:.2f} s, reduce {figures['reduce']:.2f} s, "
          f"analyze merged {figures['analyze merged']:.2f} s (scheduler {args.scheduler})")

    if not args.check:
        return 0
    single, single_status = clock("analyze all", figures, lambda: analyze(pgtrace, traces, names))
    print(f"check:       one `pgtrace analyze` of all {len(names)} traces {figures['analyze all']:.2f} s")
    if single == report and single_status == status:
        print(f"check:       same report, {len(report):,} bytes, exit {status}")
        if args.generate is None:
            return 0
        return planted(summary, names[0], names[-1], together=len(names) <= args.partition_size)
    print(f"check:       the reports differ (exit {single_status} for the traces, {status} for the merge)")
    diff = difflib.unified_diff(single.decode().splitlines(), report.decode().splitlines(),
                                "analyze TRACES", "analyze merged.sum", n=2, lineterm="")
    for line in list(diff)[:60]:
        print(f"  {line}")
    return 1


def planted(report, flush, reset, together):
    """With --generate: 0 if the report has exactly the module's two findings, each citing
    both module traces; else 1, saying what it has."""
    want = {("circular-dependency", ("fleetmod->a", "fleetmod->b")), ("irq-inconsistent", ("fleetmod->c",))}
    found = {(finding["rule"], tuple(sorted(finding.get("locks", [])))):
             {place.get("file") for place in finding.get("locations", [])} for finding in report["findings"]}
    if set(found) == want and all({flush, reset} <= files for files in found.values()):
        print(f"check:       the module's cycle and irq inconsistency, each citing {flush} and {reset} "
              f"({'summarized together' if together else 'in different map partitions, met in the merge'})")
        return 0
    print(f"check:       expected {sorted(want)}, each citing {flush} and {reset}; the report has "
          f"{sorted((key, sorted(files)) for key, files in found.items())}")
    return 1


def wait(client, collection):
    """A persisted collection, once its tasks are done (a distributed persist returns at once)."""
    if client is not None:
        from distributed import wait as done
        done(collection)
    return collection


if __name__ == "__main__":
    try:
        sys.exit(main())
    except PgtraceFailed as failure:
        # dask appends the worker's traceback: the command and its stderr say enough.
        print(f"fleet.py: {str(failure).split(chr(10) + 'Traceback' + chr(10))[0].rstrip()}", file=sys.stderr)
        sys.exit(2)
    except Exception:  # noqa: BLE001 - any other failure is exit 2 too, not "the reports differ"
        traceback.print_exc()
        sys.exit(2)
