"""The exported formulas: :data:`FORMULAS`, one :class:`Formula` per labelled row of the equation table.

Labels: ``eq:N`` is the paper's equation (N), ``p:…`` a result the paper states without a number,
``x:…`` a result beyond the paper (all from :data:`grpo_symbolic.paper.equations.EQUATIONS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import sympy as sp

from grpo_symbolic.export.latex import definitions  # noqa: F401  (registers the builders of (1)-(3), (5)-(7))
from grpo_symbolic.export.latex.builders import BUILDERS
from grpo_symbolic.export.latex.notation import BINOMIAL_G
from grpo_symbolic.export.latex.printer import to_latex
from grpo_symbolic.paper.equations import EQUATIONS, Equation


#: The default prefix of every exported label (``grpo:eq:11``), so that labels cannot collide with a paper's own.
LABEL_PREFIX = "grpo:"

#: Formulas too wide for one column of a two-column paper, by label: the LaTeX text before which
#: each new line starts (searched in order).  They are set in ``multline``; a ``\left( … \right)``
#: pair that a line break cuts becomes ``\biggl( … \biggr)``.
BREAKS: dict[str, tuple[str, ...]] = {
    "eq:1": (r" - \beta \pi_{\theta_{\mathrm{old}}}(o)",),
    "eq:5": (r" + \beta \log",),
    "eq:7": (r" - \log",),
    "eq:11": (" = ",),
    "eq:12": (r" \pi_\theta(o) = ",),
    "eq:15": (" = ",),
    "p:h": (r" + \log",),
    "p:shift-only": (r" \left(1 - \frac{1}{G}\right)",),
    "p:19-quadratic": (r" + \beta^{2} \pi_{\mathrm{ref}}(a)^{2}",),
    "x:binomial-a": (r" + 3 \pi_\theta(a)",),
    "x:binomial-b": (r" + 3 \pi_\theta(a)^{2}",),
    "x:large-g-expansion": (r" - \frac{1}{8",),
    "x:rate": (" = ",),
    "x:best-response": (r" + \frac{2 \cosh",),
    "x:h-mirror": (r" + \log",),
    "x:is-k3": (r" = \log",),
}

_DELIMITER = re.compile(r"\\(left|right)(\(|\)|\[|\]|\.)")


def broken(body: str, markers: tuple[str, ...]) -> list[str]:
    r"""The lines of ``body`` broken before each of ``markers`` (found in order, after the previous one).

    >>> broken(r"a = \left(b + c\right) + d", (" + c", " + d"))
    ['a = \\biggl(b', '+ c\\biggr)', '+ d']
    >>> broken("a = b", (" + c",))
    Traceback (most recent call last):
    ...
    ValueError: cannot break 'a = b' before ' + c'
    """
    cuts, position = [], 0
    for marker in markers:
        found = body.find(marker, position + 1)
        if found < 0:
            raise ValueError(f"cannot break {body!r} before {marker!r}")
        cuts.append(found)
        position = found
    replace, stack = {}, []
    for match in _DELIMITER.finditer(body):
        if match.group(1) == "left":
            stack.append(match)
            continue
        opening = stack.pop()
        if any(opening.start() < cut < match.start() for cut in cuts):
            replace[opening.start()] = (opening.end(), r"\biggl" + opening.group(2))
            replace[match.start()] = (match.end(), r"\biggr" + match.group(2))
    pieces, i = [], 0
    for start in sorted([*replace, *cuts]):
        pieces.append(body[i:start])
        if start in replace:
            i, text = replace[start]
            pieces.append(text)
        else:
            pieces.append("\n")
            i = start
    pieces.append(body[i:])
    return [line.strip() for line in "".join(pieces).split("\n")]


@dataclass(frozen=True)
class Formula:
    """One exported formula: its row of the equation table, where it sits, what it says, how it is built.

    ``build`` takes the row (:class:`~grpo_symbolic.paper.equations.Equation`) and returns the
    SymPy Eq: the row's derivation, arranged for reading.  The label and the derivation's name
    (:attr:`source`) are the row's.

    >>> from grpo_symbolic.model.symbols import p, rho
    >>> demo = Equation("demo", "x:demo", None, lambda: 1 - rho, ())
    >>> f = Formula(demo, "Demo", "A demo.", lambda row: sp.Eq(p, row.derived()))
    >>> f.tag, FORMULAS[0].tag, FORMULAS[0].source
    (None, '1', 'theory.objective.objective')
    >>> print(f.environment(tagged=False))
    \\begin{equation}
    \\pi_\\theta(a) = 1 - \\pi_{\\mathrm{ref}}(a)
    \\label{grpo:x:demo}
    \\end{equation}
    <BLANKLINE>
    """

    equation: Equation
    section: str
    description: str
    build: Callable[[Equation], sp.Basic]

    @property
    def label(self) -> str:
        """The LaTeX label, the equation table's."""
        if self.equation.label is None:
            raise ValueError(f"equation {self.equation.key!r} has no LaTeX label in the equation table")
        return self.equation.label

    @property
    def source(self) -> str:
        """The derivation the formula comes from, as the equation table names it."""
        return self.equation.derivation

    def expression(self) -> sp.Basic:
        """The derived expression, arranged for reading."""
        return self.build(self.equation)

    def latex(self) -> str:
        """The formula as LaTeX math (no environment).

        >>> print(next(f for f in FORMULAS if f.label == "eq:4").latex())
        \\pi_\\theta(o) = \\frac{1}{Z} \\pi_{\\mathrm{ref}}(o) e^{r(o) / \\beta}
        """
        return to_latex(self.expression())

    @property
    def tag(self) -> str | None:
        """The paper's equation number, shown in parentheses in the document (None: the paper has none)."""
        return self.label[3:] if self.label.startswith("eq:") else None

    def environment(self, tagged: bool = True, prefix: str = LABEL_PREFIX) -> str:
        """The formula in an ``equation`` environment, labelled ``prefix`` + label.

        ``tagged`` (the document): the paper's equations carry the paper's number, the others are
        unnumbered (``equation*``, no label).  Untagged (a snippet): numbered by the user's document.
        A formula too wide for a column of a two-column paper is set on several lines (:data:`BREAKS`).
        """
        body, name = self.latex(), "equation"
        if self.label in BREAKS:
            body, name = "\\\\\n".join(broken(body, BREAKS[self.label])), "multline"
        if tagged and self.tag is None:
            return f"\\begin{{{name}*}}\n{body}\n\\end{{{name}*}}\n"
        tag = f"\\tag{{{self.tag}}}" if tagged else ""
        return f"\\begin{{{name}}}\n{body}\n{tag}\\label{{{prefix}{self.label}}}\n\\end{{{name}}}\n"


