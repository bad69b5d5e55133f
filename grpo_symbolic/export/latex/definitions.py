"""The builders of the paper's definitions (1)–(3) and (5)–(7), and of the reward term (6).

A definition is shown as the model states it: the model's own function (the equation table's
callable) is applied to ONE generic output (π(o), π_ref(o), …) and the result is summed over the
outputs (:class:`~grpo_symbolic.export.latex.printer.OverOutputs`).  Before a summand is printed,
the sum of its copies over three concrete outputs is confirmed equal to the model's function on
those three outputs (:func:`summed`), so a change of the model's definition cannot be exported
silently.  (6) is a result, not a definition: the reward term of (1), computed by brute force over
every group, equals Σ_o π(o) P_G(o | π_old) with the engine's P_G.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import sympy as sp

from grpo_symbolic.cases.baselines import preference_matrix
from grpo_symbolic.export.latex.arrangement import evaluated, minus, over
from grpo_symbolic.export.latex.builders import builds
from grpo_symbolic.export.latex.notation import named
from grpo_symbolic.export.latex.printer import OverOutputs, as_written
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import G, beta, indexed, pi_o, pi_old_o, pi_ref_o, r_o
from grpo_symbolic.paper.equations import Equation
from grpo_symbolic.preference.engine import preference_exact
from grpo_symbolic.theory.advantage import Group
from grpo_symbolic.theory.algebra import expectation, is_zero

#: The number of outputs on which each summand is confirmed.
OUTPUTS = 3

_P_OLD = named("P_old_o")
_O, _O2 = named("o"), named("o2")


def _outputs(**stems: sp.Symbol) -> tuple[dict[str, tuple[sp.Symbol, ...]], list[dict[sp.Symbol, sp.Symbol]]]:
    """Concrete symbols for OUTPUTS outputs, by stem, and for each output the renaming generic → concrete."""
    concrete = {stem: indexed(stem, OUTPUTS, positive=True) for stem in stems}
    renames = [{generic: concrete[stem][k] for stem, generic in stems.items()} for k in range(OUTPUTS)]
    return concrete, renames


def summed(term: sp.Expr, renames: Iterable[Mapping[sp.Symbol, sp.Expr]], expected: sp.Expr,
           index: sp.Symbol = _O) -> OverOutputs:
    """Σ_index ``term``, after confirming that its copies under ``renames`` add up to ``expected``.

    >>> from grpo_symbolic.export.latex.printer import to_latex
    >>> print(to_latex(summed(2 * pi_o, [{pi_o: 1}, {pi_o: 2}], 6)))
    \\sum_{o} 2 \\pi_\\theta(o)
    >>> summed(2 * pi_o, [{pi_o: 1}], 3)
    Traceback (most recent call last):
    ...
    ArithmeticError: the summand 2*pi_o does not add up to the model's 3
    """
    total = sp.Add(*[evaluated(term).xreplace(dict(rename)) for rename in renames])
    if not is_zero(sp.expand(sp.expand_log(total - expected, force=True))):
        raise ArithmeticError(f"the summand {term} does not add up to the model's {expected}")
    return OverOutputs(term, index)


@builds("eq1")
def objective(equation: Equation) -> sp.Basic:
    """(1) without clipping, for one context: J(π; π_old) = Σ_o [π(o) P_G(o|π_old) − β π_old(o) D(o)]."""
    concrete, renames = _outputs(P=_P_OLD, pi=pi_o, rho=pi_ref_o, pi_old=pi_old_o)
    term = equation.derive((_P_OLD,), (pi_o,), (pi_ref_o,), (pi_old_o,), beta, "grpo")
    expected = equation.derive(concrete["P"], concrete["pi"], concrete["rho"], concrete["pi_old"], beta, "grpo")
    arranged = as_written(sp.Add, as_written(sp.Mul, pi_o, _P_OLD), term - pi_o * _P_OLD)
    return sp.Eq(named("J"), summed(arranged, renames, expected))


@builds("eq2")
def advantage(equation: Equation) -> sp.Basic:
    """(2): A_i = (r_i − r̄)/sqrt((1/G) Σ_j (r_j − r̄)²), confirmed at G = 3 against the model's rule."""
    r_i, r_j, mean, j = named("r_i"), named("r_j"), named("rbar_G"), named("j")
    variance = as_written(sp.Mul, 1 / G, sp.Sum(minus(r_j, mean) ** 2, (j, 1, G)))
    arranged = over(minus(r_i, mean), sp.Pow(variance, sp.S.Half, evaluate=False))
    rewards = indexed("r", OUTPUTS, real=True)
    derived = equation.derive(Group(rewards, 0, (0, 1, 1)), 0, sp.sqrt)
    at_three = evaluated(arranged).replace(
        lambda e: isinstance(e, sp.Sum), lambda e: sp.Add(*[e.function.subs(r_j, r) for r in rewards]))
    at_three = at_three.subs({G: OUTPUTS, mean: sp.Add(*rewards) / OUTPUTS, r_i: rewards[0]})
    if not is_zero(at_three - derived):
        raise ArithmeticError(f"(2) as arranged is not the model's advantage {derived}")
    return sp.Eq(named("A_i"), arranged)


