#!/usr/bin/env python3
"""pgtrace's benchmark: times `pgtrace analyze` beside the floor (libxml2's bare SAX2 pass,
benchmarks/sax-floor.c) on generated traces of 1M and 4M events, in one run, and prints
events/s, the ratio to the floor, peak RSS, and whether the goals are met.

    python3 benchmarks/run.py            # 1M and 4M events
    python3 benchmarks/run.py 250000     # other sizes

Builds what it needs (swift build -c release --static-swift-stdlib; cc for the floor).
Traces are cached in benchmarks/out/. Each measurement is the best of three runs (wall
time, and the median of the runs' peak RSS), each run from benchmarks/measure.c (see
`run_once`).
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "benchmarks", "out")


# The release binary as the README installs it and CI tests it: the Swift runtime and
# FoundationEssentials linked in, which spares every run the loading of their shared libraries.
RELEASE_BUILD = ["swift", "build", "-c", "release", "--static-swift-stdlib"]


def warn_unless_static(binary, script):
    """A binary found, not built (--no-build), may be the plain release build, which loads the
    Swift runtime and FoundationEssentials at every run (`scripts/generate-manual.sh` leaves one):
    say so, since its figures are not the installed binary's."""
    needed = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    if "libswiftCore" in needed:
        print(f"{script}: warning: {binary} loads the Swift runtime (a plain `swift build -c release`); "
              f"the benchmarks measure `{' '.join(RELEASE_BUILD)}`", file=sys.stderr)


def compiled(name):
    """benchmarks/NAME.c, compiled into benchmarks/out/ when missing or older than its source."""
    source = os.path.join(ROOT, "benchmarks", name + ".c")
    binary = os.path.join(OUT, name)
    if not os.path.exists(binary) or os.path.getmtime(binary) < os.path.getmtime(source):
        os.makedirs(OUT, exist_ok=True)
        subprocess.run(["cc", "-O2", "-pthread", "-o", binary + ".tmp", source], check=True)
        os.rename(binary + ".tmp", binary)
    return binary


def core_trip():
    """The round trip of a cache line between the machine's first and last cpus, in ns
    (benchmarks/core-trip.c), or None on one cpu: what the host's placement of a VM's vCPUs
    makes of every handover between pgtrace's reading threads. None too if the probe cannot be
    built or run, fails, or takes over 10 s: it only annotates the rounds, and must not end or
    hold up a benchmark."""
    try:
        out = subprocess.run([compiled("core-trip")], check=True, capture_output=True, text=True,
                             timeout=10).stdout.split()
        return float(out[0]) if out else None
    except (OSError, subprocess.SubprocessError, ValueError) as failure:
        print(f"benchmarks/core-trip: {failure}", file=sys.stderr)
        return None


class Measured:
    """One run of a command: wall seconds, CPU seconds (user + system), peak RSS (KiB), exit
    status (128 + the signal's number if a signal ended it, as a shell says it), and its
    standard output and error where they were piped (else "")."""

    def __init__(self, wall, cpu, rss, code, stdout="", stderr=""):
        self.wall, self.cpu, self.rss, self.code = wall, cpu, rss, code
        self.stdout, self.stderr = stdout, stderr