_OBJECTIVE = "1 GRPO's objective"
_BASELINES = "1 The baselines: RLHF and NLHF"
_REWARD = "2.1 The reward term"
_PENALTY = "2.2 The penalty"
_STATIONARY = "2.3 Stationary policies"
_BINARY = "2.3.1 Binary questions"
_EXTENSIONS = "3 Extensions: the direct KL penalty and shift-only advantages"
_APPENDIX_B = "Appendix B: binary questions, step by step"
_BEYOND_G = "Beyond the paper: binary questions at every group size"
_BEYOND_DIRECT = "Beyond the paper: the direct KL penalty for large groups"
_BEYOND_TRAINERS = "Beyond the paper: what trainers implement"



def _formulas(*sections: tuple[str, str]) -> tuple[Formula, ...]:
    """The formulas of each ``(section, text)``: one paragraph ``key: description`` per formula.

    ``key`` is the row of the equation table (its builder is registered under the same key);
    continuation lines are indented; ``BINOMIAL_G`` stands for the group size of that example.
    """
    formulas = []
    for section, text in sections:
        for paragraph in re.split(r"\n(?=\S)", text.strip()):
            key, description = paragraph.split(": ", 1)
            description = " ".join(line.strip() for line in description.splitlines())
            description = description.replace("BINOMIAL_G", str(BINOMIAL_G))
            formulas.append(Formula(EQUATIONS[key], section, description, BUILDERS[key]))
    return tuple(formulas)


