"""The input gate, walked: every public callable that takes numbers, fed the injection string and
the bad policies and digits of issue 10, raises ParameterError and runs nothing.

The callables are found, not listed: the facade's ``__all__`` plus the public functions of the
modules below.  Each parameter whose name says it carries a number (or a policy) is replaced in
turn by the bad value, the others get a valid value by name; a function with a required
parameter of unknown name is reported (``test_every_callable_is_walked``), so a new public
function cannot slip past the walk.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import random
from pathlib import Path
from typing import Any, Callable

import pytest
import sympy as sp

import grpo_symbolic
import grpo_symbolic.cases
from grpo_symbolic import ParameterError, Problem
from grpo_symbolic.model.symbols import x as symbol_x

MODULES = ["grpo_symbolic.preference.engine", "grpo_symbolic.solve.api", "grpo_symbolic.dynamics.simulate",
           "grpo_symbolic.dynamics.sampled_advantages",
           "grpo_symbolic.solve.binary_grid", "grpo_symbolic.numerics.certify", "grpo_symbolic.model.presets",
           "grpo_symbolic.export.figures",
           *(f"grpo_symbolic.cases.{m.name}" for m in pkgutil.iter_modules(grpo_symbolic.cases.__path__))]

TWO = Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=4, beta="0.5")

#: A valid value for each parameter name the walk meets (for the parameters not under test).
VALID: dict[str, Any] = {
    "problem": TWO, "policy": ("0.3", "0.7"), "pi": ("0.3", "0.7"), "pi_old": ("0.3", "0.7"),
    "pi_ref": ("0.3", "0.7"), "start": ("0.3", "0.7"), "dps": 20, "group_size": 4, "reference": ("0.3", "0.7"),
    "rewards": (1, 0), "beta": "0.5", "weight": "0.5", "iterations": 20, "steps": 2, "lr": 0.1, "samples": 10,
    "seed": 0, "size": 2, "sizes": (4,), "points": 8, "figure_number": 1, "name": "paper", "reference_a": "0.3",
    "guess": "0.6", "p": "0.3", "success": "0.5", "mean": "0.5", "variance": "0.25", "margin_value": "0.5",
    "eps": 0, "distinct": 3, "value": "0.5", "expr": sp.Integer(1) + symbol_x, "variable": symbol_x,
    "approximation": "1", "radius": None, "i": 0, "directory": "figures", "opponent": ("0.5", "0.5"),
    "prefers": ((sp.Rational(1, 2), 1), (0, sp.Rational(1, 2))), "preference": (symbol_x, -symbol_x),
    "rng": random.Random(0), "function": lambda s: s, "form": lambda *args: args[0],
    "advantage": "grpo", "trainer": "trl", "config": {"beta": "0.5", "num_generations": 4, "max_completion_length": 1,
                                  "use_bias_correction_kl": False},
}

#: The parameters that carry numbers or policies: each gets the bad values in turn.
NUMBERS = {"policy", "pi", "pi_old", "pi_ref", "start", "dps", "group_size", "reference", "beta", "weight",
           "iterations", "steps", "lr", "samples", "seed", "size", "sizes", "points", "figure_number",
           "reference_a", "guess", "p", "success", "mean", "variance", "margin_value", "eps", "distinct",
           "value", "approximation", "i"}
POLICIES = {"policy", "pi", "pi_old", "pi_ref", "start"}
#: Parameters that hold symbolic work, not user numbers (a formula, a symbol, callables, generators).
NOT_NUMBERS = {"expr", "variable", "variables", "function", "form", "condition", "statistic", "weights",
               "rng", "prefers", "opponent", "preference", "rewards", "normalisation", "penalty", "estimator",
               "options", "stability", "progress", "chains", "groups", "steps_per_batch", "clip", "fraction",
               "directory", "span", "step"}


#: Public helpers that take values the gate has already checked (the solver's plumbing: mpf
#: mixtures, tables, exact-rational balls); they are not entry points and are not walked.
PLUMBING = {"mixture", "advantage_table", "numeric_table", "expected_advantages_numeric", "expected_advantages_float",
            "exact_table", "compositions", "beats", "exact_policy", "bernstein_coefficients",
            "zero_mean_holds", "preference_a", "precision_bits", "ball_of", "exact_ball", "mpf_of", "compile_arb",
            "estimator_gradient", "preset_options", "preset_settings", "closed_form", "value_at_zero", "main"}

def public_callables() -> list[Callable[..., Any]]:
    found = [getattr(grpo_symbolic, name) for name in grpo_symbolic.__all__]
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        found += [f for n, f in vars(module).items() if not n.startswith("_") and n not in PLUMBING
                  and inspect.isfunction(f) and f.__module__ == module_name]
    unique = {id(f): f for f in found if callable(f) and not isinstance(f, type) or f is Problem}
    return [f for f in unique.values() if _numeric_parameters(f)]


def _numeric_parameters(function: Callable[..., Any]) -> list[str]:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return []
    return [n for n in parameters if n in NUMBERS]


CALLABLES = public_callables()
CASES = [(f, name) for f in CALLABLES for name in _numeric_parameters(f)]


def _call(function, **changes):
    arguments = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if name in changes:
            arguments[name] = changes[name]
        elif parameter.default is inspect.Parameter.empty and parameter.kind not in (
                parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
            arguments[name] = VALID[name]
    return function(**arguments)


def _label(case):
    function, name = case
    return f"{function.__module__.split('.')[-1]}.{function.__name__}:{name}"


def test_every_callable_is_walked():
    """Every required parameter of a walked callable has a valid value or is not a number."""
    missing = [f"{f.__module__}.{f.__name__}({n})" for f in CALLABLES
               for n, p in inspect.signature(f).parameters.items()
               if p.default is inspect.Parameter.empty and n not in VALID
               and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    assert not missing, missing
    assert len(CALLABLES) >= 40 and len(CASES) >= 80, (len(CALLABLES), len(CASES))


def _inject(case, tmp_path, monkeypatch):
    """Call with the injection string in parameter ``name``; return (exception, whether it ran)."""
    function, name = case
    marker = Path(tmp_path) / "INJECTED"
    injection = f'__import__("os").system("touch {marker}")'
    monkeypatch.chdir(tmp_path)
    try:
        _call(function, **{name: [injection, "1"] if name in POLICIES else injection})
    except Exception as error:  # noqa: BLE001 - which exception is the next test's question
        return error, marker.exists()
    return None, marker.exists()


@pytest.mark.parametrize("case", CASES, ids=_label)
def test_injection_string_runs_nothing(case, tmp_path, monkeypatch):
    _, ran = _inject(case, tmp_path, monkeypatch)
    assert not ran


@pytest.mark.parametrize("case", CASES, ids=_label)
def test_injection_string_raises_parameter_error(case, tmp_path, monkeypatch):
    error, _ = _inject(case, tmp_path, monkeypatch)
    assert isinstance(error, ParameterError), repr(error)


BAD_POLICIES = [["0.9", "0.9"], ["5", "7"], ["2", "3"], ["-0.5", "1.5"], [float("nan"), 1], ["0.3"],
                ["0.3", "0.7", "0"], "0.3", {"a": "0.3"}]


@pytest.mark.parametrize("case", [c for c in CASES if c[1] in POLICIES], ids=_label)
@pytest.mark.parametrize("policy", BAD_POLICIES, ids=repr)
def test_bad_policies_raise(case, policy):
    function, name = case
    with pytest.raises(ParameterError):
        _call(function, **{name: policy})


@pytest.mark.parametrize("case", [c for c in CASES if c[1] == "dps"], ids=_label)
@pytest.mark.parametrize("dps", [1, -3, 0, 4, 2.5, "30", True, 10**6])
def test_bad_digits_raise(case, dps):
    function, _ = case
    with pytest.raises(ParameterError, match="^dps:"):
        _call(function, dps=dps)
