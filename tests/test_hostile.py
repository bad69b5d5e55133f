"""Hostile input through the public API (issue 17 item 5): every case either returns a verified
answer or raises ParameterError/SolverError naming the parameter; never an OverflowError,
MemoryError, TypeError, AttributeError, ZeroDivisionError or a bare ValueError, and never a NaN.

Cases from the second outside attack: extreme reward magnitudes, group sizes and digit counts;
non-numbers where numbers go (None, generators, SymPy sets and booleans, numpy arrays of strings);
unordered containers where order carries meaning; number strings whose exponent would expand into
millions of digits (refused by the reader before any work: the message names the limit).  No
wall-clock assertion: the cost refusals are checked by their messages.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable

import mpmath
import numpy as np
import pytest
import sympy as sp

import grpo_symbolic as gs
from grpo_symbolic import ParameterError, Problem, SolverError
from grpo_symbolic.dynamics.simulate import expected_flow, simulate
from grpo_symbolic.model import inputs, numbers
from grpo_symbolic.numerics.certify import certify_root
from grpo_symbolic.solve.binary_grid import stationary_grid

GOOD: dict[str, Any] = dict(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta="0.5")
POLICY = ["0.3", "0.7"]
DPS = 20


def problem(**changes: Any) -> Problem:
    return Problem(**{**GOOD, **changes})


def many_values(count: int) -> gs.RewardLaw:
    """A reward law uniform on 0, 1, …, count − 1 (a reward model's many score levels)."""
    return gs.RewardLaw({i: Fraction(1, count) for i in range(count)})


#: (label, call, the parameter the ParameterError must name first)
REFUSED: list[tuple[str, Callable[[], Any], str]] = [
    ("group_size=10**400", lambda: problem(group_size=10**400), "group_size"),
    ("group_size=1e300", lambda: problem(group_size=1e300), "group_size"),
    ("group_size='²'", lambda: problem(group_size="²"), "group_size"),
    ("group_size=np.array", lambda: problem(group_size=np.array([8])), "group_size"),
    ("dps=10**400", lambda: gs.preference_numeric(problem(), POLICY, dps=10**400), "dps"),
    ("dps=10**6", lambda: gs.stationary_policy(problem(), dps=10**6), "dps"),
    ("10**4 reward values, G=2", lambda: gs.preference_numeric(problem(rewards=[many_values(10**4), 0], group_size=2), POLICY), "budget"),
    ("10**4 reward values, G=8", lambda: gs.preference_numeric(problem(rewards=[many_values(10**4), 0]), POLICY), "budget"),
    ("10**6 reward values, G=2", lambda: gs.stationary_policy(problem(rewards=[many_values(10**6), 0], group_size=2)), "rewards[0]"),
    ("dps='abc'", lambda: gs.preference_numeric(problem(), POLICY, dps="abc"), "dps"),
    ("dps=None", lambda: gs.stationary_policy(problem(), dps=None), "dps"),
    ("preference(None)", lambda: gs.preference_numeric(problem(), None), "policy"),
    ("preference(5)", lambda: gs.preference_exact(problem(), 5), "policy"),
    ("preference(set)", lambda: gs.preference_exact(problem(), {"0.3", "0.7"}), "policy"),
    ("preference(2-d array)", lambda: gs.preference_numeric(problem(), np.array([[0.3, 0.7]])), "policy"),
    ("preset(['trl'])", lambda: gs.preset(["trl"], **GOOD), "preset"),
    ("monte_carlo(samples='10')", lambda: gs.monte_carlo_preference(problem(), POLICY, samples="10"), "samples"),
    ("certify_root(dps='abc')", lambda: certify_root(sp.Symbol("x") ** 2 - 2, sp.Symbol("x"), "1.4", dps="abc"), "dps"),
    ("beta=Interval", lambda: problem(beta=sp.Interval(1, 2)), "beta"),
    ("beta=sp.true", lambda: problem(beta=sp.true), "beta"),
    ("beta=Tuple", lambda: problem(beta=sp.Tuple(1)), "beta"),
    ("eps=Interval", lambda: problem(eps=sp.Interval(0, 1)), "eps"),
    ("reference[0]=Interval", lambda: problem(reference=[sp.Interval(0, 1), "0.7"]), "reference[0]"),
    ("rewards[0]=sp.true", lambda: problem(rewards=[sp.true, 0]), "rewards[0]"),
    ("policy[0]=Tuple", lambda: gs.preference_exact(problem(), [sp.Tuple(1), 0]), "policy[0]"),
    ("normalisation=np.array", lambda: problem(normalisation=np.array(["population"])), "normalisation"),
    ("penalty=['grpo']", lambda: problem(penalty=["grpo"]), "penalty"),
    ("reference=set", lambda: problem(reference={"0.3", "0.7"}), "reference"),
    ("reference=dict", lambda: problem(reference={"0.3": 1, "0.7": 2}), "reference"),
    ("rewards=set", lambda: problem(rewards={1, 0}), "rewards"),
    ("expected_flow(lr=1e300)", lambda: expected_flow(problem(), 5, 1e300), "lr"),
    ("stationary_grid(beta='abc')", lambda: stationary_grid(2, "abc", 0.3), "beta"),
    ("stationary_grid(beta=1e-300)", lambda: stationary_grid(2, 1e-300, 0.3), "beta"),
    ("beta='1e-9999999'", lambda: problem(beta="1e-9999999"), "beta"),
    ("beta='1e-999999999'", lambda: problem(beta="1e-999999999"), "beta"),
    ("reference[0]='1e-9999999'", lambda: problem(reference=["1e-9999999", "1"]), "reference[0]"),
    ("beta=mpf('1e-99999999')", lambda: problem(beta=mpmath.mpf("1e-99999999")), "beta"),
    ("beta=sp.Float(1e-99999999)", lambda: problem(beta=sp.Float(mpmath.mpf("1e-99999999"))), "beta"),
    ("beta=Fraction(1, 2**400000)", lambda: problem(beta=Fraction(1, 2**400000)), "beta"),
    ("beta=100000-digit string", lambda: problem(beta="1" * 100_000), "beta"),
    ("reference floats off by 1e-12", lambda: problem(reference=[0.3, 0.7 + 1e-12]), "reference"),
    ("reference=[nan, 0.7]", lambda: problem(reference=[np.float64("nan"), 0.7]), "reference[0]"),
    ("monte_carlo(rewards 1e300)", lambda: gs.monte_carlo_preference(problem(rewards=[1e300, 0]), POLICY, 100), "rewards"),
    ("monte_carlo(rewards 10**400)", lambda: gs.monte_carlo_preference(problem(rewards=[10**400, 0]), POLICY, 100), "rewards"),
    ("monte_carlo(rewards 1e-300)", lambda: gs.monte_carlo_preference(problem(rewards=[1e-300, 0]), POLICY, 100), "rewards"),
    ("simulate(rewards '1e-310')", lambda: simulate(problem(rewards=["1e-310", 0]), 2, 0.1, groups=4), "rewards"),
    ("expected_flow(rewards 3**-700)", lambda: expected_flow(problem(rewards=[Fraction(1, 3**700), 0]), 2, 0.1), "rewards"),
    ("stationary_policy(options='x')", lambda: gs.stationary_policy(problem(), options="x"), "options"),
    ("certify_root(radius='abc')", lambda: certify_root(sp.Symbol("x") ** 2 - 2, sp.Symbol("x"), "1.4", radius="abc"),
     "radius"),
    ("certify_root(radius=-1)", lambda: certify_root(sp.Symbol("x") ** 2 - 2, sp.Symbol("x"), "1.4", radius=-1), "radius"),
    ("certify_root(approximation=None)", lambda: certify_root(sp.Symbol("x") ** 2 - 2, sp.Symbol("x"), None),
     "approximation"),
    ("Problem.replace(foo=1)", lambda: problem().replace(foo=1), "foo"),
    ("stationary_grid(group_size=True)", lambda: stationary_grid(True, 0.5, 0.3), "group_size"),
    ("expected_flow(beta 10**400)", lambda: expected_flow(problem(beta=10**400), 2, 0.1), "problem"),
    ("simulate(reference 1e-400)", lambda: simulate(problem(reference=["1e-400", 1 - sp.Rational(1, 10**400)]), 2, 0.1),
     "problem"),
]


@pytest.mark.parametrize("label,call,parameter", REFUSED, ids=[c[0] for c in REFUSED])
def test_bad_input_is_refused_naming_the_parameter(label, call, parameter):
    with pytest.raises(ParameterError) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"{parameter}:"), message
    assert len(message) < 600 and len(message.splitlines()) == 1, message  # no echo of a huge input


