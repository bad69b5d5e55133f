"""Performance of grpo_symbolic: exact answers at realistic scale, measured against the alternatives.

Run from the repository root::

    python benchmarks/run.py            # the full table (some 15 minutes on 2 cores)
    python benchmarks/run.py --quick    # a fast subset; long alternatives are extrapolated
    python benchmarks/run.py --readme   # the full table, then README.md's performance section from it

Every row is measured in this run against its alternative and printed as soon as it is measured,
with the ratio (alternative time / our time).  A time marked ``~`` is extrapolated, and the row
says from what (a subsample of terms or points, or the measured standard error of Monte Carlo).
The run ends with the cost model (how each row grows with G, K and the number V of reward values),
the measured growth exponents against the predicted ones, and the performance targets.
An alternative whose cost model estimate (:mod:`grpo_symbolic.model.cost`) exceeds ``--cap``
seconds is not run: its row shows the estimate, marked ``~``.  With gmpy2 installed (the ``fast``
extra) every P_G and solve row is timed again in a subprocess with ``MPMATH_NOGMPY=1`` (mpmath's
pure-Python backend) and the row shows the speed-up gmpy2 brings.
This is a benchmark, not a test: nothing here asserts a time.
"""

import argparse
from contextlib import contextmanager
import math
import os
import resource
import subprocess
import sys
import time
from fractions import Fraction

import numpy as np
import sympy as sp

from grpo_symbolic import Problem
from grpo_symbolic.solve import binary_grid
from grpo_symbolic.theory.advantage import RULES, Group
from grpo_symbolic.cases import binary as binary_cases
from grpo_symbolic.numerics.certify import available as flint_available
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, working_precision
from grpo_symbolic.preference import engine
from grpo_symbolic.preference.moments import moment_table
from grpo_symbolic.preference.sums import SumsTable, sums_table
from grpo_symbolic.model import cost
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.preference.engine import compositions, monte_carlo_preference, numeric_table, preference_numeric
from grpo_symbolic.solve.api import stationary_policies, stationary_policy
from grpo_symbolic.solve.search import SolverOptions
from grpo_symbolic.solve.workloads import many_outputs
from grpo_symbolic.model.symbols import beta as beta_symbol, gamma, lam, rho as rho_symbol
from report import MANY_VALUE_OPTIONS, gmpy_speedup, machine, many_valued_outputs, values_problem, worker, write_readme

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MC_TARGET = 1e-6  # absolute error Monte Carlo has to reach
MEASURED = {}  # (quantity, size) -> seconds, for the growth fits
ROWS = []  # (case, ours, alternative, alternative time, extrapolated, note) as printed, for --readme
RATIOS = {}  # quantity -> [ratios], for the targets


# --- output ---------------------------------------------------------------------------------

def say(text=""):
    print(text, flush=True)


def seconds(t, extrapolated=False):
    mark = "~" if extrapolated else ""
    if t >= 100:
        return f"{mark}{t:.3g} s"
    if t >= 1:
        return f"{mark}{t:.2f} s"
    if t >= 1e-3:
        return f"{mark}{t * 1e3:.3g} ms"
    return f"{mark}{t * 1e6:.3g} µs"


def row(case, ours, alternative, alt_time, extrapolated=False, note=""):
    ratio = alt_time / ours if ours > 0 else float("inf")
    ROWS.append((case, ours, alternative, alt_time, extrapolated, ratio, note))
    say(f"  {case:<34} {seconds(ours):>10}  {alternative:<38} {seconds(alt_time, extrapolated):>11}  "
        f"{ratio:>9.3g}x  {note}")


def header(title):
    say()
    say(title)
    say(f"  {'case':<34} {'ours':>10}  {'alternative':<38} {'alt. time':>11}  {'ratio':>10}  note")


def clock(function):
    """(CPU seconds of this process, value): CPU time, not wall time, on a shared machine."""
    start = time.process_time()
    value = function()
    return time.process_time() - start, value


