"""Our figures, beyond the paper's three: every point solved by :func:`grpo_symbolic.solve.api.stationary_policy`.

* ``pi_g``: a binary question (r(a) = 1 > r(b) = 0, π_ref(a) = :data:`BINARY_REFERENCE`): the
  stationary π_G(a) against the group size G, one curve per β, between (14) at G = 2 (γ = 1 for
  deterministic rewards, a filled marker) and (15) as G → ∞ (a dashed line) — both drawn from the
  derived closed forms of :func:`grpo_symbolic.export.figures.closed_form`, the points solved.
* ``presets``: one three-output context (:data:`PRESET_CONTEXT`) solved with each trainer preset of
  :mod:`grpo_symbolic.model.presets`, the stationary policies side by side with π_ref.

:func:`group_size_curves` and :func:`preset_policies` return the data (no matplotlib needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from grpo_symbolic.export.figures import WIDTH, _pyplot, closed_form, new_figure
from grpo_symbolic.model.presets import PRESETS, preset
from grpo_symbolic.model.problem import Problem
from grpo_symbolic.model.symbols import beta, rho
from grpo_symbolic.solve.api import stationary_policy

#: π_ref(a) of the binary question of ``pi_g``, its β values and group sizes.
BINARY_REFERENCE = "0.1"
BINARY_BETAS = ("0.1", "0.5", "2")
GROUP_SIZES = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256)
#: The context of ``presets``: π_ref, rewards, G and β.
PRESET_CONTEXT: dict[str, Any] = dict(reference=("0.5", "0.3", "0.2"), rewards=(0, 1, 2), group_size=8, beta="0.5")
#: Digits the plotted points are solved to (a plot needs no more than float64's).
PLOT_DPS = 15


@dataclass(frozen=True)
class GroupSizeCurve:
    """π_G(a) at ``sizes`` for one β, with (14)'s value at G = 2 and (15)'s limit as G → ∞ (floats)."""

    beta: str
    sizes: np.ndarray
    policy: np.ndarray
    eq14: float
    eq15: float


def group_size_curves(reference: str = BINARY_REFERENCE, betas: tuple[str, ...] = BINARY_BETAS,
                      sizes: tuple[int, ...] = GROUP_SIZES) -> tuple[GroupSizeCurve, ...]:
    """The data of ``pi_g``: for each β, the solved π_G(a) at each G and the closed forms (14), (15).

    >>> curve, = group_size_curves(betas=("0.5",), sizes=(2, 8))
    >>> bool(abs(curve.policy[0] - curve.eq14) < 1e-14), bool(curve.eq14 < curve.policy[1] < curve.eq15)
    (True, True)
    """
    curves = []
    for weight in betas:
        at = {rho: sp.Rational(reference), beta: sp.Rational(weight)}
        policy = [stationary_policy(Problem(reference=(reference, 1 - sp.Rational(reference)), rewards=(1, 0),
                                            group_size=size, beta=weight), dps=PLOT_DPS)[0] for size in sizes]
        curves.append(GroupSizeCurve(weight, np.array(sizes), np.array(policy, dtype=float),
                                     float(closed_form(1).subs(at)), float(closed_form(2).subs(at))))
    return tuple(curves)


def preset_policies(context: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """The data of ``presets``: π_ref and each preset's stationary policy of ``context``, as float arrays.

    >>> policies = preset_policies()
    >>> list(policies)[:3], bool(np.allclose([p.sum() for p in policies.values()], 1))
    (['reference', 'paper', 'trl'], True)
    """
    settings = dict(PRESET_CONTEXT if context is None else context)
    reference = Problem(**settings).reference
    result = {"reference": np.array([float(r) for r in reference])}
    for name in PRESETS:
        result[name] = np.array(stationary_policy(preset(name, **settings), dps=PLOT_DPS), dtype=float)
    return result


def draw_group_size(width: float = WIDTH) -> Any:
    """``pi_g``: π_G(a) against G (log scale), one colour per β, (14) and (15) from the closed forms."""
    plt = _pyplot()
    figure, axes = new_figure(plt, width)
    data = group_size_curves()
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.8, len(data)))
    for curve, colour in zip(data, colours):
        axes.plot(curve.sizes, curve.policy, marker="o", markersize=3, color=colour, label=rf"$\beta = {curve.beta}$")
        axes.axhline(curve.eq15, color=colour, linestyle="--", linewidth=1)
        axes.plot([2], [curve.eq14], marker="s", markersize=7, markerfacecolor="none", markeredgecolor=colour)
    grey = "0.3"
    axes.plot([], [], marker="s", markerfacecolor="none", markeredgecolor=grey, linestyle="none", label="(14), $G = 2$")
    axes.plot([], [], color=grey, linestyle="--", label=r"(15), $G \to \infty$")
    axes.set_xscale("log", base=2)
    axes.set_xlabel("group size $G$")
    axes.set_ylabel(r"stationary $\pi_G(a)$, $\pi_{\mathrm{ref}}(a) = %s$" % BINARY_REFERENCE)
    axes.grid(True, alpha=0.25)
    axes.legend(loc="lower right", fontsize="small", framealpha=0.95)
    return figure


def draw_presets(width: float = WIDTH) -> Any:
    """``presets``: grouped bars, one group per output, one bar per preset (and π_ref)."""
    plt = _pyplot()
    figure, axes = new_figure(plt, width)
    policies = preset_policies()
    outputs = np.arange(len(policies["reference"]))
    bar = 0.8 / len(policies)
    colours = ["0.6", *plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(policies) - 1))]
    for k, ((name, policy), colour) in enumerate(zip(policies.items(), colours)):
        label = r"$\pi_{\mathrm{ref}}$" if name == "reference" else name
        axes.bar(outputs + (k - (len(policies) - 1) / 2) * bar, policy, bar, color=colour, label=label)
    rewards = PRESET_CONTEXT["rewards"]
    axes.set_xticks(outputs, [f"$o_{i + 1}$, $r = {r}$" for i, r in enumerate(rewards)])
    axes.set_ylabel(r"stationary $\pi(o)$, $G = %s$, $\beta = %s$"
                    % (PRESET_CONTEXT["group_size"], PRESET_CONTEXT["beta"]))
    axes.grid(True, axis="y", alpha=0.25)
    axes.legend(loc="upper left", fontsize="small", framealpha=0.95)
    return figure


#: Our figures by file stem: the function that draws each (keyword ``width``).
OURS = {"pi_g": draw_group_size, "presets": draw_presets}