TAKES_PROBLEM: list[Callable[[Any], Any]] = [
    lambda x: gs.preference_exact(x, POLICY), lambda x: gs.preference_numeric(x, POLICY),
    lambda x: gs.large_group_preference(x, POLICY), lambda x: gs.pairwise_preference(x, POLICY),
    lambda x: gs.monte_carlo_preference(x, POLICY), gs.stationary_policy, gs.stationary_policies,
    lambda x: simulate(x, 2, 0.1), lambda x: expected_flow(x, 2, 0.1),
]


@pytest.mark.parametrize("function", TAKES_PROBLEM)
@pytest.mark.parametrize("bad", ["x", None, GOOD, 5], ids=["string", "None", "dict", "int"])
def test_a_problem_must_be_a_problem(function, bad):
    with pytest.raises(ParameterError, match="^problem: got .*give a grpo_symbolic.Problem"):
        function(bad)


def test_long_exponents_are_refused_by_the_reader_before_expanding(monkeypatch):
    """The reader's limit, not Fraction, refuses '1e-999999999': Fraction is never called."""
    class Expanded(Fraction):
        def __new__(cls, *_args):
            raise AssertionError("Fraction was asked to expand the string")
    monkeypatch.setattr(numbers, "Fraction", Expanded)
    for text in ("1e-9999999", "1e999999999", "1E+0000000000000100001"):
        with pytest.raises(ParameterError, match=f"exponent.*{numbers.MAX_EXPONENT}"):
            numbers.exact(text, "beta")