#: Every exported formula, in the paper's order (the paper's sections, then results beyond it).
#: Descriptions are plain text; ``{name}`` is set as the symbol ``NAMES[name]``.
FORMULAS = _formulas(
    (_OBJECTIVE, """
eq1: GRPO's objective for one context, without clipping (the model's {J}): the reward term (6) minus
    {beta} times the expected penalty (7), D(o) being the per-sample penalty.
eq2: The advantage of the i-th member of a group of {G}: its reward minus the group's mean {rbar_G},
    over the population standard deviation (0/0 = 0 when all rewards are equal).
"""),
    (_BASELINES, """
eq3: The RLHF objective for one context: expected reward minus {beta} times the KL divergence to the
    reference policy.
eq4: Maximiser of the RLHF objective (3): logarithmic pooling of the reference policy and the Luce law
    of the rewards, with weights 1 and 1/{beta} ({Z} normalises).
eq5: The regularised NLHF game: the payoff of the policy against an opponent {pi_prime_o2}, with
    preference probabilities P(o over o').
nlhf: Symmetric Nash equilibrium of the regularised NLHF game (5).
"""),
    (_REWARD, """
eq6: The reward term of (1), derived by brute force over every group (three outputs, {G} = 3): the
    expected reward preference {P_old_o} of an output drawn from the new policy.
"""),
    (_PENALTY, """
eq7: GRPO's expected penalty: the k3 estimator D(o) averaged over outputs of the old policy.
eq8: Gradient of GRPO's expected penalty.
eq9: Gradient of the KL divergence, for comparison.
eq10: Gradient (8) on policy: linear in the ratio of the two policies, not logarithmic.
reverse-kl: Gradient of the reverse KL divergence: (10) up to the constant 1, which the Lagrange
    multiplier absorbs.
"""),
    (_STATIONARY, """
eq11: Stationarity with GRPO's penalty: the KKT conditions of Appendix A, with the old policy set equal
    to the new one.
eq11-g: The same condition solved for the policy: g(x) = 1/(1 - x) pooling, not logarithmic pooling.
multiplier: Appendix A: the Lagrange multiplier {lambda} is the expected preference (two outputs shown).
zero-mean: Stationarity (11) with the expected preference at its value, 0: advantages sum to zero in
    every group.
eq12: Groups of two ({G} = 2): the preference is the probability of winning minus that of losing.
eq13: Large groups ({G} to infinity): {beta} times the standard deviation of the reward acts as the
    regularisation weight.
"""),
    (_BINARY, """
eq14: Binary question, {G} = 2: the stationary probability of the better answer a, with confidence
    margin {gamma}.
eq14-floor: Its limit as {rho} vanishes: the floor of (14).
eq15: Binary question, {G} to infinity, deterministic rewards with r(a) > r(b).
eq15-floor: Its limit as {rho} vanishes: a jump at 0 for every {beta}.
"""),
    (_EXTENSIONS, """
log-pooling: Direct KL penalty: the stationary policy is a logarithmic pool.
direct-g2: Direct KL penalty, binary question, {G} = 2: continuous at {rho} = 0.
h: Direct KL penalty, binary question, {G} to infinity: the derivative of the objective in {p} at the
    old policy is {beta} {h} at x = {p}.
x-star: Where {h} turns from decreasing to increasing.
shift-only: Shift-only advantages (no division by the std): an RLHF-like reward term.
shift-only-direct: Shift-only advantages with the direct KL penalty: the RLHF policy (4) with {beta}
    replaced by {beta}{G}/({G} - 1).
"""),
    (_APPENDIX_B, """
eq16: Reward term, {G} = 2.
eq17: Stationarity, {G} = 2: the derivative of the objective in {p}, at the old policy equal to the new
    one, vanishes.
eq17-quadratic: The quadratic equivalent to (17); its admissible root is (14).
eq18: Reward term, {G} to infinity, deterministic rewards with r(a) > r(b).
eq19: Stationarity, {G} to infinity.
eq19-quadratic: (19) squared; its root with {p} > {rho} is (15).
"""),
    (_BEYOND_G, """
binomial-a: Preference of the better answer at {G} = BINOMIAL_G: a binomial sum over the number of
    better answers among the other {G} - 1.
binomial-b: Preference of the worse answer at {G} = BINOMIAL_G.
large-g-expansion: The binomial sum expanded in 1/{G}; its limit is the large-group preference.
rate: How fast the stationary policy at group size {G} approaches the large-group one.
"""),
    (_BEYOND_DIRECT, """
h-minimum: The minimum of {h}: two stationary policies when it is negative, none in the interior when it
    is positive.
best-response: Repeated best response, in logits; its fixed points are the zeros of {h}.
best-response-slope: Its slope: a zero of {h} attracts repeated best responses iff the slope there lies
    in (-1, 1).
h-mirror: The smaller zero of {h} attracts iff {h_mirror} > 0; the larger zero always repels.
critical-beta: Two zeros of {h} exist iff {beta} exceeds a threshold, which increases with {rho}: its
    slope, with {beta} at the threshold.
"""),
    (_BEYOND_TRAINERS, """
bessel: Advantages with the sample (Bessel) std over those with the population std: the same for every
    group.
beta-eff: Hence the sample std is the paper's model with an effective {beta}.
k1: The k1 estimator as a loss: a constant, so no regularisation at all.
k2: The k2 estimator as a loss: the gradient (9) of KL, up to a constant.
k3: The k3 estimator as a loss (GRPO's penalty): the reverse KL, as in (10).
is-k3: The importance-weighted k3 (the direct KL penalty): the gradient (9) of KL, up to a constant.
kl-linear: k3 with the ratio flipped as a loss: the chi-squared gradient, a stationary policy linear in the
    preference.
kl-linear-g2: Its binary closed form for groups of two (an interior policy when beta > gamma rho).
kl-lambert: k3 added to the advantage after normalisation (OpenRLHF's placement): Lambert W (principal
    branch shown; the other real branch W_{-1} also solves the condition).
kl-softmax: No KL (beta = 0) with the entropy bonus c H(pi): a softmax of the preference.
kl-softmax-g2: Its binary closed form for groups of two.
kl-tempered: The entropy bonus with k2 (or the importance-weighted k3) as a loss: geometric pooling.
"""),
)
