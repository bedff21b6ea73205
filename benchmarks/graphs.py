#!/usr/bin/env python3
"""pgtrace's lock-graph benchmark: times `pgtrace analyze` beside the floor (libxml2's bare SAX2
pass, benchmarks/sax-floor.c) on traces from benchmarks/generate-graph.py, each workload at
4-6 sizes spanning 16x, and says for each workload whether the time per event and the peak
RSS grow with the size. Then the kernel headline: the kernel-shaped workload at 1M events
(and 16M with --full) against its goals: analyze within 1.5x the floor on the largest, peak
RSS under 100 MB, and (--full) time per event and peak RSS within 10% either way between 1M
and 16M events.

    python3 benchmarks/graphs.py                          # every workload, ~10 min on 2 cores
    python3 benchmarks/graphs.py --quick                  # small sizes only, no headline (its rows take
                                                          # 0.1 s: too short for the grows verdicts)
    python3 benchmarks/graphs.py --workloads dense,ring   # some workloads
    python3 benchmarks/graphs.py --workloads kernel --full  # and the 16M-event headline
    python3 benchmarks/graphs.py --workloads cycles,ring --reports  # and each report format
    python3 benchmarks/graphs.py --issue                  # each row of issue 12's table at its size

What grows across a workload's rows (the "size" column) is its own dimension: the events of
the kernel, chains and depth traces; the classes of `classes`; the dependencies of `dense`
and `deps` (their events in proportion); the task names of `tasks`; the instances per class
of `instances`; the chain length of `backchain` and `ring`; the number of cycles of `cycles`;
the pages of each Xen pin walk of `pinwalk` (seed 004's pattern: a ptl held for each page
until the pgd is pinned); the page tables unlinked and not yet freed of `pending` (seed
001's pattern, a TLB flush between); the locks mm_take_all_locks() holds at once in
`takeall` (released first in, first out; up to max_map_count's default, 65,530).
generate-graph.py's docstring describes each workload. "Grows" in the summary lines means
more than 15% from the smallest size to the largest; each line also gives the peak RSS that
each unit of the size added between the two (bytes per dependency on the deps rows).

Builds what it needs as run.py does (--no-build: use .build/release/pgtrace and the floor
already in benchmarks/out/). Traces are cached in benchmarks/out/ (graph-*.xml, named after
the generator's content, so an edited generator writes new ones; the 16M-event kernel trace
is 1.4 GB). Each command runs --runs times (default 3; a run longer than 10 s is not
repeated, but for the headline's two sizes, whose times per event are compared), in turns
with the floor's runs on the same trace (every other round in the reverse order; with --full
the headline's two sizes in the same rounds, its 1M trace measured again for it), so that
both meet the same spells of a machine whose speed drifts from one minute to the next; a
goal's ratio is the best run's against the best run's, followed by the median and range of
the ratios within each round (benchmarks/test_graphs.py checks which runs are made, in
which order, what is reused and what the goals print, without traces). Each run is from
benchmarks/measure.c (run.py's `run_once`; from Python, a small run's peak RSS was the
interpreter's own): its figures are the best wall time and the median of the runs' peak RSS,
which varies by a few MB from run to run. pgtrace runs as run.py runs it (`analyze --quiet`,
the text report); its exit 0 and 1 are both accepted: depth, cycles, ring, pinwalk and
takeall (a pin walk holds a lock a page, mm_take_all_locks one a vma, past --max-depth's 48)
have findings by design, and the findings column counts the report's findings by rule
(`--quiet` prints none: at exit 1 one more run, untimed, writes the text report with `-o` to
count them). A run past --timeout (default 600 s) is printed as "timeout", and the larger
sizes of that workload are skipped.

With --issue, instead of the sweeps, each row of issue 12's table once at the largest size the
table names (a million dependencies, 100k classes, a million cycles, 16M events of distinct
chains, ...; some 5 GB of traces in benchmarks/out/, half an hour the first time), against
its goal of 3x the floor. The kernel row is the headline's (--full); takeall is not in the
table. The million cycles exit 1, so their findings are counted in one more run's text
report (1.4 GB, removed once counted).

With --reports, each row is followed by the reports' own cost: `analyze` (text), `analyze
--format json`, `lint --format sarif`, `lint --format junit`, and the graph drawn (`graph`,
DOT, and `graph --format json`) written to a file, each with its time, its size and its
peak RSS, to see that reporting thousands of findings costs time and memory in proportion
to what is printed.
"""
import argparse
import collections
import hashlib
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no benchmarks/__pycache__ from importing run.py
import run  # noqa: E402  (benchmarks/run.py: build() and the shared paths)