def test_documented_limits():
    assert inputs.MAX_DPS == 10_000 and numbers.MAX_EXPONENT == 100_000 and numbers.MAX_STRING == 1000
    assert gs.Problem(**{**GOOD, "beta": f"1e-{numbers.MAX_EXPONENT}"}).beta == sp.Rational(1, 10**numbers.MAX_EXPONENT)
    assert inputs.dps(inputs.MAX_DPS) == inputs.MAX_DPS


UNIT = (sp.Rational(1), sp.Integer(0))


@pytest.mark.parametrize("rewards", [[10**400, 0], [1e300, 0], [1e-300, 0], ["1e-310", 0], [Fraction(1, 3**700), 0]],
                         ids=["10**400", "1e300", "1e-300", "'1e-310'", "3**-700"])
def test_extreme_reward_scales_give_the_unit_scale_answer(rewards):
    """The advantage is scale-free: P_G and π* at these rewards equal those at rewards (1, 0)."""
    prob, unit = problem(rewards=rewards), problem()
    with mpmath.workdps(DPS + 10):
        tolerance = mpmath.mpf(10) ** (3 - DPS)
        for got, want in [(gs.stationary_policy(prob, DPS), gs.stationary_policy(unit, DPS)),
                          (gs.preference_numeric(prob, POLICY, DPS), gs.preference_numeric(unit, POLICY, DPS))]:
            assert all(abs(a - b) <= tolerance * max(1, abs(b)) for a, b in zip(got, want)), (got, want)


def test_generators_and_numpy_inputs_are_ordered_sequences():
    prob = problem()
    assert gs.preference_exact(prob, (x for x in POLICY)) == gs.preference_exact(prob, POLICY)
    floats = Problem(reference=np.array([0.3, 0.7]), rewards=[1.0, 0.0], group_size=np.int64(8), beta=np.float64(0.5))
    assert sum(floats.reference) == 1 and abs(floats.reference_correction) <= inputs.float_slack(2)
    assert np.asarray(gs.stationary_policy(floats, DPS), dtype=float).dtype == np.float64


#: Well-posed problems at extreme scales: an answer verified by the solver's residual, or a SolverError.
EXTREME = {
    "beta=1e-300, G=2": dict(beta=1e-300, group_size=2), "beta=1e-300, G=inf": dict(beta=1e-300, group_size="inf"),
    "beta=10**400": dict(beta=10**400), "beta='1e-10000'": dict(beta="1e-10000"),
    "rewards (1e300, 0), G=inf": dict(rewards=[1e300, 0], group_size="inf"),
    "rewards ('1e-310', 0), G=inf": dict(rewards=["1e-310", 0], group_size="inf"),
    "reference 1e-400": dict(reference=["1e-400", 1 - sp.Rational(1, 10**400)]),
    "rho=1e-30, beta=100": dict(reference=["1e-30", 1 - sp.Rational(1, 10**30)], beta=100),
    "rho=1e-30, beta=1": dict(reference=["1e-30", 1 - sp.Rational(1, 10**30)], beta=1),
    "rho=1e-30, beta=1, G=2": dict(reference=["1e-30", 1 - sp.Rational(1, 10**30)], beta=1, group_size=2),
}


