#!/usr/bin/env python3
"""Tests of graphs.py's measuring, without traces or binaries: `run.run_once` is replaced by a
stand-in that records each command it is given and answers with made-up figures (and the
traces' paths and event counts are made up too), so that what is run, in which order, and
what is reused or recorded as a failure can be checked in a second.

    python3 benchmarks/test_graphs.py
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no benchmarks/__pycache__
import graphs  # noqa: E402
import run  # noqa: E402

ONE_MILLION = "/traces/kernel-1000000.xml"
SIXTEEN_MILLION = "/traces/kernel-16000000.xml"


class Machine:
    """Stands in for `run.run_once`: each run of the floor takes 1 s and each of pgtrace 2 s
    (unless `walls` says otherwise, a list per (program, trace) taken in order), exit 0 unless
    `outcomes` says "fail" (exit 2) or "timeout" for that program's nth run on that trace."""

    def __init__(self):
        self.calls = []  # (program, trace), in the order run
        self.outcomes = {}
        self.walls = {}

    def run_once(self, command, stdout=None, stderr=None, timeout=None):
        program = "floor" if command[0] == "floor" else "pgtrace"
        key = (program, command[-1])
        self.calls.append(key)
        nth = self.calls.count(key) - 1
        outcomes = self.outcomes.get(key, [])
        outcome = outcomes[nth] if nth < len(outcomes) else "ok"
        if outcome == "timeout":
            return None
        if stdout is not None and program == "floor":
            stdout.write(b"1000002 elements, 0 attribute bytes\n")
        walls = self.walls.get(key, [])
        wall = walls[nth] if nth < len(walls) else (1.0 if program == "floor" else 2.0)
        return run.Measured(wall, wall, 40_000, 2 if outcome == "fail" else 0)


class Arguments:
    runs, timeout, reports, seed = 3, 60, False, 1


class MeasuringTests(unittest.TestCase):
    def setUp(self):
        self.machine = Machine()
        self.saved = (run.run_once, graphs.trace, graphs.count_events, graphs.OUT)
        run.run_once = self.machine.run_once
        graphs.trace = lambda workload, params, events, seed: f"/traces/{workload}-{events}.xml"
        graphs.count_events = lambda floor_output, path: int(floor_output.split()[0]) - 2
        graphs.OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
        os.makedirs(graphs.OUT, exist_ok=True)
        self.bench = graphs.Bench("floor", "pgtrace", Arguments())
        self.out = open(os.devnull, "w")
        self.stdout, sys.stdout = sys.stdout, self.out

    def tearDown(self):
        sys.stdout = self.stdout
        self.out.close()
        run.run_once, graphs.trace, graphs.count_events, graphs.OUT = self.saved
        graphs.remove_report(os.path.join(graphs.OUT, "graph-report.txt"))

    def sweep_then_headline(self, full):
        self.bench.workload("kernel", [("events=1,000,000", {}, 1_000_000)])
        graphs.headline(self.bench, full)

    def test_the_floor_and_pgtrace_take_turns_and_every_other_round_reverses(self):
        self.bench.row("kernel", "events=1,000,000", {}, 1_000_000)
        floor, pgtrace = ("floor", ONE_MILLION), ("pgtrace", ONE_MILLION)
        self.assertEqual(self.machine.calls, [floor, pgtrace, pgtrace, floor, floor, pgtrace])

    def test_the_headline_without_full_takes_the_sweeps_figures(self):
        self.sweep_then_headline(full=False)
        self.assertEqual(len(self.machine.calls), 6)

    def test_the_headline_with_full_measures_1m_again_in_the_rounds_of_16m(self):
        self.sweep_then_headline(full=True)
        headline = self.machine.calls[6:]
        one_round = [("floor", ONE_MILLION), ("pgtrace", ONE_MILLION),
                     ("floor", SIXTEEN_MILLION), ("pgtrace", SIXTEEN_MILLION)]
        self.assertEqual(headline, one_round + one_round[::-1] + one_round)

    def test_a_sweep_that_timed_out_is_not_measured_again(self):
        self.machine.outcomes[("pgtrace", ONE_MILLION)] = ["timeout"]
        self.sweep_then_headline(full=True)
        self.assertEqual(self.machine.calls.count(("pgtrace", ONE_MILLION)), 1)
        self.assertEqual(self.machine.calls.count(("floor", ONE_MILLION)), 3)

    def test_a_failure_of_the_headlines_second_measurement_is_recorded_once(self):
        self.machine.outcomes[("pgtrace", ONE_MILLION)] = ["ok", "ok", "ok", "fail"]
        self.sweep_then_headline(full=True)
        self.assertEqual(len(self.bench.failures), 1)
        self.assertTrue(self.bench.failures[0].startswith("kernel events=1,000,000: pgtrace exit 2"))

    def test_a_failure_shown_in_the_sweep_and_the_headline_is_recorded_once(self):
        self.machine.outcomes[("pgtrace", ONE_MILLION)] = ["fail"]
        self.sweep_then_headline(full=True)
        self.assertEqual(len(self.bench.failures), 1)

    def test_a_run_over_ten_seconds_is_not_repeated_but_in_the_headline(self):
        self.machine.walls[("pgtrace", ONE_MILLION)] = [11.0, 11.0, 11.0, 11.0]
        self.bench.row("kernel", "events=1,000,000", {}, 1_000_000)
        self.assertEqual(self.machine.calls.count(("pgtrace", ONE_MILLION)), 1)
        self.assertEqual(self.machine.calls.count(("floor", ONE_MILLION)), 3)
        graphs.headline(self.bench, full=False)  # one run is not as many as asked: measured again
        self.assertEqual(self.machine.calls.count(("pgtrace", ONE_MILLION)), 4)

    def test_the_rounds_median_of_an_even_count_is_the_mean_of_the_middle_two(self):
        self.assertEqual(graphs.in_rounds([1.0, 3.0, 5.0, 2.0], [1.0, 1.0, 1.0, 1.0]),
                         " (in each of 4 rounds: median 2.50x, 1.00-5.00x)")
        self.assertEqual(graphs.in_rounds([1.5], [1.0]), "")

    def test_the_goals_compare_the_best_runs_and_give_the_rounds_ratios(self):
        self.machine.walls[("floor", ONE_MILLION)] = [1.0, 2.0, 1.0]
        self.machine.walls[("pgtrace", ONE_MILLION)] = [3.0, 2.0, 4.0]
        self.bench.row("kernel", "events=1,000,000", {}, 1_000_000)
        _, floor, analyzed = self.bench.cache[(ONE_MILLION, False)]
        self.assertEqual((floor.seconds, analyzed.seconds), (1.0, 2.0))
        self.assertEqual(graphs.in_rounds(analyzed.walls, floor.walls),
                         " (in each of 3 rounds: median 3.00x, 1.00-4.00x)")


if __name__ == "__main__":
    unittest.main()
