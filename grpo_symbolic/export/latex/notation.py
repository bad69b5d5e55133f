"""The paper's notation: the LaTeX name of every symbol a formula may contain (:data:`NAMES`).

This is the only place where the paper's notation is written by hand.
"""

from __future__ import annotations

import sympy as sp


_PI = r"\pi_\theta"
_OLD = r"\pi_{\theta_{\mathrm{old}}}"
_REF = r"\pi_{\mathrm{ref}}"
_E_PI = rf"\mathbb{{E}}_{{o'\sim{_PI}}}"
_ON_POLICY = rf"\Big|_{{{_OLD} = {_PI}}}"
_FLOOR = rf"\lim_{{{_REF}(a)\to 0^+}} {_PI}(a)"

#: The paper's notation for every symbol a formula may contain, keyed by SymPy symbol name.
NAMES: dict[str, str] = {
    # parameters
    "beta": r"\beta",
    "gamma": r"\gamma_{a,b}",
    "G": "G",
    "lambda": r"\lambda",
    "Z": "Z",
    "c": "c",  # the entropy bonus c·H(π)
    "C": "C",  # the clamp of the per-sample KL value
    # binary questions: p = π(a), p_o = π_old(a), ρ = π_ref(a)
    "p": rf"{_PI}(a)",
    "p_o": rf"{_OLD}(a)",
    "rho": rf"{_REF}(a)",
    "p_inf": r"\pi_\infty(a)",
    "x": "x",
    "t": rf"\mathrm{{logit}}\, {_OLD}(a)",
    # one generic output o
    "pi_o": rf"{_PI}(o)",
    "pi_old_o": rf"{_OLD}(o)",
    "pi_ref_o": rf"{_REF}(o)",
    "P_o": rf"P_G(o \mid {_PI})",
    "Pbar": rf"{_E_PI}[P_G(o' \mid {_PI})]",
    "r_o": "r(o)",
    "rbar": rf"{_E_PI}[r(o')]",
    "rbar_old": rf"\mathbb{{E}}_{{o'\sim{_OLD}}}[r(o')]",
    "sigma": rf"\sigma({_PI})",
    "w_o": rf"\Pr_{{o'\sim{_PI}}}[r > r' \mid o]",
    "l_o": rf"\Pr_{{o'\sim{_PI}}}[r < r' \mid o]",
    "Qbar_o": rf"{_E_PI}[P(o \succ o')]",
    # the definitions (1)-(3) and (5)-(7): indices, one group, a pair of outputs
    "o": "o",
    "o2": "o'",
    "j": "j",
    "r_i": "r_i",
    "r_j": "r_j",
    "rbar_G": r"\bar{r}",
    "P_old_o": rf"P_G(o \mid {_OLD})",
    "P_pair": r"P(o \succ o')",
    "pi_prime_o2": r"\pi'(o')",
    "pi_ref_o2": rf"{_REF}(o')",
    # left-hand sides
    "J": rf"J({_PI};\, {_OLD})",
    "A_i": "A_i",
    "J_rlhf": rf"J_{{\mathrm{{RLHF}}}}({_PI})",
    "J_nlhf": rf"J_{{\mathrm{{NLHF}}}}({_PI}, \pi')",
    "R_G": rf"\mathbb{{E}}\Bigl[\frac{{1}}{{G}} \sum_{{i=1}}^{{G}} \frac{{{_PI}(o_i)}}{{{_OLD}(o_i)}} A_i\Bigr]",
    "KL0": rf"\mathrm{{KL}}_0({_PI} \,\|\, {_REF};\, {_OLD})",
    "dKL0": rf"\frac{{\partial \mathrm{{KL}}_0({_PI} \,\|\, {_REF};\, {_OLD})}}{{\partial {_PI}(o)}}",
    "dKL": rf"\frac{{\partial \mathrm{{KL}}({_PI} \,\|\, {_REF})}}{{\partial {_PI}(o)}}",
    "dKL0_on": rf"\frac{{\partial \mathrm{{KL}}_0({_PI} \,\|\, {_REF};\, {_OLD})}}{{\partial {_PI}(o)}}{_ON_POLICY}",
    "dKL_rev": rf"\frac{{\partial \mathrm{{KL}}({_REF} \,\|\, {_PI})}}{{\partial {_PI}(o)}}",
    "R_2": rf"\mathbb{{E}}_{{o\sim{_PI}}}[P_2(o \mid {_OLD})]",
    "R_inf": rf"\mathbb{{E}}_{{o\sim{_PI}}}[P_\infty(o \mid {_OLD})]",
    "R_shift": rf"\mathbb{{E}}_{{o\sim{_PI}}}[P^{{\mathrm{{shift}}}}_G(o \mid {_OLD})]",
    "floor_2": _FLOOR,
    "floor_inf": _FLOOR,
    "x_star": "x^*",
    "h": "h(x)",
    "h_star": "h(x^*)",
    "next_logit": rf"\mathrm{{logit}}\, {_PI}(a)",
    "slope_T": rf"\frac{{\partial\, \mathrm{{logit}}\, {_PI}(a)}}{{\partial\, \mathrm{{logit}}\, {_OLD}(a)}}",
    "h_mirror": "h(1 - x^*)",
    "dbeta_c": rf"\frac{{d\beta_c}}{{d{_REF}(a)}}",
    "P_G(a)": rf"P_G(a \mid {_PI})",
    "rate": r"\lim_{G\to\infty} G\,\bigl(\pi_G(a) - \pi_\infty(a)\bigr)",
    "bessel": r"A_i^{\mathrm{sample}} / A_i^{\mathrm{population}}",
    "beta_eff": r"\beta_{\mathrm{eff}}",
}
for _k in ("k1", "k2", "k3", "is_k3"):  # expected gradients of the KL estimators used as a loss
    _loss = rf"\frac{{{_PI}(o')}}{{{_OLD}(o')}}\, k_3(o')" if _k == "is_k3" else f"k_{_k[1]}(o')"
    _expected = rf"\mathbb{{E}}_{{o'\sim{_OLD}}}\Bigl[{_loss}\Bigr]"
    NAMES[f"grad_{_k}"] = rf"\frac{{\partial}}{{\partial {_PI}(o)}} {_expected}{_ON_POLICY}"
for _i in range(1, 5):  # the generic K-output symbols of grpo_symbolic.theory.objective
    NAMES[f"pi_{_i}"] = rf"{_PI}(o_{_i})"
    NAMES[f"pi_old_{_i}"] = rf"{_OLD}(o_{_i})"
    NAMES[f"rho_{_i}"] = rf"{_REF}(o_{_i})"
    NAMES[f"P_{_i}"] = rf"P_G(o_{_i} \mid {_PI})"
    NAMES[f"r_{_i}"] = rf"r(o_{_i})"

#: The group size of the exported binomial-sum example (any G ≥ 3 shows the pattern).
BINOMIAL_G = 4
NAMES[f"P_{BINOMIAL_G}(a)"] = rf"P_{BINOMIAL_G}(a \mid {_PI})"
NAMES[f"P_{BINOMIAL_G}(b)"] = rf"P_{BINOMIAL_G}(b \mid {_PI})"


def named(name: str) -> sp.Symbol:
    """The SymPy symbol for a left-hand side or auxiliary quantity listed in :data:`NAMES`.

    >>> named("Z")
    Z
    """
    if name not in NAMES:
        raise KeyError(f"{name!r} has no LaTeX name in NAMES")
    return sp.Symbol(name)
