"""Private precision: threads at different dps get the serial digits, and mpmath's global ``mp`` is left alone.

The package computes with its own mpmath context (:data:`grpo_symbolic.numerics.precision.mpx`),
whose precision is per thread, so ``preference``, ``stationary_policies`` and the paper checks
can run side by side at different precisions.
"""

from concurrent.futures import ThreadPoolExecutor
import threading

import mpmath
import pytest

from grpo_symbolic import Problem, preference_numeric, stationary_policies
from grpo_symbolic.numerics.precision import mpx, working_precision
from paper_checks.registry import REGISTRY

PROBLEM = Problem(["0.2", "0.3", "0.5"], [1, 0, 2], 4, "0.5")
POLICY = ["0.1", "0.6", "0.3"]
CLAIMS = ("eq12-g2", "eq15-vs-g2", "x-vertex-kkt", "direct-kl-g2-binary")
JOBS = [("preference", 30), ("preference", 90), ("solve", 20), ("solve", 60),
        *(("check", claim, dps) for claim, dps in zip(CLAIMS, (25, 40, 70, 55)))]


def run(job):
    """The job's answer as strings of all its digits (so equality is digit for digit)."""
    if job[0] == "preference":
        return tuple(mpmath.nstr(v, job[1] + 5) for v in preference_numeric(PROBLEM, POLICY, dps=job[1]))
    if job[0] == "solve":
        points = stationary_policies(PROBLEM, dps=job[1])
        return tuple((tuple(mpmath.nstr(v, job[1] + 5) for v in pt.policy), pt.stable) for pt in points)
    result = REGISTRY.run(job[1], job[2])
    return result.passed, result.digits, result.details


@pytest.fixture(scope="module")
def serial():
    REGISTRY.discover()
    return {job: run(job) for job in JOBS}


class GlobalWatcher:
    """Samples mpmath's global precision in a thread while the block runs; ``seen``: every value it had."""

    def __enter__(self):
        self.seen, self.done = {mpmath.mp.prec}, threading.Event()
        self.thread = threading.Thread(target=self._watch)
        self.thread.start()
        return self

    def _watch(self):
        while not self.done.is_set():
            self.seen.add(mpmath.mp.prec)

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def threaded_run(serial, rounds=1):
    before = (mpmath.mp.dps, mpmath.mp.prec)
    jobs = JOBS * 2
    with GlobalWatcher() as watcher, ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        for _ in range(rounds):
            results = list(pool.map(run, jobs))
            assert results == [serial[job] for job in jobs]
    assert (mpmath.mp.dps, mpmath.mp.prec) == before
    assert watcher.seen == {before[1]}, f"mpmath's global precision changed while the threads ran: {watcher.seen}"


def test_threads_at_different_dps_agree_digit_for_digit_with_serial_runs(serial):
    assert all(result[0] for job, result in serial.items() if job[0] == "check"), "the chosen checks pass"
    threaded_run(serial)


@pytest.mark.slow
def test_threads_agree_twenty_times_in_a_row(serial):
    threaded_run(serial, rounds=20)


def test_answers_do_not_depend_on_the_callers_mpmath_precision(serial):
    saved = mpmath.mp.prec
    try:
        mpmath.mp.dps = 7
        assert run(("preference", 30)) == serial[("preference", 30)]
        assert run(("solve", 20)) == serial[("solve", 20)]
    finally:
        mpmath.mp.prec = saved


def test_the_private_precision_is_per_thread_and_follows_mpmath_outside_blocks():
    seen = {}

    def worker(dps):
        with working_precision(dps, guard=0):
            x = mpx.mpf(1) / 3
            seen[dps] = (mpx.dps, len(str(x)) - 2)

    threads = [threading.Thread(target=worker, args=(d,)) for d in (20, 45, 90)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {20: (20, 20), 45: (45, 45), 90: (90, 90)}
    assert mpx.dps == mpmath.mp.dps == 15
    with mpmath.workdps(33):  # outside every block the package follows the caller's mpmath precision
        assert mpx.dps == 33
        with mpx.workprec(300):  # mpmath's own save/restore inside mpx ends by following it again
            pass
    assert mpx.dps == 15
