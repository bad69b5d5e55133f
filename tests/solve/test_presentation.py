"""Presentation of solver results: repr with names or numbers from 1, Jupyter's LaTeX/HTML (names
escaped), floats and numpy in one call, pandas frames (optional), and that every digit is kept."""

import html
import pickle

import mpmath
import numpy as np
import pytest

import grpo_symbolic as gs
from grpo_symbolic.solve.presentation import Policy, latex_text, points_frame

BISTABLE = dict(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=3, penalty="direct")


@pytest.fixture(scope="module")
def named_points():
    return gs.stationary_policies(gs.Problem(**BISTABLE, names=["right", "wrong"]), dps=20)


@pytest.fixture(scope="module")
def unnamed_points():
    return gs.stationary_policies(gs.Problem(**BISTABLE), dps=20)


def test_stationary_policy_converts_to_float64_in_one_call():
    prob = gs.Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=8, beta="0.5")
    policy = gs.stationary_policy(prob, dps=40)
    array = policy.to_numpy()
    assert array.dtype == np.float64 and array.shape == (2,)
    assert array.tolist() == [float(x) for x in policy] == list(policy.as_floats())
    assert abs(array.sum() - 1) < 1e-15
    # still a tuple of mpf with every digit asked for
    assert isinstance(policy, tuple) and all(isinstance(x, mpmath.mpf) for x in policy)
    with mpmath.workdps(60):
        assert abs(mpmath.fsum(policy) - 1) < mpmath.mpf(10) ** -38


def test_points_keep_names_and_digits(named_points):
    point = named_points[0]
    assert point.policy.names == ("right", "wrong") and point.labels() == ("right", "wrong")
    assert isinstance(point.policy[0], mpmath.mpf)
    assert mpmath.nstr(point.policy[0], 20) != mpmath.nstr(point.policy[0], 12)  # all 20 digits kept


def test_repr_uses_names_or_numbers_from_one(named_points, unnamed_points):
    named, unnamed = repr(named_points[0]), repr(unnamed_points[0])
    assert named.startswith("StationaryPoint(policy={'right': 0.670179") and "stable=True" in named
    assert unnamed.startswith("StationaryPoint(policy={1: 0.670179") and ", 2: 0.329820" in unnamed
    assert "spectral_radius=" in unnamed and "is_local_maximum=" in unnamed
    assert len(named) < 300  # 12 digits shown, not 20 (nor 50)


def test_repr_shows_fields_added_to_the_point():
    """Diagnostics are read from the dataclass fields, so fields added later are shown too."""
    import dataclasses

    @dataclasses.dataclass(frozen=True, repr=False)
    class Extended(gs.StationaryPoint):
        certified: bool = True

    point = Extended(Policy((mpmath.mpf("0.25"), mpmath.mpf("0.75"))), mpmath.mpf(0), mpmath.mpf(0), None, None, None)
    assert repr(point).endswith("is_local_maximum=None, face=(), certified=True)")
    assert "certified True" in point._repr_html_()


def test_jupyter_latex_and_html(named_points):
    point = named_points[1]
    latex = point._repr_latex_()
    assert latex.startswith("$\\begin{array}") and latex.endswith("$")
    assert "\\text{right} & 0.99651395716" in latex and "\\pi^*(o)" in latex
    page = point._repr_html_()
    assert "<td>right</td><td>0.99651395716" in page and "stable False" in page


def test_a_list_of_points_is_one_table_in_jupyter(named_points):
    page = named_points._repr_html_()
    assert "<th>point 1</th><th>point 2</th>" in page
    assert "<td>right</td><td>0.67017947666</td><td>0.996513957164</td>" in page
    assert "<td><i>stable</i></td><td>True</td><td>False</td>" in page
    assert page.startswith("<table><caption>") and "complete" in page.split("</caption>")[0]


def test_names_are_escaped_for_latex_and_html():
    names = ["<b>x</b>", "a_1 & {b} $"]
    point = gs.stationary_policies(gs.Problem(**BISTABLE, names=names), dps=15)[0]
    page = point._repr_html_()
    assert "<b>x</b>" not in page and html.escape("<b>x</b>") in page
    latex = point._repr_latex_()
    assert r"\text{a\_1 \& \{b\} \$}" in latex
    assert latex_text("\\") == r"\textbackslash{}"


def test_policy_is_a_tuple_that_pickles_with_its_names():
    pi = Policy((mpmath.mpf(1) / 3, mpmath.mpf(2) / 3), names=("a", "b"))
    again = pickle.loads(pickle.dumps(pi))
    assert again == pi and again.names == ("a", "b") and type(again) is Policy
    assert Policy((mpmath.mpf(1),)).labels() == ("1",)


def test_points_frame(named_points):
    pandas = pytest.importorskip("pandas")
    for frame in (points_frame(named_points), named_points.to_frame(), gs.points_frame(tuple(named_points))):
        assert isinstance(frame, pandas.DataFrame)
        assert list(frame.index) == [1, 2] and frame.index.name == "point"
        assert list(frame.columns[:2]) == ["pi_star[right]", "pi_star[wrong]"]
        assert frame["pi_star[right]"].dtype == np.float64
        assert frame["pi_star[right]"].round(6).tolist() == [0.670179, 0.996514]
        assert frame["stable"].tolist() == [True, False]
        assert frame["residual"].dtype == np.float64


def test_points_frame_numbers_unnamed_outputs_from_one(unnamed_points):
    pytest.importorskip("pandas")
    assert list(points_frame(unnamed_points).columns[:2]) == ["pi_star[1]", "pi_star[2]"]


def test_points_frame_without_pandas_is_a_parameter_error(named_points, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(gs.ParameterError, match="pip install pandas"):
        points_frame(named_points)


def test_points_frame_refuses_other_items():
    with pytest.raises(gs.ParameterError, match=r"points\[1\]"):
        points_frame([gs.stationary_policies(gs.Problem(**BISTABLE), dps=15)[0], (0.5, 0.5)])
