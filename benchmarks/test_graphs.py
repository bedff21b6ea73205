#!/usr/bin/env python3
"""Tests of graphs.py's measuring, without traces or binaries: `run.run_once` is replaced by a
stand-in that records each command it is given and answers with made-up figures (and the
traces' paths and event counts are made up too), so that what is run, in which order, what
is reused or recorded as a failure, and what the goals print can be checked in a second.

    python3 benchmarks/test_graphs.py
"""
import io
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # run as a script, no benchmarks/__pycache__
import graphs  # noqa: E402
import run  # noqa: E402

TRACE_1M = "/traces/kernel-1000000.xml"
TRACE_16M = "/traces/kernel-16000000.xml"


class Runner:
    """Stands in for `run.run_once`: each run of the floor takes 1 s and each of pgtrace 2 s
    (unless `walls` gives a list per (program, trace), taken in order), and exits 0 unless
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
            stdout.write(b"%d elements, 0 attribute bytes\n" % (events_of(command[-1]) + 2))
        walls = self.walls.get(key, [])
        wall = walls[nth] if nth < len(walls) else (1.0 if program == "floor" else 2.0)
        return run.Measured(wall, wall, 40_000, 2 if outcome == "fail" else 0)


def events_of(path):
    """The events of a made-up trace: the number in its name."""
    return int(os.path.basename(path).split("-")[1].split(".")[0])


class Arguments:
    runs, timeout, reports, seed = 3, 60, False, 1


class MeasuringTests(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.runner = Runner()
        self.trips = []  # what the stand-in for run.core_trip answers, in order (then None)
        self.probed = []  # the runs made before each of its calls
        for module, name, stand_in in [
            (run, "run_once", self.runner.run_once),
            (run, "core_trip", self.core_trip),
            (graphs, "trace", lambda workload, params, events, seed: f"/traces/{workload}-{events}.xml"),
            (graphs, "count_events", lambda floor_output, path: int(floor_output.split()[0]) - 2),
            (graphs, "OUT", self.enterContext(tempfile.TemporaryDirectory())),
            (sys, "stdout", io.StringIO()),
        ]:
            self.addCleanup(setattr, module, name, getattr(module, name))
            setattr(module, name, stand_in)
        self.bench = graphs.Bench("floor", "pgtrace", Arguments())

    def core_trip(self):
        self.probed.append(len(self.runner.calls))
        return self.trips[len(self.probed) - 1] if len(self.probed) <= len(self.trips) else None

    def sweep_then_headline(self, full):
        self.bench.workload("kernel", [("events=1,000,000", {}, 1_000_000)])
        graphs.headline(self.bench, full)

    def goals(self):
        """The goals' lines printed so far, in order."""
        return [line for line in sys.stdout.getvalue().splitlines() if line.startswith(("met ", "NOT MET "))]

    def test_the_floor_and_pgtrace_take_turns_and_every_other_round_reverses(self):
        self.bench.row("kernel", "events=1,000,000", {}, 1_000_000)
        floor, pgtrace = ("floor", TRACE_1M), ("pgtrace", TRACE_1M)
        self.assertEqual(self.runner.calls, [floor, pgtrace, pgtrace, floor, floor, pgtrace])

    def test_the_headline_without_full_takes_the_sweeps_figures(self):
        self.sweep_then_headline(full=False)
        self.assertEqual(len(self.runner.calls), 6)

    def test_the_headline_with_full_measures_1m_again_in_the_rounds_of_16m(self):
        self.sweep_then_headline(full=True)
        one_round = [("floor", TRACE_1M), ("pgtrace", TRACE_1M), ("floor", TRACE_16M), ("pgtrace", TRACE_16M)]
        self.assertEqual(self.runner.calls[6:], one_round + one_round[::-1] + one_round)

    def test_a_sweep_that_timed_out_is_not_measured_again(self):
        self.runner.outcomes[("pgtrace", TRACE_1M)] = ["timeout"]
        self.sweep_then_headline(full=True)
        self.assertEqual(self.runner.calls.count(("pgtrace", TRACE_1M)), 1)
        self.assertEqual(self.runner.calls.count(("floor", TRACE_1M)), 3)

    def test_a_sweep_that_failed_is_not_measured_again_and_counts_once(self):
        self.runner.outcomes[("pgtrace", TRACE_1M)] = ["fail"]
        self.sweep_then_headline(full=True)
        self.assertEqual(self.runner.calls.count(("pgtrace", TRACE_1M)), 1)
        self.assertEqual(len(self.bench.failures), 1)

    def test_a_failure_of_the_headlines_second_measurement_is_recorded(self):
        self.runner.outcomes[("pgtrace", TRACE_1M)] = ["ok", "ok", "ok", "fail"]
        self.sweep_then_headline(full=True)
        self.assertEqual(len(self.bench.failures), 1)
        self.assertTrue(self.bench.failures[0].startswith("kernel events=1,000,000: pgtrace exit 2"))

    def test_a_failing_floor_is_recorded_and_its_runs_end_there(self):
        self.runner.outcomes[("floor", TRACE_1M)] = ["ok", "fail"]
        self.bench.row("kernel", "events=1,000,000", {}, 1_000_000)
        self.assertEqual(self.runner.calls.count(("floor", TRACE_1M)), 2)
        self.assertEqual(self.runner.calls.count(("pgtrace", TRACE_1M)), 3)
        self.assertEqual(len(self.bench.failures), 1)
        self.assertTrue(self.bench.failures[0].startswith("kernel events=1,000,000: the floor exit 2"))

    def test_a_size_that_did_not_finish_skips_the_larger_ones(self):
        self.runner.outcomes[("pgtrace", "/traces/cycles-8000.xml")] = ["timeout"]
        rows = [("n=1,000", {"n": 1_000}, 8_000), ("n=2,000", {"n": 2_000}, 16_000)]
        self.assertEqual(len(self.bench.workload("cycles", rows)), 0)
        self.assertNotIn(("floor", "/traces/cycles-16000.xml"), self.runner.calls)

    def test_a_run_past_repeat_under_is_not_repeated_but_in_the_headline(self):
        long = graphs.REPEAT_UNDER + 1
        self.runner.walls[("pgtrace", TRACE_1M)] = [2.0, long, 2.0, long, long, long]
        self.bench.row("kernel", "events=1,000,000", {}, 1_000_000)
        self.assertEqual(self.runner.calls.count(("pgtrace", TRACE_1M)), 2)  # stops after the long one
        self.assertEqual(self.runner.calls.count(("floor", TRACE_1M)), 3)
        graphs.headline(self.bench, full=False)  # two runs are not as many as asked: measured again
        self.assertEqual(self.runner.calls.count(("pgtrace", TRACE_1M)), 5)

    def test_the_rounds_ratios_pair_each_round_and_an_even_counts_median_is_the_middle_twos_mean(self):
        self.assertEqual(graphs.in_rounds([1.0, 3.0, 5.0, 2.0], [1.0, 1.0, 1.0, 2.0]),
                         " (in each of 4 rounds: median 2.00x, 1.00-5.00x)")
        self.assertEqual(graphs.in_rounds([1.5], [1.0]), "")

    def test_the_issue_tables_goal_compares_the_best_runs_and_gives_the_rounds(self):
        trace = "/traces/ring-8000.xml"
        self.runner.walls[("floor", trace)] = [1.0, 2.0, 1.5]
        self.runner.walls[("pgtrace", trace)] = [3.0, 2.5, 4.0]
        graphs.issue_table(self.bench, ["ring"])
        self.assertEqual(self.goals(), [
            "met      ring (one cycle of 1,000 classes) within 3x the floor: 2.50x "
            "(in each of 3 rounds: median 2.67x, 1.25-3.00x), 39.1 MB"])

    def test_the_headlines_goals_compare_the_best_runs_and_give_the_rounds(self):
        self.runner.walls[("floor", TRACE_1M)] = [0.3, 0.3, 0.3]
        self.runner.walls[("pgtrace", TRACE_1M)] = [0.6, 0.5, 0.55]
        self.runner.walls[("floor", TRACE_16M)] = [5.0, 6.0, 5.5]
        self.runner.walls[("pgtrace", TRACE_16M)] = [8.0, 9.6, 8.5]
        graphs.headline(self.bench, full=True)
        self.assertEqual(self.goals(), [
            "NOT MET  analyze within 1.5x the floor on 16,000,000 kernel events: 1.60x "
            "(in each of 3 rounds: median 1.60x, 1.55-1.60x)",
            "met      peak RSS under 100 MB: 39.1 MB",
            # Best against best, 500 ns an event at both sizes; round by round, 16M's time per
            # event over 1M's: 0.5/0.6, 0.6/0.5, 0.53125/0.55.
            "met      time per event within 10% between 1M and 16M: 500 ns vs 500 ns "
            "(in each of 3 rounds: median 0.97x, 0.83-1.20x)",
            "met      peak RSS within 10% between 1M and 16M: 39.1 MB vs 39.1 MB"])


    def test_the_cores_round_trip_is_measured_before_each_round_and_kept_with_its_runs(self):
        self.trips = [80.0, 370.0, 90.0]
        self.bench.row("kernel", "events=1,000,000", {}, 1_000_000)
        self.assertEqual(self.probed, [0, 2, 4])
        _, floor, analyzed = self.bench.cache[(TRACE_1M, False)]
        self.assertEqual(analyzed.trips, [80.0, 370.0, 90.0])
        self.assertEqual(floor.trips, [80.0, 370.0, 90.0])

    def test_the_headline_gives_each_rounds_ratio_by_its_round_trip(self):
        self.trips = [370.0, 80.0, 90.0]
        self.runner.walls[("floor", TRACE_1M)] = [0.3, 0.3, 0.3]
        self.runner.walls[("pgtrace", TRACE_1M)] = [0.6, 0.45, 0.42]
        graphs.headline(self.bench, full=False)
        self.assertTrue(sys.stdout.getvalue().endswith(
            "(the cores' round trip before each round at 1,000,000 events, and pgtrace over the floor in it: "
            "80 ns 1.50x, 90 ns 1.40x, 370 ns 2.00x)\n"), sys.stdout.getvalue())

    def test_no_round_trip_no_line(self):
        graphs.headline(self.bench, full=False)
        self.assertNotIn("round trip", sys.stdout.getvalue())


if __name__ == "__main__":
    unittest.main()