def fastest(runs):
    """What the benchmarks report of several runs of one command: the fastest run, with the
    median of the runs' peak RSS (the upper middle of an even count). A run's peak varies by
    a few MB with what the reading's threads had in flight, and the fastest run's is no
    steadier than another's."""
    best = min(runs, key=lambda measured: measured.wall)
    peaks = sorted(measured.rss for measured in runs)
    return Measured(best.wall, best.cpu, peaks[len(peaks) // 2], best.code, best.stdout, best.stderr)


def run_once(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=None):
    """Runs `command` once through benchmarks/measure.c: its figures are the command's own,
    where wait4 from this process would give a peak RSS of at least the interpreter's (see
    measure.c). `stdout` and `stderr` are as subprocess takes them; a pipe is read whole.
    Returns None if the run was killed past `timeout` seconds."""
    helper = compiled("measure")
    handle, result = tempfile.mkstemp(prefix="measure-", dir=OUT)
    os.close(handle)
    try:
        # A session of its own, so that a timeout kills the command with the helper; and so
        # must anything else that ends this process first (Ctrl-C no longer reaches them).
        process = subprocess.Popen([helper, result] + command, stdout=stdout, stderr=stderr,
                                   start_new_session=True)
        try:
            out, err = process.communicate(timeout=timeout)
        except BaseException as stopped:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            if isinstance(stopped, subprocess.TimeoutExpired):
                return None
            raise
        with open(result) as line:
            fields = line.read().split()
        if len(fields) != 4:
            sys.exit(f"benchmarks/measure could not run {command[0]}: {(err or b'').decode(errors='replace')}")
        wall, cpu, rss, code = float(fields[0]), float(fields[1]), int(fields[2]), int(fields[3])
        return Measured(wall, cpu, rss, code, (out or b"").decode(errors="replace"),
                        (err or b"").decode(errors="replace"))
    finally:
        os.unlink(result)


def build():
    subprocess.run(RELEASE_BUILD + ["--product", "pgtrace"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libxml-2.0"], check=True,
                           capture_output=True, text=True).stdout.split()
    os.makedirs(OUT, exist_ok=True)
    floor = os.path.join(OUT, "sax-floor")
    subprocess.run(["cc", "-O2", "-o", floor, os.path.join(ROOT, "benchmarks", "sax-floor.c")] + flags, check=True)
    binary = subprocess.run(RELEASE_BUILD + ["--show-bin-path"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    return floor, os.path.join(binary, "pgtrace")


def trace(events):
    path = os.path.join(OUT, f"trace-{events}.xml")
    if not os.path.exists(path):
        with open(path + ".tmp", "w") as out:
            subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "generate-trace.py"), str(events)],
                           stdout=out, check=True)
        os.rename(path + ".tmp", path)
    return path


def measure(command):
    """Best wall time of three runs, and the median of their peak RSS (KiB)."""
    runs = []
    for _ in range(3):
        measured = run_once(command)
        if measured.code not in (0, 1):
            sys.exit(f"{' '.join(command)} failed ({measured.code}): {measured.stderr}")
        runs.append(measured)
    best = fastest(runs)
    return best.wall, best.rss


def print_goals(goals):
    """One line per goal: (what, met, the figure that says so)."""
    for name, met, figure in goals:
        print(f"{'met    ' if met else 'NOT MET'}  {name}: {figure}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, help="events a trace (default: 1000000 4000000)")
    sizes = parser.parse_args().sizes or [1_000_000, 4_000_000]
    floor, pgtrace = build()
    rows = []
    print(f"{'events':>10} {'floor s':>8} {'floor ev/s':>11} {'pgtrace s':>10} {'pgtrace ev/s':>13} "
          f"{'ratio':>6} {'floor RSS':>10} {'pgtrace RSS':>12}")
    for events in sizes:
        path = trace(events)
        floor_time, floor_rss = measure([floor, path])
        time_, rss = measure([pgtrace, "analyze", "--quiet", path])
        rows.append((events, floor_time, time_, rss))
        print(f"{events:>10} {floor_time:>8.3f} {events / floor_time:>11,.0f} {time_:>10.3f} {events / time_:>13,.0f} "
              f"{time_ / floor_time:>6.2f} {floor_rss / 1024:>8.1f}MB {rss / 1024:>10.1f}MB")
    largest = rows[-1]
    smallest = rows[0]
    ratio = largest[2] / largest[1]
    peak = max(row[3] for row in rows) / 1024
    goals = [
        (f"analyze within 2.0x the floor on {largest[0]:,} events", ratio <= 2.0, f"{ratio:.2f}x"),
        ("peak RSS under 40 MB", peak < 40, f"{peak:.1f} MB"),
    ]
    if len(rows) > 1:
        flat = largest[3] <= smallest[3] * 1.05 + 1024
        goals.append((f"RSS flat: {largest[0]:,} events no more than {smallest[0]:,}", flat,
                      f"{largest[3] / 1024:.1f} MB vs {smallest[3] / 1024:.1f} MB"))
        per_small = smallest[2] / smallest[0]
        per_large = largest[2] / largest[0]
        goals.append(("cost per event independent of length (within 15%)", per_large <= per_small * 1.15,
                      f"{per_large * 1e9:.0f} ns vs {per_small * 1e9:.0f} ns"))
    print()
    print_goals(goals)
    return 0


if __name__ == "__main__":
    sys.exit(main())