def test_huge_beta_is_verified_relative_to_beta():
    """Issue 17.4: β = 10**400 raised "did not verify (residual 8.8e363)": the equation's terms are
    β-sized, so its residual is measured against β; π(a) = ρ(1 + P_G(a|ρ)/β) + O(β⁻²)."""
    prob = problem(beta=10**400)
    policy = gs.stationary_policy(prob, DPS)
    (shift,) = gs.preference_numeric(prob, POLICY, DPS)[:1]
    with mpmath.workdps(DPS + 10):
        rho = mpmath.mpf(3) / 10
        assert abs(policy[0] - rho * (1 + shift / mpmath.mpf(10) ** 400)) <= mpmath.mpf(10) ** (1 - DPS)


RHO30 = dict(reference=["1e-30", 1 - sp.Rational(1, 10**30)], beta=1)
RHO400 = dict(reference=["1e-400", 1 - sp.Rational(1, 10**400)])


def _certified(points: Any) -> None:
    statement = points.completeness
    assert statement.complete and statement.certified and not statement.unresolved, str(statement)


def _same_digits(value: Any, exact: Any, dps: int) -> None:
    """``value`` equals ``exact`` to every one of ``dps`` digits, relative to its own size."""
    with mpmath.workdps(dps + 20):
        assert abs(value - exact) <= abs(exact) * mpmath.mpf(10) ** -dps, (value, exact)


@pytest.mark.parametrize("dps", [30, 50])
def test_tiny_beta_g2_matches_the_closed_form_to_every_digit_of_the_small_component(dps):
    """Issue 17.4: β = 1e-300, G = 2 did not verify (residual 5.15e-26: the multiplier's Newton
    stopped one step short of the bracket's end).  p = π(a) solves p² + p(β − 1) − βρ = 0, so
    q = 1 − p = 2β(1 − ρ)/((1 + β) + √((1 + β)² − 4β(1 − ρ))), about 7e-301, carries its own digits."""
    points = gs.stationary_policies(problem(beta=1e-300, group_size=2), dps)
    _certified(points)
    (point,) = points
    with mpmath.workdps(dps + 40):
        beta, rho = mpmath.mpf(Fraction(1e-300).numerator) / Fraction(1e-300).denominator, mpmath.mpf(3) / 10
        q = 2 * beta * (1 - rho) / ((1 + beta) + mpmath.sqrt((1 + beta) ** 2 - 4 * beta * (1 - rho)))
    _same_digits(point.policy[1], q, dps)
    _same_digits(point.policy[0], 1 - q, dps)
    assert point.policy[0] == 1  # 1 − 7e-301 to every digit asked


@pytest.mark.parametrize("dps", [30, 50])
def test_tiny_beta_large_group_is_found_beyond_the_old_cap(dps):
    """β = 1e-300, G = ∞: the proven box is about ±1384, once clipped to ±1000 (root missed).
    With λ = 0, P(b) = −√(p/q), π(b) = q solves qβ + √(q(1 − q)) = 0.7β: q ≈ (0.7β)²."""
    points = gs.stationary_policies(problem(beta=1e-300, group_size="inf"), dps)
    _certified(points)
    with mpmath.workdps(dps + 40):
        beta = mpmath.mpf(Fraction(1e-300).numerator) / Fraction(1e-300).denominator
        root = mpmath.findroot(lambda x: x * x * beta + x * mpmath.sqrt(1 - x * x) - beta * 7 / 10, beta * 7 / 10)
        q = root ** 2
    _same_digits(points[0].policy[1], q, dps)
    assert points[0].policy[0] == 1


