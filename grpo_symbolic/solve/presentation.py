"""How solver results are shown and handed on: repr, Jupyter's LaTeX and HTML, floats, numpy, pandas.

The solver keeps every digit it was asked for (mpmath numbers); this module only presents them.
:class:`Policy` is the tuple of π*(o) returned by ``stationary_policy`` (a tuple, plus the
outputs' ``names`` and ``as_floats`` / ``to_numpy``); :class:`PointPresentation` gives
:class:`~grpo_symbolic.solve.api.StationaryPoint` its repr, ``_repr_latex_``, ``_repr_html_``,
``as_floats`` and ``to_numpy``; :func:`points_frame` turns points into a pandas DataFrame (pandas
is optional: without it a :class:`ParameterError` says how to get it).

Outputs are labelled by the Problem's ``names``, or numbered from 1 when it has none (as in the
notebooks and the command line).  The repr shows :data:`SHOWN_DIGITS` significant digits; the
numbers themselves keep all of theirs.

>>> import mpmath
>>> pi = Policy((mpmath.mpf("0.25"), mpmath.mpf("0.75")), names=("a", "b"))
>>> pi == (0.25, 0.75), pi.names, pi.as_floats()
(True, ('a', 'b'), (0.25, 0.75))
>>> pi.to_numpy()
array([0.25, 0.75])
>>> output_labels(None, 3)
('1', '2', '3')
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import mpmath
import numpy as np

from grpo_symbolic.model.errors import ParameterError
from grpo_symbolic.numerics.precision import mpx

if TYPE_CHECKING:
    import pandas

SHOWN_DIGITS = 12
"""Significant digits shown by repr, LaTeX and HTML (the values keep every digit computed)."""

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def output_labels(names: Sequence[str] | None, size: int) -> tuple[str, ...]:
    """The outputs' labels: their ``names``, or their numbers from 1 when there are none."""
    return tuple(names) if names is not None else tuple(str(i) for i in range(1, size + 1))


def shown(value: Any, digits: int = SHOWN_DIGITS) -> str:
    """``value`` as text: an mpf to ``digits`` significant digits, a float to 6, anything else by str.

    >>> shown(mpmath.mpf(2) / 3, 5), shown(0.123456789), shown(True), shown(None)
    ('0.66667', '0.123457', 'True', 'None')
    """
    if isinstance(value, mpmath.mpf):
        return str(mpx.nstr(value, digits))
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def latex_text(text: str) -> str:
    r"""``text`` with LaTeX's special characters escaped, for ``\text{...}``.

    >>> print(latex_text("a_1 & {b}"))
    a\_1 \& \{b\}
    """
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def as_floats(values: Iterable[Any]) -> tuple[float, ...]:
    """``values`` as Python floats (rounded to the nearest float64; below ~1e-308 they underflow to 0)."""
    return tuple(float(v) for v in values)


class Policy(tuple[mpmath.mpf, ...]):
    """π*(o) per output as mpmath numbers with every requested digit: a tuple, plus ``names``
    (the Problem's, or None) and the conversions ``as_floats()`` / ``to_numpy()``."""

    names: tuple[str, ...] | None

    def __new__(cls, values: Iterable[mpmath.mpf], names: Sequence[str] | None = None) -> Policy:
        self = super().__new__(cls, values)
        self.names = None if names is None else tuple(names)
        return self

    def as_floats(self) -> tuple[float, ...]:
        """π* as Python floats."""
        return as_floats(self)

    def to_numpy(self) -> np.ndarray:
        """π* as a float64 numpy array (one entry per output, in the Problem's order)."""
        return np.array(as_floats(self), dtype=np.float64)

    def labels(self) -> tuple[str, ...]:
        """The outputs' names, or ``'1'``, ``'2'``, … when the Problem has none."""
        return output_labels(self.names, len(self))


def _labels(policy: Sequence[Any]) -> tuple[str, ...]:
    return output_labels(getattr(policy, "names", None), len(policy))


