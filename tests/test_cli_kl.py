"""The CLI's KL block (issue 11): --kl-estimator, --kl-placement, --kl-clamp, --entropy, --beta 0."""

import pytest

from grpo_symbolic import cli

BASE = ["solve", "--reference", "0.3,0.7", "--rewards", "1,0", "--group-size", "4", "--dps", "40"]


def run(capsys, *extra):
    code = cli.main([*BASE, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_k3_in_the_loss_reproduces_the_grpo_penalty_digit_for_digit(capsys):
    code_a, paper, _ = run(capsys, "--beta", "0.5", "--penalty", "grpo", "--all")
    code_b, derived, _ = run(capsys, "--beta", "0.5", "--kl-estimator", "k3", "--kl-placement", "loss", "--all")
    assert code_a == code_b == 0 and paper == derived and "0.810383769670737478667399698085" in paper


def test_k3_is_in_the_loss_reproduces_the_direct_penalty(capsys):
    _, paper, _ = run(capsys, "--beta", "0.5", "--penalty", "direct")
    _, derived, _ = run(capsys, "--beta", "0.5", "--kl-estimator", "k3-is")
    assert paper == derived


def test_beta_zero_with_entropy_is_an_interior_policy(capsys):
    code, out, err = run(capsys, "--beta", "0", "--entropy", "0.1")
    assert code == 0 and not err
    rows = [line.split("\t") for line in out.splitlines()[1:]]
    assert len(rows) == 2 and all(0 < float(pi) < 1 for _, _, pi in rows)


def test_beta_zero_alone_explains_where_the_policy_goes(capsys):
    code, out, err = run(capsys, "--beta", "0")
    assert code == 0 and not err and "Traceback" not in out
    assert "no interior stationary policy" in out and "vertex of output 1" in out


@pytest.mark.parametrize("estimator", ["k2", "k3-plus", "k3-flipped"])
def test_each_loss_estimator_solves(capsys, estimator):
    code, out, err = run(capsys, "--beta", "0.5", "--kl-estimator", estimator)
    assert code == 0 and not err and out.startswith("output\tpi_ref\tpi_star")


def test_reward_post_k1_is_log_pooling_of_the_preference(capsys):
    _, post, _ = run(capsys, "--beta", "0.5", "--kl-estimator", "k1", "--kl-placement", "reward-post")
    _, k2, _ = run(capsys, "--beta", "0.5", "--kl-estimator", "k2")
    assert post == k2  # both give π ∝ π_ref·exp(P_G/β)


def test_an_active_clamp_is_reported_naming_kl_clamp(capsys):
    code, _, err = run(capsys, "--beta", "0.01", "--kl-estimator", "k3", "--kl-clamp", "0.001")
    assert code == 2 and err.startswith("grpo-symbolic: error: kl_clamp:") and len(err.splitlines()) == 1


def test_an_inactive_clamp_changes_nothing(capsys):
    _, clamped, _ = run(capsys, "--beta", "0.5", "--kl-estimator", "k3", "--kl-clamp", "10")
    _, free, _ = run(capsys, "--beta", "0.5", "--kl-estimator", "k3")
    assert clamped == free


@pytest.mark.parametrize("extra,parameter", [
    (["--beta", "-1"], "beta"), (["--beta", "0.5", "--entropy", "-1"], "entropy"),
    (["--beta", "0.5", "--kl-clamp", "0"], "kl_clamp"),
    (["--beta", "0.5", "--kl-estimator", "k3", "--kl-placement", "reward-post"], "kl_estimator"),
])
def test_bad_kl_input_is_one_line_naming_the_parameter(capsys, extra, parameter):
    code, _, err = run(capsys, *extra)
    assert code == 2 and err.startswith(f"grpo-symbolic: error: {parameter}:"), err
    assert len(err.splitlines()) == 1


def test_all_says_a_face_point_is_one(capsys):
    code, out, _ = run(capsys, "--beta", "0.5", "--kl-estimator", "k3-flipped", "--all")
    assert code == 0 and "# a face point: pi_star = 0 for output(s) 2 (KKT boundary)" in out
