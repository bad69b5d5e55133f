"""The real-trainer comparison (issue 13): statistics helpers always; TRL runs with the extra.

The TRL tests are marked ``trainers`` and skip, with the reason shown by ``-ra``, when torch or
trl is missing (``pip install -e ".[trainers]"``).  Each runs one case family for a few hundred
steps and applies the pass rule to its tail average.
"""

import dataclasses
import math
import subprocess
import sys

import pytest

from grpo_symbolic import ParameterError
from grpo_symbolic.trainers import Case, TRLSettings, batch_means, compare, rlhf_policy
from grpo_symbolic.trainers.bandit import BanditReward, TrainersNotInstalled, require_trainers
from grpo_symbolic.trainers.compare import distance, format_table

# ---------------------------------------------------------------- helpers, no torch needed


def test_batch_means_by_hand():
    # tail after burn-in 2: 1, 3, 2, 4, 6, 8 -> batches (1,3), (2,4), (6,8) -> averages 2, 3, 7
    series = [(100.0,), (100.0,), (1.0,), (3.0,), (2.0,), (4.0,), (6.0,), (8.0,)]
    mean, se = batch_means(series, batches=3, burn_in=2)
    assert mean == pytest.approx((4.0,))
    # sample variance of (2, 3, 7) is ((−2)² + (−1)² + 3²) / 2 = 7; s.e. = sqrt(7 / 3)
    assert se == pytest.approx((math.sqrt(7 / 3),))


def test_batch_means_drops_the_remainder_from_the_start_of_the_tail():
    mean, _ = batch_means([(50.0,), (1.0,), (1.0,), (3.0,), (3.0,)], batches=2)
    assert mean == pytest.approx((2.0,))


@pytest.mark.parametrize("kwargs, name", [({"batches": 1}, "batches"), ({"burn_in": -1}, "burn_in"),
                                          ({"batches": 5, "burn_in": 2}, "batches")])
def test_batch_means_bad_input_names_the_parameter(kwargs, name):
    with pytest.raises(ParameterError, match=f"^{name}:"):
        batch_means([(0.5, 0.5)] * 4, **kwargs)


def test_rlhf_policy_matches_the_closed_form():
    w = 0.3 * math.exp(1 / 0.5)
    assert float(rlhf_policy(["0.3", "0.7"], [1, 0], "0.5")[0]) == pytest.approx(w / (w + 0.7), rel=1e-15)
    # a stochastic law enters through its mean: E[r] = 0.8
    w = 0.2 * math.exp(0.8 / 0.5)
    p = [float(x) for x in rlhf_policy(["0.2", "0.8"], [{1: "0.8", 0: "0.2"}, 0], "0.5")]
    assert p == pytest.approx([w / (w + 0.8), 0.8 / (w + 0.8)], rel=1e-15)


def test_distance_takes_the_worst_component_with_its_sign():
    assert distance((0.5, 0.3, 0.2), (0.5, 0.2, 0.3), (0.01, 0.05, 0.02)) == pytest.approx(-5.0)


def test_compare_applies_the_pass_rule():
    case = Case("toy", TRLSettings(steps=40), burn_in=0, batches=4)
    wiggle = [w for w in (0.0003, -0.0003, 0.0001, -0.0001) for _ in range(10)]  # one offset a batch
    near_prediction = compare(case, [(0.84283 + w, 0.15717 - w) for w in wiggle])
    near_rlhf = compare(case, [(0.76 + w, 0.24 - w) for w in wiggle])
    assert near_prediction.passed and not near_rlhf.passed
    assert abs(near_rlhf.z_rlhf) < 4 < abs(near_rlhf.z_prediction)
    table = format_table([near_prediction, near_rlhf])
    assert table.count("\n") == 3 and "| yes |" in table and "| NO |" in table


def test_reward_function_samples_its_law_with_the_seed():
    reward = BanditReward([{1: "0.25", 0: "0.75"}, 5], output_ids=[7, 8], seed=3)
    draws = reward(completion_ids=[[7]] * 4000)
    assert set(draws) == {0.0, 1.0} and abs(sum(draws) / 4000 - 0.25) < 0.03
    assert BanditReward([{1: "0.25", 0: "0.75"}, 5], [7, 8], seed=3)(completion_ids=[[7]] * 4000) == draws
    assert reward(completion_ids=[[8], [8, 8], [1]]) == [5.0, 0.0, 0.0] and reward.off_outputs == 2


@pytest.mark.parametrize("field, value", [("group_size", 1), ("beta", 0), ("scale_rewards", "batch"),
                                          ("reference", ("0.3", "0.6")), ("rewards", (1,))])
def test_settings_reject_bad_input(field, value):
    with pytest.raises(ParameterError, match=f"^{field}"):
        TRLSettings(**{field: value})


def test_importing_the_subpackage_imports_no_torch():
    code = ("import sys, grpo_symbolic, grpo_symbolic.trainers; "
            "print(sorted({'torch', 'trl', 'transformers'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("missing", ["torch", "trl"])
def test_a_missing_library_names_the_extra(monkeypatch, missing):
    for name in ("torch", "transformers", "trl")[("torch", "trl").index(missing) * 2:]:
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules makes the import fail
    with pytest.raises(TrainersNotInstalled, match=r'pip install -e "\.\[trainers\]"'):
        require_trainers()


# ---------------------------------------------------------------- TRL's real GRPOTrainer


def _short(name, **changes):
    """Case ``name`` of the full run, shortened for the test suite."""
    from grpo_symbolic.trainers.__main__ import CASES

    case = {c.name: c for c in CASES}[name]
    burn_in, batches = changes.pop("burn_in"), changes.pop("batches")
    return dataclasses.replace(case, settings=dataclasses.replace(case.settings, **changes), burn_in=burn_in,
                               batches=batches)


SHORT_CASES = [  # a tail of 800 steps in 8 batches of 100 (τ ≈ 20-50 steps)
    _short("binary k3", steps=1000, burn_in=200, batches=8),
    _short("binary IS-k3", steps=1100, burn_in=300, batches=8),
    _short("3 outputs stochastic", steps=1000, burn_in=200, batches=8),
    _short("Bessel G=2", steps=1000, burn_in=200, batches=8),
    _short("scale_rewards none", steps=1000, burn_in=200, batches=8),
]


@pytest.mark.trainers
@pytest.mark.parametrize("case", SHORT_CASES, ids=[c.name for c in SHORT_CASES])
def test_trl_reaches_the_predicted_policy(case):
    pytest.importorskip("torch", reason='the trainers extra is not installed: pip install -e ".[trainers]"')
    pytest.importorskip("trl", reason='the trainers extra is not installed: pip install -e ".[trainers]"')
    from grpo_symbolic.trainers.__main__ import run_case

    result = run_case(case)
    summary = format_table([result])
    assert abs(result.z_prediction) < 4, summary
    assert abs(result.z_rlhf) > 20, summary
    # the alternative (population std, IS off, ...) is told apart from the measurement as well
    assert abs(result.z_alternative) > 4, summary