def _fixed_point(changes: dict[str, Any], start: str, digits: int) -> Any:
    """(π(a), π(b)) of the two-output problem by mpmath's findroot on the condition of output b (ρ(b) ≈ 1,
    well-conditioned; with λ = Σ π·P the condition of a follows), P from preference_numeric."""
    prob = problem(**changes)
    with mpmath.workdps(digits):
        beta = mpmath.mpf(sp.Rational(prob.beta).p) / sp.Rational(prob.beta).q
        rho_b = 1 - mpmath.mpf(sp.Rational(prob.reference[0]).p) / sp.Rational(prob.reference[0]).q

        def condition(p: Any) -> Any:
            P = gs.preference_numeric(prob, [p, 1 - p], digits)
            lam = p * P[0] + (1 - p) * P[1]
            return (1 - p) * (beta + lam - P[1]) - beta * rho_b

        p = mpmath.findroot(condition, mpmath.mpf(start))
        return p, 1 - p


@pytest.mark.parametrize(("changes", "start"), [(RHO30, "0.46"), (RHO400, "0.75")], ids=["rho=1e-30, beta=1", "reference 1e-400"])
def test_tiny_reference_holding_much_of_pi_is_found_and_certified(changes, start):
    """Issue 17.4: at G = 8 the output with π_ref = 1e-30 (or 1e-400) holds 0.46 (0.75) of π, its
    denominator β + λ − P is π_ref-sized, and the certified search left an unresolved box and no
    root; the complement form certifies it, at dps 30, to every digit of the fixed point."""
    points = gs.stationary_policies(problem(**changes), 30)
    _certified(points)
    (point,) = points
    for value, exact in zip(point.policy, _fixed_point(changes, start, 80)):
        _same_digits(value, exact, 30)


def test_tiny_reference_g2_is_the_square_root_and_complete():
    """ρ = 1e-30, β = 1, G = 2: π(a) = ρ/π(a), i.e. √ρ = 1e-15 exactly; it took 20 s and ended NOT
    complete (the 80-bit pass spent the whole box budget where 1 − m_0 < 2^-80)."""
    points = gs.stationary_policies(problem(group_size=2, **RHO30), 30)
    _certified(points)
    with mpmath.workdps(60):
        root = mpmath.mpf(10) ** -15
        _same_digits(points[0].policy[0], root, 30)
        _same_digits(points[0].policy[1], 1 - root, 30)


@pytest.mark.parametrize("group_size", [2, "inf"])
def test_beta_beyond_the_cap_says_the_box_was_clipped(group_size):
    """β = 1e-10000: the proven box (about ±23000, ±46000 at G = ∞) is wider than the cap; the
    error says that only the clipped box was searched, shows the proven one and names the option."""
    with pytest.raises(SolverError) as info:
        gs.stationary_policies(problem(beta="1e-10000", group_size=group_size), 30)
    message = str(info.value)
    assert info.value.reason == SolverError.NOT_CONVERGED
    assert "no interior stationary policy found; NOT complete" in message
    assert "only the clipped box is searched (SolverOptions.logit_cap" in message and "[-2000, 2000]" in message
    assert "provably" not in message and "lie on the boundary" not in message


@pytest.mark.parametrize("changes", EXTREME.values(), ids=EXTREME.keys())
def test_extreme_problems_answer_or_raise_solver_error(changes):
    prob = problem(**changes)
    try:
        policy = gs.stationary_policy(prob, DPS)
    except SolverError as error:
        assert error.reason in SolverError.REASONS and str(error)
        return
    assert all(mpmath.isfinite(x) and 0 <= x <= 1 for x in policy)
    with mpmath.workdps(DPS + 10):
        assert abs(mpmath.fsum(policy) - 1) <= mpmath.mpf(10) ** (2 - DPS)


@pytest.mark.slow
def test_more_reward_values_than_pythons_recursion_limit():
    """Issue 17: 10^4 values ended in a RecursionError; the walk over the compositions is iterative now
    (1100 values at G = 2, about 20 s: P_G(a) is the mean advantage against one other draw)."""
    count = 1100
    prob = problem(rewards=[many_values(count), 0], group_size=2)
    P = gs.preference_numeric(prob, ["1/2", "1/2"], dps=15, budget=600)
    # G = 2, population std, eps = 0: the focal member's advantage is sign(r − r') (0 on a tie), so
    # P_G(a) = ½·E sign(r − r'') (r'' from a's own law: 0 by symmetry) + ½·P(r > 0) = (n − 1)/(2n)
    expected = Fraction(count - 1, 2 * count)
    assert abs(P[0] - mpmath.mpf(expected.numerator) / expected.denominator) < mpmath.mpf(10) ** -14