def child_clock(argv):
    """CPU seconds (user + system) of a subprocess run to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, cwd=ROOT, capture_output=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def digits(a, b, cap=60):
    """Decimal digits of agreement (relative to max(1, |b|)), capped at ``cap``."""
    with working_precision(cap + 30, guard=0):
        err = abs(mpx.mpf(a) - mpx.mpf(b))
        return float(cap) if err == 0 else float(min(cap, -mpx.log10(err / max(1, abs(mpx.mpf(b))))))


def best_of(function, repeat=3):
    """The shortest of ``repeat`` timings (for short vectorised runs on a shared machine)."""
    return min(clock(function)[0] for _ in range(repeat))


def clear_caches():
    moment_table.cache_clear()
    numeric_table.cache_clear()
    sums_table.cache_clear()


# --- gmpy2: each row again under mpmath's pure-Python backend ----------------------------------

def gmpy_note(task, took=0.0):
    """'gmpy2 N×' (see :func:`report.gmpy_speedup`), or '' where it is not measured."""
    ratio = gmpy_speedup(task, took, ROOT, os.path.abspath(__file__))
    if ratio is None:
        return ""
    MEASURED[("gmpy", task)] = ratio
    return f"gmpy2 {ratio:.2g}x"


# --- plain per-term sums: the alternative for P_G ---------------------------------------------

def plain_terms(values, group_size, normalisation, m, focal_values, limit=None):
    """Σ over compositions of multinomial × Π m^n × A, one term at a time in mpmath (the textbook
    loop); returns (sums per focal value, terms done, terms in total)."""
    V, n = len(values), group_size - 1
    rule = RULES[normalisation]
    total_terms = math.comb(n + V - 1, V - 1) * len(focal_values)
    sums, done = [mpx.mpf(0)] * len(focal_values), 0
    for counts in compositions(n, V):
        if V == 2:
            weight = mpx.binomial(n, counts[1]) * m[1] ** counts[1] * m[0] ** counts[0]
        else:
            weight = mpx.factorial(n)
            for c, mu in zip(counts, m):
                weight = weight * mu**c / mpx.factorial(c)
        for i, v in enumerate(focal_values):
            sums[i] += weight * rule(Group(values, v, counts), 0, mpx.sqrt)
            done += 1
        if limit is not None and done >= limit:
            break
    return sums, done, total_terms


def plain_preference(values, group_size, normalisation, m, dps, limit=None):
    """(seconds for the whole sum — extrapolated when limited —, extrapolated?, sums or None)."""
    with working_precision(dps + 10, guard=0):
        mp_values = tuple(mpx.mpf(int(sp.Rational(v).p)) / int(sp.Rational(v).q) for v in values)
        mp_m = [mpx.mpf(Fraction(x).numerator) / Fraction(x).denominator for x in m]
        t, (sums, done, total) = clock(lambda: plain_terms(mp_values, group_size, normalisation, mp_m,
                                                           range(len(values)), limit))
    if done < total:
        return t * total / done, True, None
    return t, False, sums


def monte_carlo_to_target(problem, policy, budget=4_000_000):
    """Seconds Monte Carlo needs for MC_TARGET absolute error, from a run's time and standard error."""
    samples = int(min(20000, max(200, budget // problem.group_size)))
    t, (_, errors) = clock(lambda: monte_carlo_preference(problem, policy, samples=samples, seed=1))
    se = float(np.max(errors))
    return t * (se / MC_TARGET) ** 2, samples, se


# --- sections ----------------------------------------------------------------------------------

def binary_preference(args):
    header(f"1. Binary P_G (rewards 1, 0; pi(a) = 0.3) at {args.dps} digits: both outputs")
    policy = ["0.3", "0.7"]
    for G in (64, 1024, 8192, 65536):
        prob = Problem(reference=policy, rewards=[1, 0], group_size=G, beta=1)
        clear_caches()
        fresh, ours = clock(lambda: preference_numeric(prob, policy, args.dps))
        cached, _ = clock(lambda: preference_numeric(prob, policy, args.dps))
        MEASURED[("binary", G)] = fresh
        limit = 4000 if (args.quick and G > 8192) else None
        alt, extrapolated, plain = plain_preference((0, 1), G, "population", (Fraction(7, 10), Fraction(3, 10)),
                                                    args.dps, limit)
        MEASURED[("binary-plain", G)] = alt
        agree = "" if plain is None else f"agree {min(digits(ours[0], plain[1]), digits(ours[1], plain[0])):.0f} digits"
        note = f"cached {seconds(cached)}; {agree or 'from 4000 terms'}; {gmpy_note(f'pg:2:{G}:{args.dps}')}"
        row(f"G = {G}", fresh, "plain per-term loop (mpmath)", alt, extrapolated, note)
        mc, samples, se = monte_carlo_to_target(prob, policy)
        row("", fresh, "Monte Carlo to 1e-6", mc, True, f"from {samples} samples, s.e. {se:.2g}")


def several_values(args):
    header(f"2. P_G with V distinct reward values (deterministic rewards 0..V-1) at {args.dps} digits")
    limit = 20000 if args.quick else 300000
    for V, policy in ((3, ["0.2", "0.3", "0.5"]), (4, ["0.1", "0.2", "0.3", "0.4"])):
        for G in (16, 64, 256):
            prob = Problem(reference=policy, rewards=list(range(V)), group_size=G, beta=1)
            clear_caches()
            ours_t, ours = clock(lambda: preference_numeric(prob, policy, args.dps))
            MEASURED[(f"V{V}", G)] = ours_t
            m = [Fraction(x) for x in policy]
            alt, extrapolated, plain = plain_preference(tuple(range(V)), G, "population", m, args.dps, limit)
            terms = V * math.comb(G - 2 + V, V - 1)
            note = (f"{terms} terms; " + (f"agree {min(digits(a, b) for a, b in zip(ours, plain)):.0f} digits"
                                         if plain is not None else f"from {limit} terms")
                    + f"; {gmpy_note(f'pg:{V}:{G}:{args.dps}')}")
            row(f"V = {V}, G = {G}", ours_t, "plain per-composition loop (mpmath)", alt, extrapolated, note)
            mc, samples, se = monte_carlo_to_target(prob, policy)
            row("", ours_t, "Monte Carlo to 1e-6", mc, True, f"from {samples} samples, s.e. {se:.2g}")


MANY_VALUES = (6, 8, 11, 16)
MANY_GROUPS = (8, 16, 32, 64)
def composition_sum(prob, policy, dps):
    """preference_numeric with the engine held to the composition table (its path for few values)."""
    chosen = engine.sums_cheaper
    engine.sums_cheaper = lambda *settings: False
    try:
        clear_caches()
        return preference_numeric(prob, policy, dps, budget=math.inf)
    finally:
        engine.sums_cheaper = chosen


def many_values(args):
    header(f"2b. P_G with many reward values (rewards 0..V-1, pi_ref ~ 1..V) at {args.dps} digits: "
           f"the (S1, S2) sums against the composition sum (cap {args.cap:g} s by the cost model)")
    sizes = [(V, G) for V in MANY_VALUES for G in MANY_GROUPS] + [(8, 256)]
    for V, G in sizes:
        prob, policy = values_problem(V, G)
        clear_caches()
        fresh, ours = clock(lambda: preference_numeric(prob, policy, args.dps, budget=math.inf))
        cached, _ = clock(lambda: preference_numeric(prob, policy, args.dps, budget=math.inf))
        MEASURED[("many", V, G)] = fresh
        work = cost.preference_work(V, G, V - 1, args.dps)
        MEASURED[("many-model", V, G)] = work.exact
        path = "sums" if isinstance(engine.advantage_table(prob, args.dps), SumsTable) else "compositions"
        extra = gmpy_note(f"pg:{V}:{G}:{args.dps}", fresh)
        if work.compositions <= args.cap:
            alt, plain = clock(lambda: composition_sum(prob, policy, args.dps))
            agree = min(digits(a, b) for a, b in zip(ours, plain))
            MEASURED[("agree", V, G)] = agree
            if path == "sums":
                RATIOS.setdefault("compositions", []).append(alt / fresh)
            row(f"V = {V}, G = {G}", fresh, "composition sum (fixed point)", alt, False,
                f"{path}; cached {seconds(cached)}; agree {agree:.0f} digits; {extra}")
        else:
            row(f"V = {V}, G = {G}", fresh, "composition sum (fixed point)", work.compositions, True,
                f"{path}; cached {seconds(cached)}; cost model estimate; {extra}")
        if G <= 64:
            mc, samples, se = monte_carlo_to_target(prob, policy)
            row("", fresh, "Monte Carlo to 1e-6", mc, True, f"from {samples} samples, s.e. {se:.2g}")


def many_valued_solve(args):
    K, V, G = 200, 11, 64
    prob = many_valued_outputs(K, V, G)
    estimate = cost.solve_evaluations(args.dps) * cost.preference_work(V, G, V - 1, args.dps).exact
    if estimate > 20 * args.cap:
        say(f"  {'K = 200, V = 11, G = 64 solve':<34} {seconds(estimate, True):>10}  (cost model estimate; above 20 x the cap)")
        MEASURED[("solve-many-estimate", K)] = estimate
        return
    clear_caches()
    t, pi = clock(lambda: stationary_policy(prob, args.dps, options=MANY_VALUE_OPTIONS, budget=math.inf))
    MEASURED[("solve-many", K)] = t
    extra = gmpy_note(f"solve:{K}:{V}:{G}:{args.dps}", t)
    say(f"  {'K = 200, V = 11, G = 64 solve':<34} {seconds(t):>10}  stationary_policy, one multistart point; "
        f"sum {mpx.nstr(mpx.fsum(pi), 5)}; {extra}")


def newton_in_policy(problem, start, dps, iterations):
    """The alternative: Newton on the K − 1 stationarity equations in π itself (π_K = 1 − Σ),
    finite-difference Jacobian (K − 1 extra evaluations of every P_G) and mpmath's LU solve."""
    st = derive_stationarity("grpo")
    equation = mp_lambdify((st.preference[0], st.pi[0], st.pi_ref[0], lam, beta_symbol), st.equations[0])
    with working_precision(dps + 30, guard=0):  # beyond the evaluator's dps + 25, so the policy sums to 1 for it
        rho = [mpx.mpf(int(r.p)) / int(r.q) for r in problem.reference]
        b = mpx.mpf(1) / 2

        def residual(x):
            pi = list(x) + [1 - mpx.fsum(x)]
            P = preference_numeric(problem, pi, dps + 15)
            multiplier = mpx.fsum(a * c for a, c in zip(pi, P))
            return [equation(P[o], pi[o], rho[o], multiplier, b) for o in range(len(x))]

        x = [mpx.mpf(v) for v in start[:-1]]
        h = mpx.mpf(10) ** (-(dps + 15) // 2)
        for _ in range(iterations):
            f = residual(x)
            J = mpx.matrix(len(x), len(x))
            for j in range(len(x)):
                shifted = list(x)
                shifted[j] += h
                fj = residual(shifted)
                for i in range(len(x)):
                    J[i, j] = (fj[i] - f[i]) / h
            step = mpx.lu_solve(J, mpx.matrix(f))
            x = [a - s for a, s in zip(x, step)]
        return x + [1 - mpx.fsum(x)]


def solves(args):
    header(f"3. Stationary policies at {args.dps} digits (stationary_policy, fresh tables)")
    stationary_policy(Problem(reference=["1/2", "1/2"], rewards=[1, 0], group_size=2, beta=1), args.dps)  # derivations
    for K in (2, 10, 50, 200):
        prob = many_outputs(K, seed=3, group_size=16)  # distinct random laws: no two alike
        clear_caches()
        ours_t, ours = clock(lambda: stationary_policy(prob, args.dps))
        MEASURED[("solve-K", K)] = ours_t
        with working_precision(15, guard=0):
            start = [+x for x in ours]  # a float-accurate start: Newton needs 2 steps to reach 50 digits
        if args.quick and K == 200:
            t1, _ = clock(lambda: newton_in_policy(prob, start, args.dps, 1))
            alt, extrapolated, note = 2 * t1, True, "1 of its 2 Newton steps timed"
        else:
            alt, alt_policy = clock(lambda: newton_in_policy(prob, start, args.dps, 2))
            extrapolated = False
            note = f"agree {min(digits(a, b) for a, b in zip(ours, alt_policy)):.0f} digits"
        MEASURED[("solve-K-newton", K)] = alt
        row(f"K = {K} outputs, 3 values, G = 16", ours_t, "Newton in pi from a 15-digit start", alt,
            extrapolated, note)
    st = derive_stationarity("grpo")
    equation = mp_lambdify((st.preference[0], st.pi[0], st.pi_ref[0], lam, beta_symbol), st.equations[0])
    for G in (1024, 8192, 65536):
        prob = Problem(reference=["3/10", "7/10"], rewards=[1, 0], group_size=G, beta="1/2")
        clear_caches()
        ours_t, ours = clock(lambda: stationary_policy(prob, args.dps))
        MEASURED[("solve-binary", G)] = ours_t
        if G > 1024:
            say(f"  {'binary, G = ' + str(G):<34} {seconds(ours_t):>10}  (alternative timed at G = 1024 only)")
            continue
        evaluations = []

        def alternative():
            with working_precision(args.dps + 10, guard=0):
                half, r = mpx.mpf(1) / 2, mpx.mpf(3) / 10

                def f(p):
                    evaluations.append(p)
                    with working_precision(args.dps + 10, guard=0):
                        (a, _), _, _ = plain_terms_binary(G, p, args.dps)
                    return equation(a, p, r, 0, half)
                return mpx.findroot(f, (r, 1 - mpx.mpf(10) ** -30), solver="anderson")
        alt, root = clock(alternative)
        row(f"binary, G = {G}", ours_t, "findroot on E(p) with the plain loop", alt, False,
            f"{len(evaluations)} evaluations; agree {digits(ours[0], root):.0f} digits")


def complete_search(args):
    from grpo_symbolic.cases.bistability import critical_beta  # this section's imports stay here
    from grpo_symbolic.model.errors import SolverError
    from grpo_symbolic.solve.boundary import boundary_points

    header(f"3b. Every stationary point, certified (issue 16), beside the float64 scan, at {args.dps} digits")
    sizes = (64, 256) if args.quick else (64, 256, 1024)
    for G in sizes:
        prob = Problem(reference=["1/2", "1/2"], rewards=[1, 0], group_size=G, beta="3/2", penalty="direct")
        clear_caches()
        ours_t, ours = clock(lambda: stationary_policies(prob, args.dps))
        MEASURED[("solve-complete", G)] = ours_t
        clear_caches()
        scan_t, scan = clock(lambda: stationary_policies(prob, args.dps, options=SolverOptions(certified=False)))
        row(f"complete binary search, G = {G}", ours_t, "today's float64 logit scan (not certified)", scan_t, False,
            f"{len(ours)} vs {len(scan)} points; complete: {ours.completeness.complete}")
    cases = (  # newly complete: G = ∞ with eps = 0 (proven boxes), three reward values (2-D subdivision), the fold
        ("grpo, G = oo, eps = 0", dict(reference=["1/2", "1/2"], rewards=[1, 0], group_size="inf", beta="1/2")),
        ("direct, G = oo, 3 values", dict(reference=["1/3"] * 3, rewards=[1, "1/2", 0], group_size="inf", beta=4,
                                          penalty="direct")),
        ("grpo, G = 4, 3 values", dict(reference=["1/5", "3/10", "1/2"], rewards=[2, 0, 1], group_size=4, beta="3/10")),
        ("direct, G = oo, beta = beta* (fold)", dict(reference=["1/2", "1/2"], rewards=[1, 0], group_size="inf",
                                                     beta=mpx.nstr(critical_beta("0.5", args.dps + 10), args.dps + 10),
                                                     penalty="direct")),
    )
    for name, kwargs in cases:
        prob = Problem(**kwargs)
        clear_caches()
        ours_t, ours = clock(lambda: stationary_policies(prob, args.dps))
        clear_caches()
        start = time.perf_counter()
        try:
            found = len(stationary_policies(prob, args.dps, options=SolverOptions(certified=False)))
        except SolverError:
            found = 0
        scan_t = time.perf_counter() - start
        row(f"complete, {name}", ours_t, "float64 scan / multistart (not certified)", scan_t, False,
            f"{len(ours)} vs {found} points; complete: {ours.completeness.complete}; "
            f"double roots: {len(ours.completeness.double_roots)}")
    prob = Problem(reference=["1/5", "3/10", "1/2"], rewards=[1, 0, 2], group_size=4, beta="1/2")
    faces_t, faces = clock(lambda: boundary_points(prob, args.dps))
    say(f"  {'boundary_points, K = 3, G = 4':<34} {seconds(faces_t):>10}  6 faces: {len(faces)} face points, "
        f"{sum(pt.kkt for pt in faces)} KKT points")


def plain_terms_binary(G, p, dps):
    """(P_G(a|p), P_G(b|p)) by the plain per-term loop at the current precision."""
    values = (mpx.mpf(0), mpx.mpf(1))
    sums, done, total = plain_terms(values, G, "population", (1 - p, p), (1, 0))
    return (sums[0], sums[1]), done, total


def grids(args):
    points = 10**6
    loop_points = 2000 if args.quick else 20000
    header(f"4. Float64 over a grid of {points:,} (beta, pi_ref) points; loops timed on {loop_points:,} points")
    rng = np.random.default_rng(0)
    beta = rng.uniform(0.01, 5, points)
    ref = rng.uniform(1e-6, 1 - 1e-6, points)
    forms = (("(14) G = 2, derived closed form", binary_cases.policy_g2().subs(gamma, 1)),
             ("(15) G -> inf, derived closed form", binary_cases.policy_large_g()))
    for name, form in forms:
        vectorised = sp.lambdify((beta_symbol, rho_symbol), form, "numpy")
        scalar = sp.lambdify((beta_symbol, rho_symbol), form, "math")
        ours_t = best_of(lambda: vectorised(beta, ref))
        loop_t, _ = clock(lambda: [scalar(float(b), float(r)) for b, r in zip(beta[:loop_points], ref[:loop_points])])
        MEASURED[("grid", name)] = ours_t
        row(name, ours_t, "Python loop over points (math)", loop_t * points / loop_points, True,
            f"loop timed on {loop_points} points")
    binary_grid.stationary_grid(8, 1.0, 0.5)  # coefficients and derivation, once
    for G in (8, 64):
        grid = binary_grid.stationary_grid(G, beta, ref)
        ours_t = best_of(lambda: binary_grid.stationary_grid(G, beta, ref))
        MEASURED[("grid", f"G{G}")] = ours_t
        n_loop = loop_points // 10
        loop_t, _ = clock(lambda: [binary_grid.stationary_grid(G, b, r) for b, r in zip(beta[:n_loop], ref[:n_loop])])
        worst = 0.0
        for i in range(3):
            prob = Problem(reference=[Fraction(float(ref[i])), 1 - Fraction(float(ref[i]))], rewards=[1, 0],
                           group_size=G, beta=Fraction(float(beta[i])))
            worst = max(worst, abs(float(stationary_policy(prob, 30)[0]) - grid[i]))
        row(f"general G = {G} binary solve", ours_t, "the same solver point by point", loop_t * points / n_loop,
            True, f"loop on {n_loop} points; max |float - 30-digit| = {worst:.1e}")
    small = 10**5
    t_small = best_of(lambda: binary_grid.stationary_grid(8, beta[:small], ref[:small]))
    MEASURED[("grid-size", small)] = t_small
    MEASURED[("grid-size", points)] = MEASURED[("grid", "G8")]


@contextmanager
def flint_precision(dps):
    import flint
    with flint.ctx.workdps(dps + 10):
        yield flint


def flint_rows(args):
    G = 256 if args.quick else 1024
    header(f"5. python-flint (arb balls) against mpmath: the binomial sum P_G(a|p), P_G(b|p), G = {G}, p = 0.3")
    if not flint_available():
        say("  python-flint is not installed (pip install 'grpo_symbolic[rigorous]'): row skipped")
        return
    for dps in (50, 200):
        with working_precision(dps + 10, guard=0):
            mp_t, ((a, b), _, _) = clock(lambda: plain_terms_binary(G, mpx.mpf(3) / 10, dps))
        with flint_precision(dps) as flint:
            def arb_sum():
                p = flint.arb(flint.fmpq(3, 10))
                q = 1 - p
                values = (flint.fmpq(0), flint.fmpq(1))
                rule, n = RULES["population"], G - 1
                sums = [flint.arb(0), flint.arb(0)]
                for k in range(G):
                    weight = flint.arb.bin_uiui(n, k) * p**k * q ** (n - k)
                    for i, v in enumerate((1, 0)):
                        sums[i] += weight * rule(Group(values, v, (n - k, k)), 0, lambda x: flint.arb(x).sqrt())
                return sums
            fl_t, balls = clock(arb_sum)
            radius = max(float(x.rad()) for x in balls)
            with working_precision(dps + 20, guard=0):
                middles = [mpx.mpf(x.mid().str(dps + 15, radius=False)) for x in balls]
        agree = min(digits(x, y, dps + 10) for x, y in zip(middles, (a, b)))
        prob = Problem(reference=["3/10", "7/10"], rewards=[1, 0], group_size=G, beta=1)
        clear_caches()
        ours_t, _ = clock(lambda: preference_numeric(prob, ["3/10", "7/10"], dps))
        row(f"{dps} digits: flint per-term loop", fl_t, "mpmath per-term loop", mp_t, False,
            f"agree {agree:.0f} digits; ball radius {radius:.1e}; ours {seconds(ours_t)}")


def paper_checks(args):
    header("6. The whole `grpo-symbolic check` run (python -m paper_checks, subprocess)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "paper_checks"], cwd=ROOT, capture_output=True, text=True)
    t = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    say(f"  {'all registered checks':<34} {seconds(t):>10}  (wall) {lines[-1] if lines else done.stderr.strip()[-200:]}")
    MEASURED[("checks", 0)] = t


# --- cost model -------------------------------------------------------------------------------

def exponent(kind, sizes):
    xs = [math.log(s) for s in sizes if (kind, s) in MEASURED]
    ys = [math.log(MEASURED[(kind, s)]) for s in sizes if (kind, s) in MEASURED]
    if len(xs) < 2:
        return float("nan")
    return float(np.polyfit(xs, ys, 1)[0])


def cost_model():
    say()
    say("Cost model (grpo_symbolic.model.cost; n = G - 1 others, V reward values, span W, K outputs)")
    say("  P_G, compositions: the compositions of n into V parts with non-negligible weight, fixed point,")
    say("    one integer square root per distinct D: ~ sqrt(G) for V = 2, up to V * C(G-2+V, V-1) ~ G^(V-1).")
    say("  P_G, (S1, S2) sums: the Kronecker polynomial of L ~ n^2 W^3 / 8 coefficients squared log2 G times in")
    say("    fixed point (python-flint), then V limb sums per state: ~ G^2 W^3 (log G + V); the engine takes the")
    say("    cheaper of the two.")
    say("  Plain loops: every composition in mpmath, ~ G^(V-1); Monte Carlo to 1e-6: (s.d./1e-6)^2 groups, ~ G.")
    say("  Solve: P_G evaluations independent of K (mixture coordinates, outputs with equal laws merged);")
    say("    Newton in pi: K evaluations per step and an O(K^3) LU solve.  Float grids: O(points x iterations x G).")
    say()
    say(f"  {'growth of (exponent e in time ~ size^e)':<44} {'predicted':>10} {'measured':>9}")
    def count_exponent(V):  # growth of C(G-2+V, V-1) from G = 64 to 256
        return f"{math.log(math.comb(254 + V, V - 1) / math.comb(62 + V, V - 1)) / math.log(4):.2f}"
    rows = [
        ("binary P_G (ours) in G, 1024..65536", "0.5", exponent("binary", (1024, 8192, 65536))),
        ("binary P_G (plain loop) in G, 1024..65536", "1", exponent("binary-plain", (1024, 8192, 65536))),
        ("V = 3 P_G (ours) in G, 64..256", count_exponent(3), exponent("V3", (64, 256))),
        ("V = 4 P_G (ours) in G, 64..256", count_exponent(4), exponent("V4", (64, 256))),
        ("solve (ours) in K, 10..200", "0 to 1", exponent("solve-K", (10, 50, 200))),
        ("solve (Newton in pi) in K, 10..200", "2 to 3", exponent("solve-K-newton", (10, 50, 200))),
        ("binary solve (ours) in G, 1024..65536", "<= 0.5", exponent("solve-binary", (1024, 8192, 65536))),
        ("float grid (G = 8) in points, 1e5..1e6", "1", exponent("grid-size", (10**5, 10**6))),
    ]
    for V in (11, 16):
        model = [MEASURED.get(("many-model", V, G)) for G in (16, 64)]
        if None not in model:
            rows.append((f"V = {V} P_G (ours) in G, 16..64", f"{math.log(model[1] / model[0]) / math.log(4):.2f}",
                         fitted([(G, ("many", V, G)) for G in (16, 32, 64)])))
    for G in (32, 64):
        model = [MEASURED.get(("many-model", V, G)) for V in (6, 16)]
        if None not in model:
            rows.append((f"G = {G} P_G (ours) in W = V - 1, 5..15", f"{math.log(model[1] / model[0]) / math.log(3):.2f}",
                         fitted([(V - 1, ("many", V, G)) for V in MANY_VALUES])))
    GROWTH.extend(rows)
    for name, predicted, measured in rows:
        say(f"  {name:<44} {predicted:>10} {measured:>9.2f}")


GROWTH = []  # (name, predicted, measured) as printed, for --readme
TARGETS = []  # (target, measured seconds or ratio, limit, ratio measured/limit) as printed, for --readme


def fitted(points):
    """The slope of log time against log size over (size, key) points measured."""
    pairs = [(math.log(size), math.log(MEASURED[key])) for size, key in points if MEASURED.get(key)]
    return float(np.polyfit(*zip(*pairs), 1)[0]) if len(pairs) >= 2 else float("nan")


def first_answer(args):
    header("7. First answer: the command line end to end (subprocess CPU time, best of 3)")
    for name, argv in (("grpo-symbolic --help", ["--help"]),
                       ("binary solve, G = 8, 50 digits", ["solve", "--reference", "0.3,0.7", "--rewards", "1,0",
                                                           "--group-size", "8", "--beta", "0.5"])):
        t = min(child_clock([sys.executable, "-m", "grpo_symbolic", *argv]) for _ in range(3))
        MEASURED[("cli", name)] = t
        say(f"  {name:<34} {seconds(t):>10}")


def targets():
    say()
    say("Targets (2 cores, shared machine): measured / target (<= 1 is met)")
    fastest = min(RATIOS["compositions"]) if RATIOS.get("compositions") else None
    agree = [v for k, v in MEASURED.items() if k[0] == "agree"]
    checks = [
        ("P_G, V = 11, G = 64, 50 digits <= 1 s", MEASURED.get(("many", 11, 64)), 1.0),
        ("P_G, V = 16, G = 64 <= 5 s", MEASURED.get(("many", 16, 64)), 5.0),
        ("P_G, V = 8, G = 256 <= 10 s", MEASURED.get(("many", 8, 256)), 10.0),
        ("stationary policy, K = 200, V = 11, G = 64 <= 10 s", MEASURED.get(("solve-many", 200)), 10.0),
        ("grpo-symbolic --help <= 0.5 s", MEASURED.get(("cli", "grpo-symbolic --help")), 0.5),
        ("binary solve end to end <= 1.5 s", MEASURED.get(("cli", "binary solve, G = 8, 50 digits")), 1.5),
        ("binary P_G, G = 65536, 50 digits < 1 s", MEASURED.get(("binary", 65536)), 1.0),
        ("K = 200 solve (3 values, G = 16) < 10 s", MEASURED.get(("solve-K", 200)), 10.0),
        ("10^6-point float64 grid, general G = 8, < 0.2 s", MEASURED.get(("grid", "G8")), 0.2),
    ]
    for name, value, limit in checks:
        ratio = None if value is None else value / limit
        TARGETS.append((name, None if value is None else seconds(value), ratio))
    estimate = MEASURED.get(("solve-many-estimate", 200))
    if estimate is not None:
        TARGETS[3] = (checks[3][0], seconds(estimate, True) + " (cost model)", estimate / 10.0)
    TARGETS.append((">= 100x the composition sum where the engine takes the sums and both ran (smallest)",
                    None if fastest is None else f"{fastest:.3g}x", None if fastest is None else 100 / fastest))
    TARGETS.append(("agreement with the composition sum (fewest digits)",
                    f"{min(agree):.0f} digits" if agree else None, args_dps(agree)))
    for name, shown, ratio in TARGETS:
        verdict = "not measured" if ratio is None else f"{ratio:.3g}  {'met' if ratio <= 1 else 'NOT met'}"
        say(f"  {name:<58} {shown or '':>12}  {verdict}")


def args_dps(agree):
    """The agreement target as a ratio: (50 digits asked) / (digits agreed) ≤ 1 when met."""
    return 50 / min(agree) if agree else None


# --- README -----------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast subset; long alternatives are extrapolated")
    parser.add_argument("--dps", type=int, default=50, help="digits (default 50)")
    parser.add_argument("--cap", type=float, default=None,
                        help="skip an alternative the cost model puts above this many seconds (default 60; quick 5)")
    parser.add_argument("--readme", action="store_true", help="write README.md's performance section from this run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker)
        return
    args.cap = args.cap if args.cap is not None else (5.0 if args.quick else 60.0)
    say(f"grpo_symbolic benchmarks: {machine()}{' (quick)' if args.quick else ''}")
    for section in (binary_preference, several_values, many_values, solves, many_valued_solve, complete_search,
                    grids, flint_rows, paper_checks, first_answer):
        section(args)
    cost_model()
    targets()
    if args.readme:
        title = (f"One run of `python benchmarks/run.py{' --quick' if args.quick else ''}` on {machine()} "
                 f"(`--readme` wrote this section; {args.dps} digits; `~`: extrapolated or estimated).")
        write_readme(os.path.join(ROOT, "README.md"), title, ROWS, GROWTH, TARGETS, seconds)
        say("README.md: performance section written")


if __name__ == "__main__":
    main()