ROOT, OUT = run.ROOT, run.OUT
GENERATOR = os.path.join(ROOT, "benchmarks", "generate-graph.py")
REPEAT_UNDER = 10.0  # seconds: a run longer than this is not repeated
GROWS = 1.15  # time per event or RSS "grows" when the largest size's is this much above the smallest's
# Each row's dimension (the name in its size label), as the summary lines say it; `n` is the
# chain's classes of backchain and ring, the cycles of cycles.
UNITS = {"events": "event", "deps": "dependency", "classes": "class", "tasks": "task",
         "instances": "instance", "pages": "page", "pending": "pending table", "locks": "lock",
         "backchain/n": "class of the chain", "ring/n": "class of the ring", "cycles/n": "cycle"}


def sweep(name, values, params=lambda value: {}, events=lambda value: value):
    """Rows of one workload: (size label, generator params, events) for each value."""
    return [(f"{name}={value:,}", params(value), events(value)) for value in values]


def complete(classes):
    """dense: every pair of `classes` classes, over 8 events a pair: one pass over the pairs
    builds the graph, as many random repeats follow."""
    return sweep("deps", [classes * (classes - 1) // 2 for classes in classes],
                 params=lambda deps: {"classes": round((1 + (1 + 8 * deps) ** 0.5) / 2), "deps": deps},
                 events=lambda deps: 8 * deps)


def sizes(quick):
    """Each workload's rows. The default sizes keep the whole run under 20 minutes on a
    2-core machine; the adversarial rows (dense, deps, backchain, ring, classes) stay small,
    as their cost grows faster than their size. --quick takes smaller ones."""
    def pick(small, default):
        return small if quick else default

    events = pick([16_000, 32_000, 64_000, 128_000, 256_000], [62_500, 125_000, 250_000, 500_000, 1_000_000])
    long_trace = pick(200_000, 1_000_000)
    cycle_trace = pick(32_000, 128_000)
    cycle_sizes = pick([250, 500, 1_000, 2_000, 4_000], [1_000, 2_000, 4_000, 8_000, 16_000])
    return {
        "kernel": sweep("events", events),
        "dense": complete(pick([25, 35, 50, 71, 100], [50, 71, 100, 141, 200])),
        "classes": sweep("classes", pick([1_000, 2_000, 4_000, 8_000, 16_000], [2_000, 4_000, 8_000, 16_000, 32_000]),
                         params=lambda c: {"classes": c}, events=lambda c: long_trace),
        "deps": sweep("deps", pick([2_000, 4_000, 8_000, 16_000, 32_000], [8_000, 16_000, 32_000, 64_000, 128_000]),
                      params=lambda d: {"deps": d}, events=lambda d: 4 * d),
        "chains": sweep("events", events),
        "depth": sweep("events", events),
        "tasks": sweep("tasks", [6_250, 12_500, 25_000, 50_000, 100_000],
                       params=lambda t: {"tasks": t}, events=lambda t: long_trace),
        "instances": sweep("instances", [256, 512, 1_024, 2_048, 4_096],
                           params=lambda i: {"instances": i}, events=lambda i: long_trace),
        "backchain": sweep("n", cycle_sizes, params=lambda n: {"n": n}, events=lambda n: cycle_trace),
        "cycles": sweep("n", cycle_sizes, params=lambda n: {"n": n}, events=lambda n: 8 * n),
        "ring": sweep("n", cycle_sizes, params=lambda n: {"n": n}, events=lambda n: cycle_trace),
        "pinwalk": sweep("pages", pick([64, 128, 256, 512, 1_024], [256, 512, 1_024, 2_048, 4_096]),
                         params=lambda p: {"pages": p}, events=lambda p: long_trace),
        "pending": sweep("pending", pick([16, 32, 64, 128, 256], [63, 125, 250, 500, 1_000]),
                         params=lambda p: {"pending": p}, events=lambda p: long_trace),
        "takeall": sweep("locks", pick([256, 512, 1_024, 2_048, 4_096], [4_096, 8_192, 16_384, 32_768, 65_530]),
                         params=lambda n: {"locks": n}, events=lambda n: 8 * n),
    }


def build(no_build):
    """(floor, pgtrace): built as run.py builds them, or the ones already there."""
    if not no_build:
        return run.build()
    floor = os.path.join(OUT, "sax-floor")
    pgtrace = os.path.join(ROOT, ".build", "release", "pgtrace")
    for path in (floor, pgtrace):
        if not os.path.exists(path):
            sys.exit(f"graphs.py: --no-build, but {path} is missing")
    run.warn_unless_static(pgtrace, "graphs.py")
    return floor, pgtrace


def generator_version():
    with open(GENERATOR, "rb") as source:
        return hashlib.sha1(source.read()).hexdigest()[:8]


def trace(workload, params, events, seed):
    """The cached trace of a workload, generated on first use."""
    tag = ",".join(f"{key}={value}" for key, value in sorted(params.items()))
    name = f"graph-{workload}-{events}-s{seed}{'-' + tag if tag else ''}-{generator_version()}.xml"
    path = os.path.join(OUT, name)
    if not os.path.exists(path):
        os.makedirs(OUT, exist_ok=True)
        command = [sys.executable, GENERATOR, workload, str(events), "--seed", str(seed)]
        for key, value in sorted(params.items()):
            command += ["--param", f"{key}={value}"]
        with open(path + ".tmp", "w") as out:
            subprocess.run(command, stdout=out, check=True)
        os.rename(path + ".tmp", path)
    return path


def count_events(floor_output, path):
    """Events in a trace: the floor's element count less the document's other elements
    (<trace>, <events>, and <classes> with its <class> children when declared)."""
    elements = int(floor_output.split()[0])
    with open(path, "rb") as head:
        text = head.read(1 << 20)
    if b"<classes>" not in text:
        return elements - 2
    if b"</classes>" not in text:
        sys.exit(f"graphs.py: {path}: the class declarations are too long to count")
    return elements - 3 - text.count(b"<class ")


class Result:
    """One measured command: its best wall time, the runs' median peak RSS (KiB), exit code, the
    start of its standard output, its standard error; and the findings pgtrace reported."""

    def __init__(self, seconds=None, rss=None, code=None, stdout="", stderr="", timed_out=False):
        self.seconds, self.rss, self.code = seconds, rss, code
        self.stdout, self.stderr, self.timed_out = stdout, stderr, timed_out
        self.findings = ""
        self.cpu, self.runs = None, 0  # the fastest run's CPU seconds; how many runs
        self.walls = []  # every run's wall time, in the order run
        self.trips = []  # the cores' round trip (ns, or None) before each run's round


class Runs:
    """The runs of one command so far, measured in turns with other commands'."""

    def __init__(self, command, expect):
        self.command, self.expect = command, expect
        self.measured = []  # run.Measured, in the order run
        self.ended = None  # a Result, once a run timed out or exited outside `expect`

    def done(self, runs, repeat_long):
        """No more runs: `runs` of them, one over REPEAT_UNDER s (unless `repeat_long`), or an
        end (a timeout, an exit not expected)."""
        return (self.ended is not None or len(self.measured) >= runs
                or (bool(self.measured) and self.measured[-1].wall > REPEAT_UNDER and not repeat_long))

    def run(self, timeout, report, trip=None):
        """One run, its standard output to the file `report`; standard error is kept; `trip`,
        the cores' round trip measured before its round, is kept with it."""
        with open(report, "wb") as out, open(report + ".err", "w+b") as err:
            measured = run.run_once(self.command, stdout=out, stderr=err, timeout=timeout)
            err.seek(0)
            stderr = err.read().decode(errors="replace")
        if measured is None:
            self.ended = Result(timed_out=True)
            return
        if measured.code not in self.expect:
            self.ended = Result(code=measured.code, stderr=stderr)
            return
        with open(report, "rb") as out:
            measured.stdout, measured.stderr = out.read(1 << 16).decode(errors="replace"), stderr
        measured.trip = trip
        self.measured.append(measured)

    def result(self):
        """The fastest run's figures, but the median of the runs' peak RSS (`run.fastest`);
        `walls` keeps every run's wall time, in order."""
        if self.ended is not None:
            return self.ended
        best = run.fastest(self.measured)
        result = Result(best.wall, best.rss, best.code, best.stdout, best.stderr)
        result.cpu, result.runs = best.cpu, len(self.measured)
        result.walls = [measured.wall for measured in self.measured]
        result.trips = [measured.trip for measured in self.measured]
        return result


def measure_in_turns(commands, timeout, runs, report, repeat_long=False, probe=lambda: None):
    """Each of `commands` (a command and the exit codes it may end with) run `runs` times, one
    run of each in turn (one run of a command over REPEAT_UNDER s, unless `repeat_long`), each
    killed past `timeout` s: a Result for each. In turns (every other round backwards), so that
    the floor and pgtrace meet the same spells of a machine whose speed drifts by 10-20% from
    one minute to the next: measured one after the other, a ratio was the drift's as much as
    pgtrace's. `probe` runs before each round; what it says is kept with the round's runs."""
    each = [Runs(command, expect) for command, expect in commands]
    rounds = 0
    while not all(runs_.done(runs, repeat_long) for runs_ in each):
        trip = probe()
        # Every other round in the reverse order, so that no command always runs first.
        for runs_ in (each if rounds % 2 == 0 else reversed(each)):
            if not runs_.done(runs, repeat_long):
                runs_.run(timeout, report, trip)
        rounds += 1
    return [runs_.result() for runs_ in each]


def in_rounds(mine, theirs):
    """What a goal's ratio (the best run's over the best run's) adds: the median and range of
    the ratio within each round (`mine` and `theirs`, lists of wall times in the order run),
    when there were several rounds."""
    ratios = sorted(a / b for a, b in zip(mine, theirs))
    if len(ratios) < 2:
        return ""
    return (f" (in each of {len(ratios)} rounds: median {statistics.median(ratios):.2f}x, "
            f"{ratios[0]:.2f}-{ratios[-1]:.2f}x)")


# A finding's headline in the text report: `WARNING: <title> [rule]` (`warning:` for warnings).
HEADLINE = re.compile(r"^(?:WARNING|warning): .* \[([a-z-]+)\]$")


def remove_report(report):
    """A report and its standard error, where a run left them."""
    for made in (report, report + ".err"):
        if os.path.exists(made):
            os.remove(made)


def findings_of(report):
    """`3 circular-dependency` and the like, counted in a text report."""
    rules = collections.Counter()
    with open(report, errors="replace") as lines:
        for line in lines:
            match = HEADLINE.match(line)
            if match:
                rules[match.group(1)] += 1
    return ", ".join(f"{count} {rule}" for rule, count in sorted(rules.items())) or "none"


HEADER = (f"{'workload':<10} {'size':>24} {'events':>10} {'floor s':>8} {'pgtrace s':>10} {'x floor':>8} "
          f"{'ns/event':>9} {'RSS MB':>7}  findings")


class Bench:
    """Measures traces and prints their rows: each trace once, however many tables show it,
    but for the headline's, which it measures again when a sweep's figures will not do
    (`key`: with --full, or when the sweep ran it once, past REPEAT_UNDER)."""

    def __init__(self, floor, pgtrace, args):
        self.floor, self.pgtrace, self.args = floor, pgtrace, args
        self.cache = {}  # (trace path, repeat_long) -> (events, floor Result, pgtrace Result)
        self.shown = set()  # the keys of the rows printed
        self.failures = []

    def findings(self, path, code, report):
        """The findings of a timed `analyze --quiet` (which prints none): none at exit 0;
        at exit 1, counted in the text report of one more run, untimed."""
        if code != 1:
            return "none" if code == 0 else ""
        try:
            subprocess.run([self.pgtrace, "analyze", "--quiet", "-o", report, path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=self.args.timeout)
            return findings_of(report)
        except subprocess.TimeoutExpired:
            # The text report takes some 4x the timed run: it may not fit where that did.
            return f"(not counted: the text report took over {self.args.timeout:g} s)"
        finally:
            remove_report(report)  # a million cycles' is 1.4 GB

    def key(self, path, repeat_long, paired=False):
        """The cache's key for a trace's figures. `repeat_long` ones may be those a sweep
        measured without it: if those failed or timed out (runs == 0), since measured again
        the trace would only fail again or take another --timeout; and if they had as many
        runs, unless `paired` (the headline with --full measures its 1M trace again, in the
        same rounds as its 16M one, whose times per event its goal compares)."""
        key = (path, repeat_long)
        if key not in self.cache and repeat_long and (path, False) in self.cache:
            results = self.cache[(path, False)][1:]
            if (any(result.runs == 0 for result in results)
                    or (not paired and all(result.runs >= self.args.runs for result in results))):
                key = (path, False)
        return key

    def measure(self, traces, repeat_long=False, paired=False):
        """Measures the floor and pgtrace on each of `traces` ((path, events) pairs) not in the
        cache yet (`key`), all of them in turns (`measure_in_turns`): the headline's two sizes
        in the same spells, as each trace's floor and pgtrace."""
        wanted = [(path, events) for path, events in traces if self.key(path, repeat_long, paired) not in self.cache]
        if not wanted:
            return
        report = os.path.join(OUT, "graph-report.txt")
        commands = []
        for path, _ in wanted:
            commands += [([self.floor, path], (0,)), ([self.pgtrace, "analyze", "--quiet", path], (0, 1))]
        results = measure_in_turns(commands, self.args.timeout, self.args.runs, report, repeat_long,
                                   probe=run.core_trip)
        for index, (path, events) in enumerate(wanted):
            floor, analyzed = results[2 * index], results[2 * index + 1]
            counted = count_events(floor.stdout, path) if floor.code == 0 else events
            analyzed.findings = self.findings(path, analyzed.code, report)
            self.cache[(path, repeat_long)] = (counted, floor, analyzed)

    def row(self, workload, label, params, events, repeat_long=False, paired=False):
        """Measures one trace (unless `measure` has) and prints its row; returns (events,
        floor, pgtrace) or None. `repeat_long`: as many runs however long each takes (the
        headline's sizes, so that the 16M-event trace's best is of as many runs as the 1M
        one's); `paired` as `key` takes it."""
        path = trace(workload, params, events, self.args.seed)
        self.measure([(path, events)], repeat_long, paired)
        key = self.key(path, repeat_long, paired)
        fresh = key not in self.shown  # figures shown again (the headline's 1M) are one failure, not two
        self.shown.add(key)
        counted, floor, analyzed = self.cache[key]
        start = f"{workload:<10} {label:>24} {counted:>10,}"
        if floor.timed_out:
            print(f"{start} {'timeout':>8}  (the floor, over {self.args.timeout:g} s)", flush=True)
            return None
        if floor.code != 0:
            print(f"{start} {'failed':>8}  (the floor, exit {floor.code})", flush=True)
            if fresh:
                self.failures.append(f"{workload} {label}: the floor exit {floor.code}: {floor.stderr.strip()[:500]}")
            return None
        start += f" {floor.seconds:>8.3f}"
        if analyzed.timed_out:
            print(f"{start} {'timeout':>10}  (over {self.args.timeout:g} s)", flush=True)
            return None
        if analyzed.code not in (0, 1):
            print(f"{start} {'failed':>10}  exit {analyzed.code}", flush=True)
            if fresh:
                self.failures.append(f"{workload} {label}: pgtrace exit {analyzed.code}: {analyzed.stderr.strip()[:500]}")
            return None
        print(f"{start} {analyzed.seconds:>10.3f} {analyzed.seconds / floor.seconds:>8.2f} "
              f"{analyzed.seconds / counted * 1e9:>9,.0f} {analyzed.rss / 1024:>7.1f}  {analyzed.findings}", flush=True)
        if self.args.reports:
            self.reports(path, floor)
        return counted, floor, analyzed

    REPORTS = [("text", ["analyze"]), ("json", ["analyze", "--format", "json"]),
               ("sarif", ["lint", "--format", "sarif"]), ("junit", ["lint", "--format", "junit"]),
               ("graph dot", ["graph"]), ("graph json", ["graph", "--format", "json"])]

    def reports(self, path, floor):
        """One line per report format: its time (and x floor), its size, its peak RSS."""
        report = os.path.join(OUT, "graph-report.out")
        for name, command in self.REPORTS:
            result, = measure_in_turns([([self.pgtrace] + command + [path], (0, 1))], self.args.timeout,
                                       self.args.runs, report)
            if result.timed_out or result.code not in (0, 1):
                print(f"{'':<10} {'report ' + name:>24} {'failed' if not result.timed_out else 'timeout':>10}", flush=True)
                continue
            size = os.path.getsize(report) / 1e6
            print(f"{'':<10} {'report ' + name:>24} {size:>7.1f} MB {'':>8} {result.seconds:>10.3f} "
                  f"{result.seconds / floor.seconds:>8.2f} {'':>9} {result.rss / 1024:>7.1f}", flush=True)
        remove_report(report)

    def workload(self, workload, rows):
        """Prints a workload's rows, skipping the sizes above one that did not finish; returns
        the (label, (events, floor, pgtrace)) of those measured."""
        measured = []
        for index, (label, params, events) in enumerate(rows):
            result = self.row(workload, label, params, events)
            if result is None:
                for label, _, events in rows[index + 1:]:
                    print(f"{workload:<10} {label:>24} {events:>10,} {'-':>8} {'skipped':>10}  "
                          "(a smaller size did not finish)", flush=True)
                break
            measured.append((label, result))
        return measured


def growth(workload, rows, measured):
    """One line: does the time per event and the peak RSS grow from the first row to the last?"""
    unfinished = f"; {rows[len(measured)][0]} and up did not finish" if len(measured) < len(rows) else ""
    if len(measured) < 2:
        return f"{workload}: too few sizes finished to say{unfinished}"
    (small_label, (small_events, _, small)), (large_label, (large_events, _, large)) = measured[0], measured[-1]
    per_small, per_large = small.seconds / small_events * 1e9, large.seconds / large_events * 1e9
    time_ratio, rss_ratio = per_large / per_small, large.rss / small.rss

    def says(ratio):
        return "grows" if ratio > GROWS else "shrinks" if ratio < 1 / GROWS else "flat"

    # What each unit of the row's own dimension added to the peak: the bytes a dependency
    # takes on the deps rows (the issue's goal: some 200 at most), an event's on the kernel's.
    dimension, small_size = small_label.split("=")
    large_size = large_label.split("=")[1]
    added = int(large_size.replace(",", "")) - int(small_size.replace(",", ""))
    per_unit = (large.rss - small.rss) * 1024 / added
    return (f"{workload}: {small_label} -> {large_label}: time/event {says(time_ratio)} "
            f"({per_small:,.0f} -> {per_large:,.0f} ns, {time_ratio:.2f}x), RSS {says(rss_ratio)} "
            f"({small.rss / 1024:.1f} -> {large.rss / 1024:.1f} MB, {rss_ratio:.2f}x, "
            f"{per_unit:,.1f} bytes per {UNITS.get(f'{workload}/{dimension}', UNITS.get(dimension))} added)"
            f"{unfinished}")


# Issue 12's table, each row at the largest size it names: (workload, the table's row, generator
# params, events). Its kernel row is the headline (--full); its "one long cycle" row names 1,000
# classes in 8k events, a trace that takes the floor some 5 ms: start-up, more than the graph.
ISSUE_ROWS = [
    ("dense", "200 classes, 19,900 dependencies", {"classes": 200, "deps": 19_900}, 4_000_000),
    ("classes", "100k classes", {"classes": 100_000}, 4_000_000),
    ("deps", "1M dependencies", {"deps": 1_000_000}, 5_000_000),
    ("chains", "distinct chains", {}, 16_000_000),
    ("depth", "held-lock depth 64", {}, 8_000_000),
    ("tasks", "100k distinct tasks", {"tasks": 100_000}, 2_000_000),
    ("instances", "4,096 instances a class", {"instances": 4_096}, 2_000_000),
    ("backchain", "a chain of 16k, edges from its end", {"n": 16_000}, 128_000),
    ("cycles", "1M short cycles, 1M findings", {"n": 1_000_000}, 8_000_000),
    ("ring", "one cycle of 1,000 classes", {"n": 1_000}, 8_000),
    ("pinwalk", "Xen pin walks of 4,096 pages", {"pages": 4_096}, 2_000_000),
    ("pending", "1,000 pending tables", {"pending": 1_000}, 2_000_000),
]


def issue_table(bench, chosen):
    """Each row of issue 12's table at its size, and the goal: within 3x the floor."""
    rows = [row for row in ISSUE_ROWS if row[0] in chosen]
    print(f"issue 12's table: {len(rows)} rows at the sizes it names"
          + ("; its kernel row is the headline's, with --full" if "kernel" in chosen else ""))
    if not rows:  # the kernel row alone: the headline's
        return
    print(HEADER, flush=True)
    goals = []
    for workload, name, params, events in rows:
        label = " ".join(f"{key}={value:,}" for key, value in params.items()) or f"events={events:,}"
        result = bench.row(workload, label, params, events)
        if result is None:
            goals.append((f"{workload} ({name}) within 3x the floor", False, "did not finish"))
            continue
        counted, floor, analyzed = result
        ratio = analyzed.seconds / floor.seconds
        goals.append((f"{workload} ({name}) within 3x the floor", ratio <= 3,
                      f"{ratio:.2f}x{in_rounds(analyzed.walls, floor.walls)}, {analyzed.rss / 1024:,.1f} MB"))
    print()
    run.print_goals(goals)


def sweeps(bench, table, chosen):
    """Each chosen workload's rows, then a line each on what grows."""
    print(HEADER, flush=True)
    summaries = []
    for workload in chosen:
        summaries.append(growth(workload, table[workload], bench.workload(workload, table[workload])))
    print()
    for line in summaries:
        print(line)


def headline(bench, full):
    """The kernel workload at 1M events (and 16M): the goals, met or not."""
    sizes_ = [1_000_000] + ([16_000_000] if full else [])
    print(f"\nkernel headline: {', '.join(f'{size:,}' for size in sizes_)} events")
    print(HEADER)
    traces = [(trace("kernel", {}, size, bench.args.seed), size) for size in sizes_]
    bench.measure(traces, repeat_long=True, paired=full)
    results = [bench.row("kernel", f"events={size:,}", {}, size, repeat_long=True, paired=full) for size in sizes_]
    goals, note = [], None
    last = results[-1]
    if last is None:
        goals.append((f"analyze within 1.5x the floor on {sizes_[-1]:,} kernel events", False, "did not finish"))
    else:
        events, floor, analyzed = last
        ratio = analyzed.seconds / floor.seconds
        goals.append((f"analyze within 1.5x the floor on {events:,} kernel events", ratio <= 1.5,
                      f"{ratio:.2f}x{in_rounds(analyzed.walls, floor.walls)}"))
    finished = [result for result in results if result is not None]
    if finished:
        peak = max(analyzed.rss for _, _, analyzed in finished) / 1024
        goals.append(("peak RSS under 100 MB", peak < 100, f"{peak:.1f} MB"))
    if full:
        if len(finished) == 2:
            (small_events, _, small), (large_events, _, large) = finished
            per_small = small.seconds / small_events * 1e9
            per_large = large.seconds / large_events * 1e9
            # Within 10% either way: a 1M figure far above the 16M one is start-up cost that
            # the longer trace merely amortizes, not a cost independent of length.
            # The rounds' own ratios, 16M's time per event over 1M's: both sizes ran in each.
            rounds = in_rounds([wall / large_events for wall in large.walls],
                               [wall / small_events for wall in small.walls])
            goals.append(("time per event within 10% between 1M and 16M",
                          abs(per_large / per_small - 1) <= 0.10,
                          f"{per_large:,.0f} ns vs {per_small:,.0f} ns{rounds}"))
            # Not a goal, but what tells the program from the machine: the CPU time of the
            # same runs (all threads), and the floor's own time per event, which moves with
            # the machine and the page cache (the 16M trace is 1.4 GB), not with pgtrace.
            cpu_small, cpu_large = small.cpu / small_events * 1e9, large.cpu / large_events * 1e9
            floor_small = finished[0][1].seconds / small_events * 1e9
            floor_large = finished[1][1].seconds / large_events * 1e9
            # CPU time over wall time: how many cores the three threads kept busy (on 2 cores,
            # what the scheduler left idle is what separates the wall time from half the CPU's).
            note = (f"(the same runs: pgtrace's CPU time {cpu_large:,.0f} ns an event at 16M vs {cpu_small:,.0f} "
                    f"at 1M, {cpu_large / cpu_small:.2f}x, {large.cpu / large.seconds:.2f} cores busy at 16M "
                    f"of {os.cpu_count()}; the floor's time {floor_large:,.0f} vs "
                    f"{floor_small:,.0f} ns, {floor_large / floor_small:.2f}x; best of {large.runs} and "
                    f"{small.runs} runs)")
            goals.append(("peak RSS within 10% between 1M and 16M", abs(large.rss / small.rss - 1) <= 0.10,
                          f"{large.rss / 1024:.1f} MB vs {small.rss / 1024:.1f} MB"))
        else:
            goals.append(("time per event and RSS within 10% between 1M and 16M", False, "a size did not finish"))
    print()
    run.print_goals(goals)
    if note:
        print(note)
    if last is not None and any(trip is not None for trip in last[2].trips):
        print(by_trip(last[1], last[2], sizes_[-1]))


def by_trip(floor, analyzed, events):
    """Each round of the headline's largest size: the cores' round trip measured before it
    (benchmarks/core-trip.c) and pgtrace's time over the floor's in it, by round trip. The
    host places this VM's two vCPUs close (some 80 ns) or far (some 370 ns) apart; far, every
    handover between pgtrace's threads costs more, and the floor (one thread) does not. A
    round at 16M events takes some 15 s, and the host may move the cpus within it: the
    probe gives the placement at the round's start (docs/performance.md, stop 61)."""
    rounds = sorted(zip(analyzed.trips, analyzed.walls, floor.walls), key=lambda r: (r[0] is None, r[0] or 0, r[1] / r[2]))
    told = ", ".join(f"{'?' if trip is None else f'{trip:.0f} ns'} {mine / theirs:.2f}x" for trip, mine, theirs in rounds)
    return f"(the cores' round trip before each round at {events:,} events, and pgtrace over the floor in it: {told})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", help="comma-separated, from: " + ", ".join(sizes(False)))
    parser.add_argument("--quick", action="store_true", help="small sizes only, and no kernel headline")
    parser.add_argument("--full", action="store_true", help="the kernel headline at 16M events too")
    parser.add_argument("--issue", action="store_true",
                        help="each row of issue 12's table at the size it names, instead of the sweeps")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run (default 600)")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs (default 3)")
    parser.add_argument("--reports", action="store_true",
                        help="after each row, the cost of each report format (text, JSON, SARIF, JUnit)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-build", action="store_true", help="use the binaries already built")
    args = parser.parse_args()
    table = sizes(args.quick)
    chosen = args.workloads.split(",") if args.workloads else list(table)
    unknown = [name for name in chosen if name not in table]
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)}; choose from {', '.join(table)}")
    if args.issue and args.quick:
        parser.error("--issue runs the sizes the issue names; --quick has none of its own there")
    if args.issue and not any(row[0] in chosen for row in ISSUE_ROWS) and not ("kernel" in chosen and args.full):
        parser.error("--issue: none of these workloads is a row of the issue's table "
                     "(its kernel row is the headline's, with --full; takeall is not in it)")
    floor, pgtrace = build(args.no_build)
    bench = Bench(floor, pgtrace, args)
    if args.issue:
        issue_table(bench, chosen)
    else:
        sweeps(bench, table, chosen)
    # The kernel row of the issue's table is the headline's 16M events.
    if "kernel" in chosen and not args.quick and (args.full or not args.issue):
        headline(bench, args.full)
    for failure in bench.failures:
        print(f"\nfailed: {failure}")
    return 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())
