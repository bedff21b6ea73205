#!/usr/bin/env python3
"""pgtrace's capture benchmark: `pgtrace analyze` on a kernel text capture and on a trace.dat
of the same events, beside `grep -c lock_acquire` on the same text and libtracecmd's own bare
iteration over the trace.dat (benchmarks/tracecmd-floor.c), in one run; and `pgtrace import`
of the text, streaming. Prints seconds, events/s, the ratio to grep and peak RSS for
each size, and whether issue 11's goals are met: analyze within 5x grep's time, peak RSS flat
in the input's size.

    python3 benchmarks/captures.py            # 25 MB and 100 MB captures
    python3 benchmarks/captures.py 10 50      # other sizes (MB)

Builds the release binary; generates captures with benchmarks/generate-capture.py and the
trace.dat files with scripts/write-trace-dat.py, cached in benchmarks/out/. Each figure is
the best of five runs (wall time, and the median of their peak RSS), each run from
benchmarks/measure.c (run.py's `run_once`), the page cache warm.
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no benchmarks/__pycache__ from importing run.py
import run  # noqa: E402  (benchmarks/run.py: print_goals, RELEASE_BUILD, run_once)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "benchmarks", "out")


def build():
    subprocess.run(run.RELEASE_BUILD + ["--product", "pgtrace"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    binary = subprocess.run(run.RELEASE_BUILD + ["--show-bin-path"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    os.makedirs(OUT, exist_ok=True)
    floor = os.path.join(OUT, "tracecmd-floor")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libtracecmd"], check=True,
                           capture_output=True, text=True).stdout.split()
    subprocess.run(["cc", "-O2", "-o", floor, os.path.join(ROOT, "benchmarks", "tracecmd-floor.c")] + flags, check=True)
    return os.path.join(binary, "pgtrace"), floor


def capture(megabytes):
    """The text capture and the trace.dat of the same events."""
    os.makedirs(OUT, exist_ok=True)
    text = os.path.join(OUT, f"capture-{megabytes}.txt")
    dat = os.path.join(OUT, f"capture-{megabytes}.dat")
    generator = os.path.join(ROOT, "benchmarks", "generate-capture.py")
    if not os.path.exists(text):
        with open(text + ".tmp", "w") as out:
            subprocess.run([sys.executable, generator, str(megabytes)], stdout=out, check=True)
        os.rename(text + ".tmp", text)
    if not os.path.exists(dat):
        events = subprocess.Popen([sys.executable, generator, str(megabytes), "--json"], stdout=subprocess.PIPE)
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "write-trace-dat.py"), "--cpus", "8", dat + ".tmp"],
                       stdin=events.stdout, check=True, stdout=subprocess.DEVNULL)
        events.wait()
        os.rename(dat + ".tmp", dat)
    return text, dat


def measure(command, expect=(0, 1)):
    """Best wall time of five runs, the median of their peak RSS (KiB), and what the fastest
    printed."""
    runs = []
    for _ in range(5):
        measured = run.run_once(command, stdout=subprocess.PIPE)
        if measured.code not in expect:
            sys.exit(f"{' '.join(command)} failed ({measured.code}): {measured.stderr}")
        runs.append(measured)
    best = run.fastest(runs)
    return best.wall, best.rss, best.stdout + best.stderr


def events_of(stderr):
    # "pgtrace: 1 trace, 1145941 events: no findings"
    for line in stderr.splitlines():
        if " events" in line and "trace" in line:
            return int(line.split(",")[1].split()[0])
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, help="MB a capture (default: 25 100)")
    sizes = parser.parse_args().sizes or [25, 100]
    pgtrace, floor = build()
    print(f"{'input':>18} {'MB':>5} {'grep s':>7} {'floor s':>8} {'analyze s':>10} {'events/s':>11} {'x grep':>7} {'x floor':>8} "
          f"{'RSS':>8} {'import s':>9} {'import RSS':>11}")
    rows = []
    for megabytes in sizes:
        text, dat = capture(megabytes)
        grep_time, _, _ = measure(["grep", "-c", "lock_acquire", text], expect=(0,))
        floor_time, _, _ = measure([floor, dat], expect=(0,))
        for path in (text, dat):
            seconds, rss, stderr = measure([pgtrace, "analyze", path])
            events = events_of(stderr)
            imported = measure([pgtrace, "import", "-o", "/dev/null", path]) if path == text else None
            rows.append((megabytes, path, grep_time, seconds, rss, imported, floor_time))
            print(f"{os.path.basename(path):>18} {os.path.getsize(path) / 1e6:>5.0f} {grep_time:>7.3f} "
                  + (f"{floor_time:>8.3f}" if path == dat else f"{'-':>8}")
                  + f" {seconds:>10.3f} {events / seconds:>11,.0f} {seconds / grep_time:>7.2f} "
                  + (f"{seconds / floor_time:>8.2f}" if path == dat else f"{'-':>8}")
                  + f" {rss / 1024:>6.1f}MB "
                  + (f"{imported[0]:>9.3f} {imported[1] / 1024:>9.1f}MB" if imported else f"{'-':>9} {'-':>11}"))
    largest = [row for row in rows if row[0] == sizes[-1]]
    smallest = [row for row in rows if row[0] == sizes[0]]
    text_row = largest[0]
    goals = [(f"analyze of the {sizes[-1]} MB text within 5x grep", text_row[3] <= 5 * text_row[2],
              f"{text_row[3] / text_row[2]:.2f}x")]
    dat_row = largest[1]
    goals.append(("analyze of its trace.dat within 5x grep on the text", dat_row[3] <= 5 * dat_row[2],
                  f"{dat_row[3] / dat_row[2]:.2f}x (libtracecmd's own read of it alone: {dat_row[6] / dat_row[2]:.2f}x)"))
    if len(sizes) > 1:
        # Flat: no more than what the bounded queue between the reading and the replaying
        # thread can hold when the replay lags (TracePipeline: 4 batches in flight and 6
        # spare, of 4096 events each), whatever the size; a run's RSS moves within that.
        queue = 8 * 1024
        for index, name in ((0, "text"), (1, "trace.dat")):
            small, large = smallest[index][4], largest[index][4]
            goals.append((f"analyze RSS flat in size ({name}: {sizes[-1]} MB vs {sizes[0]} MB, within the 8 MB queue bound)",
                          large <= small + queue, f"{large / 1024:.1f} MB vs {small / 1024:.1f} MB"))
        small, large = smallest[0][5][1], largest[0][5][1]
        goals.append((f"import RSS flat in size ({sizes[-1]} MB vs {sizes[0]} MB)", large <= small + queue,
                      f"{large / 1024:.1f} MB vs {small / 1024:.1f} MB"))
    print()
    run.print_goals(goals)
    return 0


if __name__ == "__main__":
    sys.exit(main())
