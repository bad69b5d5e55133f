"""The equation table: for each equation or result of the paper, everything that names it.

One :class:`Equation` row ties together the identities an equation has in this project: its
``key``, its LaTeX ``label`` (``eq:N`` the paper's equation (N), ``p:…`` a result the paper states
without a number, ``x:…`` a result beyond the paper), its printed form (an attribute of
:mod:`grpo_symbolic.paper.forms`), the callable that derives it from the model, the IDs of the
claims that check it and the figure that plots it.  The LaTeX export builds its formula list from
this table, ``paper_checks.claims`` reads each claim's equations from it, and the README's list of
checked equations is :func:`markdown` (``python -m grpo_symbolic.paper.equations --markdown``).

>>> EQUATIONS["eq14"].label, EQUATIONS["eq14"].figure
('eq:14', 1)
>>> EQUATIONS["eq14"].derivation
'cases.binary.policy_g2'
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Sequence

import sympy as sp

from grpo_symbolic.cases import (baselines, binary, bistability, conventions, direct_kl, general, general_g,
                                 kl_families, shift_only)
from grpo_symbolic.model.settings import Estimator, Placement
from grpo_symbolic.paper import forms
from grpo_symbolic.theory import advantage, estimators, objective, penalty, regularisers

# The trainers' regularisers whose stationary forms are exported (beyond the paper).
_FLIPPED = regularisers.Regulariser(Estimator.K3_FLIPPED, Placement.LOSS)
_POST_K3 = regularisers.Regulariser(Estimator.K3, Placement.REWARD_POST)
_ENTROPY = regularisers.Regulariser(Estimator.K1, Placement.LOSS, entropy=True)
_TEMPERED = regularisers.Regulariser(Estimator.K2, Placement.LOSS, entropy=True)


@dataclass(frozen=True)
class Equation:
    """One equation or result: ``key``, LaTeX ``label`` (None: not exported), ``printed`` form
    (None: the paper prints none), ``derive`` (the callable that derives it; ``part``: the item of
    its result that is this equation), ``claims`` (checked by) and ``figure`` (plotted in, or None)."""

    key: str
    label: str | None
    printed: Any
    derive: Callable[..., Any]
    claims: tuple[str, ...]
    figure: int | None = None
    part: str | None = None

    def derived(self) -> Any:
        """The derivation's result (its ``part`` if one is named), for callables without arguments.

        >>> EQUATIONS["reverse-kl"].derived()
        -pi_ref_o/pi_o
        """
        result = self.derive()
        return result if self.part is None else result[self.part]

    @property
    def derivation(self) -> str:
        """The derivation as text, read off the callable: module, name and bound arguments."""
        function = self.derive.func if isinstance(self.derive, partial) else self.derive
        name = f"{function.__module__.removeprefix('grpo_symbolic.')}.{function.__qualname__}"
        if isinstance(self.derive, partial):
            name += f"({', '.join(map(repr, self.derive.args))})"
        return name if self.part is None else f"{name}()[{self.part!r}]"

    @property
    def printed_name(self) -> str | None:
        """The name of the printed form in :mod:`grpo_symbolic.paper.forms` (None if there is none)."""
        if self.printed is None:
            return None
        return [name for name, value in vars(forms).items() if value is self.printed][-1]  # defined after imports


def _rows(*rows: tuple) -> dict[str, Equation]:
    table = {row[0]: Equation(*row) for row in rows}
    if len(table) != len(rows):  # pragma: no cover - guards edits of this file
        raise RuntimeError("grpo_symbolic.paper.equations: duplicate key")
    return table


_GRPO = partial(objective.derive_stationarity, "grpo")
_DIRECT = partial(objective.derive_stationarity, "direct")

#: Every equation and result, in the paper's order (its sections, then the results beyond it).
EQUATIONS = _rows(
    # key, label, printed form, derivation, claims, figure, part
    ("eq1", "eq:1", None, objective.objective, ("eq6-reward-term", "eq7-kl0")),
    ("eq2", "eq:2", forms.advantage_eq2, advantage.population,
     ("adv-population-std", "adv-pairwise-form", "adv-invariance")),
    ("eq3", "eq:3", None, penalty.kl, ("rlhf-log-pooling",)),
    ("eq4", "eq:4", forms.RLHF_POLICY_EQ4, partial(baselines.derive_rlhf, 3), ("rlhf-log-pooling",)),
    ("eq5", "eq:5", None, baselines.nlhf_payoff, ("nlhf-fixed-point",)),
    ("nlhf", "p:nlhf", forms.NLHF_POLICY, partial(baselines.derive_nlhf, 3), ("nlhf-fixed-point",)),
    ("eq6", "eq:6", None, general.surrogate_reward_term, ("eq6-reward-term",)),
    ("eq7", "eq:7", forms.kl0_eq7, penalty.kl0, ("eq7-kl0", "kl0-unbiased-on-policy")),
    ("eq8", "eq:8", forms.GRADIENT_KL0_EQ8, general.penalty_gradients, ("eq8-kl0-gradient",), None, "kl0"),
    ("eq9", "eq:9", forms.GRADIENT_KL_EQ9, general.penalty_gradients, ("eq9-kl-gradient",), None, "kl"),
    ("eq10", "eq:10", forms.GRADIENT_ON_POLICY_EQ10, general.penalty_gradients, ("eq10-on-policy-gradient",),
     None, "on_policy"),
    ("reverse-kl", "p:reverse-kl", forms.GRADIENT_REVERSE_KL, general.penalty_gradients,
     ("reverse-kl-gradient",), None, "reverse"),
    ("eq11", "eq:11", forms.STATIONARITY_EQ11, _GRPO, ("eq11-stationarity", "eq11-bound", "slip-3")),
    ("eq11-g", "p:11-g", forms.STATIONARITY_G_FORM, _GRPO, ("eq11-g-form",)),
    ("multiplier", "p:multiplier", forms.MULTIPLIER_APP_A, _GRPO, ("app-a-multiplier", "slip-4")),
    ("zero-mean", "x:11-zero-mean", None, general.zero_mean, ("zero-mean-identity", "slip-2")),
    ("eq12", "eq:12", forms.STATIONARITY_EQ12, general.stationarity_with_preference, ("eq12-g2",)),
    ("eq13", "eq:13", forms.STATIONARITY_EQ13, general.stationarity_with_preference,
     ("eq13-large-g", "x-stochastic-large-g")),
    ("eq14", "eq:14", forms.POLICY_EQ14, binary.policy_g2,
     ("eq14-binary-g2", "eq14-tie", "eq14-ratio-only", "eq14-monotone", "eq14-limits", "eq14-sqrt",
      "eq14-rank-only", "fig1"), 1),
    ("eq14-floor", "p:14-floor", forms.FLOOR_G2, binary.floor_g2, ("eq14-jump", "eq14-bound", "trl-default-floors")),
    ("eq15", "eq:15", forms.POLICY_EQ15, binary.policy_large_g, ("eq15-binary-large-g", "eq15-tie", "fig2"), 2),
    ("eq15-floor", "p:15-floor", forms.FLOOR_LARGE_G, binary.floor_large_g,
     ("eq15-bound", "eq15-vs-g2", "trl-default-floors")),
    ("log-pooling", "p:log-pooling", forms.DIRECT_KL_POLICY, _DIRECT, ("direct-kl-penalty", "direct-kl-log-pooling")),
    ("direct-g2", "p:direct-g2", forms.DIRECT_KL_POLICY_G2, direct_kl.g2_policy, ("direct-kl-g2-binary", "fig3"), 3),
    ("h", "p:h", forms.DIRECT_KL_H, direct_kl.h, ("direct-kl-large-g-h", "slip-8")),
    ("x-star", "p:x-star", forms.DIRECT_KL_X_STAR, direct_kl.h_turning_point, ("direct-kl-large-g-h",)),
    ("shift-only", "p:shift-only", forms.SHIFT_ONLY_REWARD_TERM, shift_only.reward_term, ("shift-only-reward-term",)),
    ("shift-only-direct", "p:shift-only-direct", forms.SHIFT_ONLY_DIRECT_BETA, shift_only.expected_advantage,
     ("shift-only-direct-kl-rlhf",)),
    ("eq16", "eq:16", forms.REWARD_TERM_EQ16, binary.reward_term_g2, ("eq16",)),
    ("eq17", "eq:17", forms.STATIONARITY_EQ17, binary.stationarity_g2, ("eq17",)),
    ("eq17-quadratic", "p:17-quadratic", forms.QUADRATIC_EQ17, binary.quadratic_g2, ("eq14-binary-g2", "slip-5")),
    ("eq18", "eq:18", forms.REWARD_TERM_EQ18, binary.reward_term_large_g, ("eq18",)),
    ("eq19", "eq:19", forms.STATIONARITY_EQ19, partial(binary.cleared_stationarity, sp.oo, "ranked"),
     ("eq19", "slip-6")),
    ("eq19-quadratic", "p:19-quadratic", forms.QUADRATIC_EQ19, binary.quadratic_large_g, ("eq15-binary-large-g",)),
    ("binomial-a", "x:binomial-a", forms.BINOMIAL_P_A, general_g.binomial_preference, ("x-general-g-binary",)),
    ("binomial-b", "x:binomial-b", forms.BINOMIAL_P_B, general_g.binomial_preference, ("x-general-g-binary",)),
    ("large-g-expansion", "x:large-g-expansion", forms.LARGE_G_PREFERENCE, general_g.large_group_expansion,
     ("large-g-limit",)),
    ("rate", "x:rate", None, general_g.rate_coefficient, ("x-large-g-rate",)),
    ("h-minimum", "x:h-minimum", forms.H_AT_X_STAR, direct_kl.h_minimum, ("x-direct-kl-bistability",)),
    ("best-response", "x:best-response", None, direct_kl.best_response_logit, ("slip-10",)),
    ("best-response-slope", "x:best-response-slope", None, bistability.best_response_slope, ("slip-10",)),
    ("h-mirror", "x:h-mirror", None, bistability.h_at_mirror, ("slip-10", "x-direct-kl-bistability")),
    ("critical-beta", "x:critical-beta", None, bistability.critical_beta_slope_in_rho, ("x-direct-kl-bistability",)),
    ("bessel", "x:bessel", None, conventions.bessel_factor, ("x-bessel-beta-eff",)),
    ("beta-eff", "x:beta-eff", forms.BESSEL_BETA_EFF, conventions.beta_eff, ("x-bessel-beta-eff",)),
    ("k1", "x:k1", None, partial(estimators.expected_gradient, "k1", 3), ("x-kl-estimators",)),
    ("k2", "x:k2", None, partial(estimators.expected_gradient, "k2", 3), ("x-kl-estimators",)),
    ("k3", "x:k3", None, partial(estimators.expected_gradient, "k3", 3), ("x-kl-estimators",)),
    ("is-k3", "x:is-k3", None, partial(estimators.expected_gradient, "is_k3", 3), ("x-kl-estimators",)),
    ("kl-linear", "x:kl-linear", None, partial(regularisers.derive_regularised, _FLIPPED), ("x-kl-link-linear",)),
    ("kl-linear-g2", "x:kl-linear-g2", None, partial(kl_families.closed_form, "linear", 2), ("x-kl-link-linear",)),
    ("kl-lambert", "x:kl-lambert", None, partial(regularisers.derive_regularised, _POST_K3),
     ("x-kl-reward-post-lambert",)),
    ("kl-softmax", "x:kl-softmax", None, partial(regularisers.derive_regularised, _ENTROPY, 2, sp.Integer(0)),
     ("x-kl-entropy-softmax",)),
    ("kl-softmax-g2", "x:kl-softmax-g2", None, partial(kl_families.closed_form, "softmax", 2), ("x-kl-entropy-softmax",)),
    ("kl-tempered", "x:kl-tempered", None, partial(regularisers.derive_regularised, _TEMPERED),
     ("x-kl-entropy-with-kl",)),
)

#: The equations with a LaTeX label, by label.
BY_LABEL = {e.label: e for e in EQUATIONS.values() if e.label is not None}


def markdown(claim_ids: Sequence[str] = ()) -> str:
    """The table as Markdown, one row per equation (the README's list of checked equations).

    ``claim_ids``: if given, the claims that no equation lists are added as a last line.

    >>> print(markdown().splitlines()[3])
    | (2) | `eq:2` | `theory.advantage.population` | `advantage_eq2` | `adv-population-std`, `adv-pairwise-form`, `adv-invariance` |
    """
    lines = ["| equation | LaTeX label | derived by | printed form | checks |", "|---|---|---|---|---|"]
    for e in EQUATIONS.values():
        name = f"({e.key[2:]})" if e.key[2:].isdigit() else e.key
        label = f"`{e.label}`" if e.label else "—"
        printed = f"`{e.printed_name}`" if e.printed is not None else "—"
        checks = ", ".join(f"`{c}`" for c in e.claims) + (f" (Fig. {e.figure})" if e.figure else "")
        lines.append(f"| {name} | {label} | `{e.derivation}` | {printed} | {checks} |")
    listed = {c for e in EQUATIONS.values() for c in e.claims}
    others = [c for c in claim_ids if c not in listed]
    if others:
        lines += ["", "Checks not tied to one equation: " + ", ".join(f"`{c}`" for c in others) + "."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m grpo_symbolic.paper.equations --markdown``: print the table as Markdown."""
    parser = argparse.ArgumentParser(prog="python -m grpo_symbolic.paper.equations", description=main.__doc__)
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.parse_args(argv)
    print(markdown(), end="")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
