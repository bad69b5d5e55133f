"""The error hierarchy (grpo_symbolic.model.errors): one base, ParameterError and SolverError with a reason."""

import pytest

import grpo_symbolic as gs
from grpo_symbolic.model.errors import GrpoSymbolicError, ParameterError, SolverError


def test_hierarchy():
    for error in (ParameterError, SolverError):
        assert issubclass(error, GrpoSymbolicError) and issubclass(error, ValueError)
    assert not issubclass(GrpoSymbolicError, ValueError)
    assert (gs.GrpoSymbolicError, gs.ParameterError, gs.SolverError) == (GrpoSymbolicError, ParameterError, SolverError)


@pytest.mark.parametrize("reason", SolverError.REASONS)
def test_solver_error_carries_its_reason(reason):
    err = SolverError("message", reason=reason)
    assert err.reason == reason and str(err) == "message"


def test_solver_error_default_reason_and_unknown_reason():
    assert SolverError("x").reason == SolverError.NOT_CONVERGED
    with pytest.raises(ValueError, match="reason"):
        SolverError("x", reason="tired")


@pytest.mark.parametrize("make", [
    lambda: gs.Problem(["0.5", "0.5"], [1, 0], 2, "abc"),
    lambda: gs.Problem(["0.5", "0.5"], [1, 0], 2, 1, normalisation="bessel"),
    lambda: gs.preset("nemo", ["0.5", "0.5"], [1, 0], 2, 1),
    lambda: gs.preset("trl", ["0.5", "0.5"], [1, 0], 2, 1, scale_rewards="batch"),
    lambda: gs.preset("verl", ["0.5", "0.5"], [1, 0], 2, 1, norm_adv_by_std_in_grpo="yes"),
])
def test_bad_input_to_the_model_is_a_parameter_error(make):
    with pytest.raises(ParameterError):
        make()
