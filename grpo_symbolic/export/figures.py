"""The paper's Figures 1–3 (the stationary π(a) against π_ref(a), from the derived closed forms) and ours.

* Figure 1: GRPO, G = 2, one curve per β/γ — (14) as derived by :func:`.cases.binary.policy_g2`.
* Figure 2: GRPO, G → ∞, one curve per β — (15) as derived by :func:`.cases.binary.policy_large_g`.
* Figure 3: direct KL penalty, G = 2, one curve per β/γ — the Z formula as derived by
  :func:`.cases.direct_kl.g2_policy`.

Which equation each figure plots is the ``figure`` of its row in the equation table
(:data:`grpo_symbolic.paper.equations.EQUATIONS`).

Each closed form is lambdified (to mpmath, evaluated at 30 digits and rounded to float64, so every
plotted value is correctly rounded) on a grid of π_ref(a) that includes points very close to 0
(down to 10⁻¹²).  At π_ref(a) = 0 exactly the answer a is outside the reference's
support and the derived stationary form gives π(a) = 0; that value is drawn as a filled marker,
and the limit of the curve as π_ref(a) → 0+ as an open marker, so a jump at 0 is visible where
there is one.  The closed forms depend on β and γ only through β/γ, so γ = 1 is used.
:func:`curves` returns the plotted data (no matplotlib needed); :func:`main` draws the figures
(``grpo-symbolic figures -o DIR [--width INCHES] [--style STYLE]``, :func:`grpo_symbolic.export.gallery.main`).

Ours (:mod:`grpo_symbolic.export.our_figures`): ``pi_g``, the stationary π_G(a) of a binary question
against the group size G, between (14) at G = 2 and (15) as G → ∞; ``presets``, the stationary
policies of each trainer preset side by side.

No figure has a title (captions belong to the paper); legends are inside the axes; the width
(inches; the height follows) and a matplotlib style are options.
"""

from __future__ import annotations

from dataclasses import dataclass
from grpo_symbolic.model.caches import cached
from pathlib import Path
from typing import Any, Callable

import numpy as np
import sympy as sp

from grpo_symbolic.export.commandline import replacing, writable_folder
from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.numerics.precision import mp_lambdify, mpx, working_precision
from grpo_symbolic.paper.equations import EQUATIONS
from grpo_symbolic.theory.objective import derive_stationarity
from grpo_symbolic.model.symbols import beta, gamma, rho

#: The legend values: β/γ for Figures 1 and 3, β for Figure 2 (the paper does not list its own).
PARAMETERS = (sp.Rational(1, 10), sp.Rational(1, 4), sp.Rational(1, 2), sp.Integer(1), sp.Integer(2))
#: Default figure width in inches (a one-column paper's text width), the height over the width,
#: the resolution of the PNG files and the default matplotlib style.
WIDTH = 6.0
ASPECT = 0.62
DPI = 200
STYLE = "default"
#: Default number of grid points on (0, 1].
POINTS = 400
#: Digits at which the closed forms are evaluated before rounding to float64: in float64 the
#: radicand of (14) at β = γ loses about five digits to cancellation next to π_ref(a) = 0.
EVALUATION_DPS = 30


@dataclass(frozen=True)
class Curve:
    """One plotted curve: π(a) at ``reference`` (numpy arrays), its value at and limit towards π_ref(a) = 0."""

    parameter: sp.Rational
    label: str
    reference: np.ndarray
    policy: np.ndarray
    value_at_zero: float
    limit_at_zero: float

    @property
    def jump_at_zero(self) -> float:
        """lim_{π_ref(a)→0+} π(a) − π(a)|_{π_ref(a)=0}."""
        return self.limit_at_zero - self.value_at_zero


@dataclass(frozen=True)
class FigureData:
    """The data of one figure: its curves and the text drawn with them."""

    number: int
    title: str
    parameter_name: str
    penalty: str
    group_size: object
    curves: tuple


@dataclass(frozen=True)
class _Spec:
    title: str
    parameter_name: str
    legend: str
    penalty: str
    group_size: object


_SPECS = {
    1: _Spec(r"Figure 1: GRPO stationary policy, $G = 2$", "beta/gamma", r"$\beta/\gamma = {}$", "grpo", 2),
    2: _Spec(r"Figure 2: GRPO stationary policy, $G \to \infty$", "beta", r"$\beta = {}$", "grpo", sp.oo),
    3: _Spec(r"Figure 3: direct KL penalty, $G = 2$", "beta/gamma", r"$\beta/\gamma = {}$", "direct", 2),
}