class PointPresentation:
    """The presentation methods of a stationary point (a dataclass with a ``policy`` field).

    Every field other than ``policy`` is shown as a diagnostic, so fields added to the point later
    appear in the repr, the HTML and :func:`points_frame` without changes here.
    """

    policy: Sequence[Any]

    def diagnostics(self) -> dict[str, Any]:
        """The point's fields other than ``policy``, by name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)  # type: ignore[arg-type]
                if f.name != "policy"}

    def labels(self) -> tuple[str, ...]:
        """The outputs' names, or ``'1'``, ``'2'``, … when the Problem has none."""
        return _labels(self.policy)

    def as_floats(self) -> tuple[float, ...]:
        """π* as Python floats."""
        return as_floats(self.policy)

    def to_numpy(self) -> np.ndarray:
        """π* as a float64 numpy array (one entry per output, in the Problem's order)."""
        return np.array(as_floats(self.policy), dtype=np.float64)

    def __repr__(self) -> str:
        named = getattr(self.policy, "names", None) is not None
        keys = [repr(label) if named else label for label in self.labels()]
        policy = ", ".join(f"{key}: {shown(x)}" for key, x in zip(keys, self.policy))
        rest = "".join(f", {name}={shown(value)}" for name, value in self.diagnostics().items())
        return f"{type(self).__name__}(policy={{{policy}}}{rest})"

    def _notes(self) -> str:
        return ", ".join(f"{name.replace('_', ' ')} {shown(value)}" for name, value in self.diagnostics().items())

    def _repr_latex_(self) -> str:
        rows = r" \\ ".join(rf"\text{{{latex_text(label)}}} & {shown(x)}"
                            for label, x in zip(self.labels(), self.policy))
        return rf"$\begin{{array}}{{lr}} o & \pi^*(o) \\ \hline {rows} \end{{array}} \quad \text{{({latex_text(self._notes())})}}$"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(label)}</td><td>{shown(x)}</td></tr>"
                       for label, x in zip(self.labels(), self.policy))
        return (f"<table><caption>{type(self).__name__}: {html.escape(self._notes())}</caption>"
                f"<thead><tr><th>output</th><th>&pi;*(o)</th></tr></thead><tbody>{rows}</tbody></table>")


def points_frame(points: Iterable[PointPresentation]) -> pandas.DataFrame:
    """A pandas DataFrame of stationary points: one row per point (index ``point``, from 1), a
    float64 column ``pi_star[<output>]`` per output (named as the Problem names its outputs,
    numbered from 1 otherwise), then one column per diagnostic (mpf values as floats).

    Needs pandas (optional): without it a :class:`ParameterError` says how to install it.

    >>> import grpo_symbolic as gs
    >>> prob = gs.Problem(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=3,
    ...                   penalty="direct", names=["right", "wrong"])
    >>> frame = points_frame(gs.stationary_policies(prob, dps=20))  # doctest: +SKIP
    >>> frame[["pi_star[right]", "stable"]]  # doctest: +SKIP
           pi_star[right]  stable
    point
    1            0.670179    True
    2            0.996514   False
    """
    points = list(points)
    for i, point in enumerate(points):
        if not isinstance(point, PointPresentation):
            raise ParameterError(f"points[{i}]: got {type(point).__name__}; give StationaryPoints "
                                 "(the items of stationary_policies(...))")
    try:
        import pandas
    except ImportError:
        raise ParameterError("points_frame: needs pandas, which is not installed; pip install pandas "
                             "(or use each point's .to_numpy() / .as_floats())") from None
    rows = [{**{f"pi_star[{label}]": x for label, x in zip(point.labels(), point.as_floats())},
             **{name: float(v) if isinstance(v, mpmath.mpf) else v for name, v in point.diagnostics().items()}}
            for point in points]
    return pandas.DataFrame(rows, index=pandas.RangeIndex(1, len(rows) + 1, name="point"))


class FramePresentation:
    """``to_frame()`` and a Jupyter table for a list of stationary points."""

    def _repr_html_(self) -> str:
        points: list[PointPresentation] = list(self)  # type: ignore[call-overload]
        if not points:
            return "<p>no stationary points</p>"
        head = "".join(f"<th>point {n}</th>" for n in range(1, len(points) + 1))
        rows = [f"<tr><td>{html.escape(label)}</td>" + "".join(f"<td>{shown(p.policy[i])}</td>" for p in points)
                + "</tr>" for i, label in enumerate(points[0].labels())]
        rows += [f"<tr><td><i>{html.escape(name.replace('_', ' '))}</i></td>"
                 + "".join(f"<td>{html.escape(shown(p.diagnostics()[name]))}</td>" for p in points) + "</tr>"
                 for name in points[0].diagnostics()]
        caption = html.escape(str(getattr(self, "completeness", "")))
        return (f"<table><caption>{caption}</caption><thead><tr><th>output</th>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")

    def to_frame(self) -> pandas.DataFrame:
        """The points as a pandas DataFrame (see :func:`points_frame`)."""
        return points_frame(self)  # type: ignore[arg-type]
