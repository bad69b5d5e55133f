"""Checks that every path of the P_G engine computes what it claims: x-eps-brute-force, x-engine-paths.

The engine has several routes to P_G(o|π): the exact composition table (SymPy), the fixed-point
:class:`~grpo_symbolic.preference.moments.MomentTable` (rational rewards; its batches of 2^15
compositions), the per-composition :class:`~grpo_symbolic.preference.engine.NumericTable` (other
rewards), the pairwise G = 2 forms and the float64 scan tables.  Each is held here against a
route that shares none of its code: a brute-force sum over every ordered group, with the
advantage (r_1 − mean)/(std + eps) typed out below.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from grpo_symbolic.model.presets import TRL_EPS
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import p
from grpo_symbolic.preference.engine import (advantage_table, numeric_table, pairwise_preference, preference_exact,
                                             preference_numeric)
from grpo_symbolic.preference.moments import MomentTable, moment_table
from grpo_symbolic.numerics.precision import mpx, working_precision
from paper_checks.registry import agreement, check, combine, digits_of_agreement, symbolic

R = sp.Rational
#: Outputs with stochastic rewards (three distinct values) and a policy; G = 4 keeps 3^3 groups per focal value.
LAWS = ({1: R(1, 3), 0: R(2, 3)}, {R(1, 2): R(1, 2), 1: R(1, 2)}, 0)
IRRATIONAL_LAWS = ({sp.sqrt(2): R(1, 3), 0: R(2, 3)}, {1: R(1, 2), 0: R(1, 2)}, sp.sqrt(2))
POLICY = (R(1, 5), R(3, 10), R(1, 2))
EPSILONS = (R(1, 10), TRL_EPS)


def _brute_force(laws, policy, group_size, normalisation, eps, dps):
    """P_G(o|policy) by summing over every ordered group of (output, reward) of the other G − 1 members.

    The advantage is written out here: (r_1 − mean)/(std + eps), std = √(Σ(r − mean)²/n) with n = G
    (population) or G − 1 (sample); r_1 − mean for shift; 0 when every reward in the group is equal.
    """
    outcomes = [tuple(law.items()) if isinstance(law, dict) else ((law, 1),) for law in laws]
    members = [(v, q * x) for law, x in zip(outcomes, policy) for v, q in law]  # (reward, probability) of one draw
    divisor = {"population": group_size, "sample": group_size - 1}.get(normalisation)
    with working_precision(dps, guard=10):
        e = mpx.mpf(sp.N(eps, dps + 10))
        result = []
        for law in outcomes:
            total = mpx.mpf(0)
            for v, q in law:
                for others in itertools.product(members, repeat=group_size - 1):
                    rewards = [v] + [r for r, _ in others]
                    if len(set(rewards)) == 1:
                        continue  # 0/0 := 0, decided on the exact rewards
                    r = [mpx.mpf(sp.N(x, dps + 10)) for x in rewards]
                    mean = mpx.fsum(r) / group_size
                    advantage = r[0] - mean
                    if divisor is not None:
                        advantage /= mpx.sqrt(mpx.fsum((x - mean) ** 2 for x in r) / divisor) + e
                    total += mpx.mpf(sp.N(q, dps + 10)) * mpx.fprod(mpx.mpf(sp.N(w, dps + 10)) for _, w in others) * advantage
            result.append(total)
    return result


def _problem(laws, normalisation, eps, group_size=4):
    return Problem(reference=POLICY, rewards=laws, group_size=group_size, beta=1, normalisation=normalisation, eps=eps)


@check("x-eps-brute-force")
def check_x_eps_brute_force(dps):
    outcomes = []
    for normalisation in ("population", "sample"):
        for eps in EPSILONS:
            brute = _brute_force(LAWS, POLICY, 4, normalisation, eps, dps)
            problem = _problem(LAWS, normalisation, eps)
            fast = isinstance(advantage_table(problem, dps), MomentTable)
            outcomes.append(agreement(list(preference_numeric(problem, POLICY, dps)), brute, dps,
                                      what=f"{normalisation}, eps={eps}: {'MomentTable' if fast else 'NumericTable'} vs brute force"))
            exact = [v.evalf(dps + 10) for v in preference_exact(problem, POLICY)]
            outcomes.append(agreement(exact, brute, dps, what=f"{normalisation}, eps={eps}: exact table vs brute force"))
            irrational = _problem(IRRATIONAL_LAWS, normalisation, eps)
            outcomes.append(agreement(list(preference_numeric(irrational, POLICY, dps)),
                                      _brute_force(IRRATIONAL_LAWS, POLICY, 4, normalisation, eps, dps), dps,
                                      what=f"{normalisation}, eps={eps}, reward sqrt(2): NumericTable vs brute force"))
    outcomes.append(agreement(list(preference_numeric(_problem(LAWS, "shift", R(1, 10)), POLICY, dps)),
                              _brute_force(LAWS, POLICY, 4, "shift", 0, dps), dps, what="shift, eps=1/10 (no role) vs brute force"))
    return combine(outcomes)


@check("x-engine-paths")
def check_x_engine_paths(dps):
    problem = _problem(LAWS, "shift", 0, group_size=2)
    pairwise = pairwise_preference(problem, (p, R(1, 3), R(2, 3) - p))
    composition = preference_exact(problem, (p, R(1, 3), R(2, 3) - p))
    outcomes = [symbolic(all(sp.expand(a - b) == 0 for a, b in zip(pairwise, composition)),
                         "G=2, shift: pairwise form (r(o) - r(o'))/2 == composition sum, symbolic pi")]
    values, weights = (sp.Integer(0), sp.Integer(1), sp.Integer(3)), (R(1, 3), R(1, 4), R(5, 12))
    with working_precision(dps, guard=0):
        m = [mpx.mpf(w.p) / w.q for w in weights]
    for normalisation in ("population", "sample"):
        rational = _problem(LAWS, normalisation, R(1, 10), group_size=6)
        key = (rational.reward_values, 6, normalisation, R(1, 10))
        with working_precision(dps, guard=10):
            q_moment, q_numeric = moment_table(*key).evaluate(m), numeric_table(*key, dps + 10).evaluate(m)
        outcomes.append(agreement(q_moment, q_numeric, dps, what=f"{normalisation}, G=6: MomentTable vs NumericTable"))
        # G = 300, three reward values: ~45000 compositions, more than one batch of 2^15.
        table, mirrored = moment_table(values, 300, normalisation, R(1, 10)), moment_table(values[::-1], 300, normalisation, R(1, 10))
        with working_precision(dps, guard=10):
            q, q_mirrored = table.evaluate(m), mirrored.evaluate(m[::-1])[::-1]
            zero_mean = mpx.fsum(x * y for x, y in zip(m, q))
        outcomes.append(agreement(q, q_mirrored, dps, what=f"{normalisation}, G=300 (batches): values in reverse order, other batches"))
        outcomes.append(agreement(zero_mean, 0, dps, scale=1, what=f"{normalisation}, G=300 (batches): sum_v m_v Q_v = 0"))
        floats = table.evaluate_float(np.array([float(x) for x in m]))
        digits = min(digits_of_agreement(a, float(b), dps) for a, b in zip(q, floats))
        outcomes.append(symbolic(digits >= 11, f"{normalisation}, G=300: float64 scan table vs fixed point to {digits:.1f} digits; "
                                               "at least 11 asked (binary64 sums of 45000 terms, not --dps)"))
    return combine(outcomes)
