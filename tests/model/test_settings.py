"""The settings (grpo_symbolic.model.settings): one list each, read by Problem, presets, CLI and the layers."""

import argparse

import pytest

from grpo_symbolic import Estimator, Normalisation, ParameterError, Penalty, Problem
from grpo_symbolic.model.settings import Advantage, GroupFilter, Placement
from grpo_symbolic.cli import make_parser
from grpo_symbolic.dynamics import simulate
from grpo_symbolic.model.presets import PRESETS
from grpo_symbolic.model.settings import PENALTY_ESTIMATOR, Setting
from grpo_symbolic.preference import moments
from grpo_symbolic.theory import estimators

SETTINGS = [Normalisation, Penalty, Estimator, Placement, Advantage, GroupFilter]


def test_the_lists():
    assert Normalisation.choices() == ("population", "sample", "shift")
    assert Penalty.choices() == ("grpo", "direct")
    assert Estimator.choices() == ("k1", "k2", "k3", "is_k3", "k3-flipped", "k3-plus")
    assert Placement.choices() == ("loss", "reward-pre", "reward-post")
    assert Advantage.choices() == ("grpo", "rloo", "rloo-std", "passk")
    assert GroupFilter.choices() == ("keep", "drop-equal", "mask-penalty")


@pytest.mark.parametrize("setting", SETTINGS)
def test_members_behave_as_their_strings(setting):
    for member in setting:
        assert member == member.value and hash(member) == hash(member.value)
        assert str(member) == f"{member}" == member.value
        assert {member.value: 1}[member] == 1
        assert setting.parse(member.value, "x") is member is setting.parse(member, "x")


@pytest.mark.parametrize("setting, bad", [(Normalisation, "bessel"), (Penalty, "k3"), (Estimator, "k4"),
                                          (Normalisation, None), (Penalty, ["grpo"]), (Estimator, "K3")])
def test_unknown_values_name_the_parameter_and_the_choices(setting, bad):
    with pytest.raises(ParameterError) as info:
        setting.parse(bad, "option")
    assert str(info.value) == f"option: got {bad!r}; use one of {', '.join(setting.choices())}"


def test_every_penalty_has_its_estimator():
    assert set(PENALTY_ESTIMATOR) == set(Penalty)
    assert simulate.PENALTY_ESTIMATOR is PENALTY_ESTIMATOR


def test_other_layers_read_the_same_lists():
    assert set(estimators.ESTIMATORS) <= set(Estimator)
    assert moments.SCALES == (*Normalisation, Advantage.RLOO)


def test_cli_choices_are_the_lists():
    commands = next(a for a in make_parser()._actions if isinstance(a, argparse._SubParsersAction))
    solve = commands.choices["solve"]
    choices = {action.dest: tuple(action.choices) for action in solve._actions if action.choices}
    kl_names = tuple("k3-is" if name == "is_k3" else name for name in Estimator.choices())  # the CLI's vocabulary
    assert choices == {"normalisation": Normalisation.choices(), "penalty": Penalty.choices(),
                       "advantage": Advantage.choices(), "filter": GroupFilter.choices(),
                       "trainer": ("trl", "verl", "openrlhf"), "kl_estimator": kl_names,
                       "kl_placement": Placement.choices()}


def test_problem_and_presets_store_members():
    prob = Problem(["0.5", "0.5"], [1, 0], 2, 1, normalisation="shift", penalty=Penalty.DIRECT)
    assert prob.normalisation is Normalisation.SHIFT and prob.penalty is Penalty.DIRECT
    for name, builder in PRESETS.items():
        settings = builder()
        assert isinstance(settings.normalisation, Normalisation) and isinstance(settings.penalty, Penalty), name


def test_settings_share_one_base():
    assert all(issubclass(setting, Setting) and issubclass(setting, str) for setting in SETTINGS)
