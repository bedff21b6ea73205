#!/usr/bin/env python3
"""Streams a generated trace of more events than libxml2's content-model limit allows in one
element (5.1M events: 10M regexp pushes) through `validate -` and `lint -` of the given
binary, and checks that both read it to the end in flat memory.

    python3 scripts/check-large-trace.py .build/release/pgtrace [events]
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT_MB = 100


def run(binary, arguments, events):
    generator = subprocess.Popen([sys.executable, os.path.join(ROOT, "benchmarks", "generate-trace.py"), str(events)],
                                 stdout=subprocess.PIPE)
    child = subprocess.Popen([binary] + arguments, stdin=generator.stdout, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    generator.stdout.close()
    # wait4 gives the child's own peak RSS (ru_maxrss, in KiB on Linux).
    out = child.stdout.read()
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    generator.wait()
    code = os.waitstatus_to_exitcode(status)
    return code, out.decode(errors="replace"), err.decode(errors="replace"), usage.ru_maxrss / 1024


def main():
    binary = os.path.abspath(sys.argv[1])
    events = int(sys.argv[2]) if len(sys.argv) > 2 else 5_100_000
    failures = 0
    for arguments, expected in ((["validate", "-"], {0}), (["lint", "--format", "sarif", "-"], {0, 1})):
        code, out, err, rss = run(binary, arguments, events)
        ok = code in expected and rss < LIMIT_MB
        if arguments[0] == "validate":
            ok = ok and "<stdin>: valid (" in out
        print(f"{'ok  ' if ok else 'FAIL'} {' '.join(arguments)} on {events:,} events: exit {code}, peak RSS {rss:.1f} MB"
              + ("" if ok else f"\n     {err.strip()[:300]}"))
        failures += 0 if ok else 1
    print(f"large-trace: {2 - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