def _spec(figure_number):
    if figure_number not in _SPECS:
        raise ParameterError(f"figure_number: got {figure_number!r}; the paper has Figures 1, 2 and 3")
    return _SPECS[figure_number]


@cached
def closed_form(figure_number: int) -> sp.Expr:
    """The derived π(a) of a figure as a SymPy expression in ρ = π_ref(a) and β (γ = 1).

    >>> closed_form(3)
    rho*exp(1/beta)/(rho*exp(1/beta) - rho + 1)
    """
    _spec(figure_number)
    plotted = next(e for e in EQUATIONS.values() if e.figure == figure_number)  # the equation table's link
    return plotted.derived().subs(gamma, 1)


def value_at_zero(penalty: str) -> sp.Expr:
    """π(a) at π_ref(a) = 0 from the derived stationary form π(o) = f(P_G(o), λ)·π_ref(o).

    >>> value_at_zero("grpo"), value_at_zero("direct")
    (0, 0)
    """
    st = derive_stationarity(penalty)
    return st.policy[0].subs(st.pi_ref[0], 0)


def reference_grid(points: int = POINTS) -> np.ndarray:
    """π_ref(a) values: log-spaced from 10⁻¹² to 10⁻², then evenly spaced up to 1.

    >>> grid = reference_grid(40)
    >>> float(grid[0]), float(grid[-1]), bool(np.all(np.diff(grid) > 0))
    (1e-12, 1.0, True)
    """
    if isinstance(points, bool) or not isinstance(points, int) or points < 8:
        raise ParameterError(f"points: got {points!r}; give a whole number of grid points >= 8")
    near_zero = np.logspace(-12, -2, points // 4, endpoint=False)
    return np.concatenate([near_zero, np.linspace(0.01, 1.0, points - points // 4)])


def curves(figure_number: int, points: int = POINTS) -> FigureData:
    """The plotted data of Figure ``figure_number`` (1, 2 or 3): a :class:`FigureData`.

    >>> data = curves(1, points=40)
    >>> [c.label for c in data.curves][:2], data.parameter_name
    (['$\\\\beta/\\\\gamma = 0.1$', '$\\\\beta/\\\\gamma = 0.25$'], 'beta/gamma')
    >>> round(data.curves[0].jump_at_zero, 12), round(curves(3, points=40).curves[0].jump_at_zero, 12)
    (0.9, 0.0)
    """
    spec = _spec(figure_number)
    form = closed_form(figure_number)
    function = mp_lambdify((rho, beta), form)
    grid = reference_grid(points)
    at_zero = float(value_at_zero(spec.penalty))
    result = []
    with working_precision(EVALUATION_DPS, guard=0):
        for parameter in PARAMETERS:
            weight = mpx.mpf(int(parameter.p)) / int(parameter.q)
            policy = np.array([float(function(mpx.mpf(float(r)), weight)) for r in grid])
            limit = float(sp.limit(form.subs(beta, parameter), rho, 0, "+"))
            label = spec.legend.format(_decimal(parameter))
            result.append(Curve(parameter, label, grid, policy, at_zero, limit))
    return FigureData(figure_number, spec.title, spec.parameter_name, spec.penalty, spec.group_size, tuple(result))


def _decimal(value):
    return format(float(value), "g")


def draw(figure_number: int, points: int = POINTS, width: float = WIDTH) -> Any:
    """The matplotlib Figure of Figure ``figure_number`` (Agg backend), ``width`` inches wide, untitled.

    The main panel has linear axes; an inset (below the diagonal, where no curve can be since
    π(a) ≥ π_ref(a)) repeats the curves with a logarithmic π_ref(a) axis, down to 10⁻¹², so the
    behaviour next to π_ref(a) = 0 is visible.
    """
    plt = _pyplot()
    data = curves(figure_number, points)
    figure, axes = new_figure(plt, width)
    inset = axes.inset_axes([0.53, 0.07, 0.44, 0.26])
    axes.plot([0, 1], [0, 1], linestyle=":", color="0.35", linewidth=1.4, label=r"$\pi = \pi_{\mathrm{ref}}$")
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.8, len(data.curves)))
    for curve, colour in zip(data.curves, colours):
        axes.plot(curve.reference, curve.policy, color=colour, linewidth=1.8, label=curve.label)
        inset.plot(curve.reference, curve.policy, color=colour, linewidth=1.4)
        if abs(curve.jump_at_zero) > 1e-9:
            axes.plot([0], [curve.limit_at_zero], marker="o", markersize=6, markerfacecolor="white",
                      markeredgecolor=colour, linestyle="none", clip_on=False, zorder=4)
        axes.plot([0], [curve.value_at_zero], marker="o", markersize=5, color=colour, linestyle="none",
                  clip_on=False, zorder=5)
    grey = "0.3"
    axes.plot([], [], marker="o", markersize=5, color=grey, linestyle="none",
              label=r"value at $\pi_{\mathrm{ref}}(a) = 0$")
    axes.plot([], [], marker="o", markersize=6, markerfacecolor="white", markeredgecolor=grey,
              linestyle="none", label=r"limit as $\pi_{\mathrm{ref}}(a) \to 0^+$")
    axes.set_xlim(-0.02, 1.0)
    axes.set_ylim(-0.02, 1.02)
    axes.set_xlabel(r"$\pi_{\mathrm{ref}}(a)$")
    axes.set_ylabel(r"$\pi(a)$")
    axes.grid(True, alpha=0.25)
    axes.legend(loc="lower right", bbox_to_anchor=(0.99, 0.36), ncol=2, fontsize="x-small", framealpha=0.95)
    inset.plot(data.curves[0].reference, data.curves[0].reference, linestyle=":", color="0.35", linewidth=1.2)
    inset.set_xscale("log")
    inset.set_xlim(1e-12, 1)
    inset.set_ylim(-0.02, 1.02)
    inset.set_xticks([1e-12, 1e-8, 1e-4, 1])
    inset.tick_params(labelsize="xx-small")
    inset.set_xlabel(r"$\pi_{\mathrm{ref}}(a)$, log scale", fontsize="xx-small", labelpad=1)
    inset.grid(True, alpha=0.25)
    return figure


def write(figure_number: int, directory: str | Path, points: int = POINTS, width: float = WIDTH,
          style: str = STYLE) -> list[Path]:
    """Write fig<N>.png and fig<N>.pdf into ``directory``; return the two paths."""
    _spec(figure_number), reference_grid(points)  # checked before anything is written
    return save(lambda: draw(figure_number, points, width), directory, f"fig{figure_number}", style, width)


def save(make: Callable[[], Any], directory: str | Path, stem: str, style: str = STYLE,
         width: float = WIDTH) -> list[Path]:
    """Draw ``make()`` under the matplotlib ``style`` (fonts scaled for ``width``, :func:`font_scale`) and save
    it as ``stem``.png and ``stem``.pdf in ``directory``."""
    plt = _pyplot()
    check_style(style)
    directory = writable_folder(directory, "output")
    with plt.style.context(style):
        with plt.rc_context({"font.size": plt.rcParams["font.size"] * font_scale(width)}):
            figure = make()
    paths = [directory / f"{stem}.{suffix}" for suffix in ("png", "pdf")]
    directory.mkdir(parents=True, exist_ok=True)
    try:
        for path in paths:
            with replacing(path) as temporary:  # no half-written figure on failure
                figure.savefig(temporary, format=path.suffix[1:])
    finally:
        plt.close(figure)
    return paths


def new_figure(plt: Any, width: float = WIDTH) -> tuple[Any, Any]:
    """A figure ``width`` inches wide (height ``ASPECT`` × width) with one axes, laid out tightly."""
    check_width(width)
    return plt.subplots(figsize=(width, width * ASPECT), dpi=DPI, layout="constrained")


def font_scale(width: float) -> float:
    """The factor on the style's font size for a figure ``width`` inches wide: 1 at :data:`WIDTH` and
    wider, proportionally smaller for narrower figures, but not below 0.7 (a 10 pt font stays >= 7 pt).

    >>> font_scale(6.0), font_scale(3.3), font_scale(12)
    (1.0, 0.7, 1.0)
    """
    return min(1.0, max(0.7, width / WIDTH))


def check_width(width: float) -> None:
    """``width`` must be a number of inches between 1 and 20.

    >>> check_width(0)
    Traceback (most recent call last):
    ...
    grpo_symbolic.model.errors.ParameterError: width: got 0; give the figure width in inches, between 1 and 20
    """
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 1 <= width <= 20:
        raise ParameterError(f"width: got {width!r}; give the figure width in inches, between 1 and 20")


def check_style(style: str) -> None:
    """``style`` must be a matplotlib style name (``matplotlib.style.available``, or "default") or a style file."""
    plt = _pyplot()
    if style != "default" and style not in plt.style.available and not Path(style).is_file():
        raise ParameterError(f"style: got {style!r}; give a matplotlib style ('default', "
                             f"{', '.join(repr(n) for n in sorted(plt.style.available)[:4])}, ...) or a .mplstyle file")


def _pyplot():
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise ParameterError(
            "figures: matplotlib is not installed; install it with 'pip install matplotlib' "
            "(or the project's dev extra: pip install -e .[dev])"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