@builds("eq3")
def rlhf_objective(equation: Equation) -> sp.Basic:
    """(3) for one context: E_π r − β KL(π‖π_ref) = Σ_o π(o)(r(o) − β log(π(o)/π_ref(o)))."""
    concrete, renames = _outputs(pi=pi_o, rho=pi_ref_o, r=r_o)
    term = expectation((pi_o,), (r_o,)) - beta * equation.derive((pi_o,), (pi_ref_o,))
    expected = expectation(concrete["pi"], concrete["r"]) - beta * equation.derive(concrete["pi"], concrete["rho"])
    arranged = as_written(sp.Mul, pi_o, sp.expand(term / pi_o, log=False))
    return sp.Eq(named("J_rlhf"), summed(arranged, renames, expected))


@builds("eq5")
def nlhf_game(equation: Equation) -> sp.Basic:
    """(5): the payoff of the regularised NLHF game, the model's ``nlhf_payoff``, as a double sum over o, o'."""
    pi_prime, ref_prime, prefers = named("pi_prime_o2"), named("pi_ref_o2"), named("P_pair")
    other, unused = sp.Dummy("other"), sp.Dummy("unused")
    matrix = ((unused, prefers), (unused, unused))
    payoff = sp.expand(log=False, e=equation.derive((pi_o, other), (other, pi_prime), (pi_ref_o, ref_prime), matrix))
    pair = sp.Add(*[t for t in sp.Add.make_args(payoff) if not t.has(other, unused)])  # the (o, o') term
    arranged = as_written(sp.Mul, pi_o, pi_prime, sp.expand(pair / (pi_o * pi_prime), log=False))
    pi, opponent, reference = (indexed(stem, 2, positive=True) for stem in ("pi", "pi_prime", "rho"))
    generic = preference_matrix(2)
    renames = [{pi_o: pi[a], pi_prime: opponent[b], pi_ref_o: reference[a], ref_prime: reference[b],
                prefers: generic[a][b]} for a in range(2) for b in range(2)]
    expected = equation.derive(pi, opponent, reference, generic)
    pairs = summed(arranged, renames, expected, _O2)
    return sp.Eq(named("J_nlhf"), OverOutputs(pairs, _O))


@builds("eq6")
def reward_term(equation: Equation) -> sp.Basic:
    """(6): the reward term of (1), by brute force over every group, is Σ_o π(o) P_G(o | π_old)."""
    problem = Problem(reference=("0.2", "0.3", "0.5"), rewards=(2, 0, 1), group_size=OUTPUTS, beta=1)
    concrete, renames = _outputs(pi=pi_o, pi_old=pi_old_o)
    preference = preference_exact(problem, concrete["pi_old"])
    for rename, value in zip(renames, preference):
        rename[_P_OLD] = value
    derived = equation.derive(problem, concrete["pi"], concrete["pi_old"])
    return sp.Eq(named("R_G"), summed(as_written(sp.Mul, pi_o, _P_OLD), renames, derived))


@builds("eq7")
def kl0(equation: Equation) -> sp.Basic:
    """(7): KL0(π‖π_ref; π_old) = Σ_o π_old(o)(π_ref(o)/π(o) − log(π_ref(o)/π(o)) − 1), the model's ``kl0``."""
    concrete, renames = _outputs(pi=pi_o, rho=pi_ref_o, pi_old=pi_old_o)
    term = equation.derive((pi_o,), (pi_ref_o,), (pi_old_o,))
    expected = equation.derive(concrete["pi"], concrete["rho"], concrete["pi_old"])
    return sp.Eq(named("KL0"), summed(term, renames, expected))
