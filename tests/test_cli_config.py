"""``solve --preset NAME``, ``--trainer T --config FILE``, ``--advantage``/``--k``/``--filter`` (in process)."""

import json

import pytest

from grpo_symbolic import cli
from grpo_symbolic.model.presets import ALIASES, TABLE

PREFIX = "grpo-symbolic: error: "
CONTEXT = ["solve", "--reference", "0.3,0.7", "--rewards", "1,0", "--dps", "20"]
VERL_YAML = """\
algorithm:
  adv_estimator: grpo
actor_rollout_ref:
  rollout:
    n: 5
  actor:
    use_kl_loss: true
    kl_loss_coef: 0.001
    kl_loss_type: low_var_kl
data:
  train_batch_size: 256
  max_response_length: 1
"""


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def policy(out):
    return [line.split("\t")[2] for line in out.splitlines()[1:]]


def one_error(code, out, err, fragment):
    assert code == 2 and out == "" and "Traceback" not in err, (code, out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(PREFIX) and fragment in lines[0], err


def test_preset_names_in_help_are_the_table():
    assert set(cli._PRESET_NAMES) == set(TABLE) | set(ALIASES)


def test_preset_gives_the_settings_and_beta(capsys):
    by_preset = run([*CONTEXT, "--preset", "trl", "--group-size", "8"], capsys)
    by_flags = run([*CONTEXT, "--group-size", "8", "--beta", "0.04", "--normalisation", "sample", "--eps", "0.0001"],
                   capsys)
    assert by_preset[0] == by_flags[0] == 0 and by_preset[1] == by_flags[1]


def test_explicit_options_override_the_preset(capsys):
    overridden = run([*CONTEXT, "--preset", "trl", "--group-size", "8", "--beta", "0.5", "--penalty", "direct"], capsys)
    by_flags = run([*CONTEXT, "--group-size", "8", "--beta", "0.5", "--normalisation", "sample", "--eps", "0.0001",
                    "--penalty", "direct"], capsys)
    assert overridden[0] == 0 and overridden[1] == by_flags[1]
    plain = run([*CONTEXT, "--preset", "trl", "--group-size", "8", "--beta", "0.5"], capsys)
    assert policy(plain[1]) != policy(overridden[1])


def test_trainer_config_yaml_reproduces_the_verl_preset(tmp_path, capsys):
    pytest.importorskip("yaml")
    path = tmp_path / "cfg.yaml"
    path.write_text(VERL_YAML)
    code, out, err = run([*CONTEXT, "--trainer", "verl", "--config", str(path)], capsys)
    assert code == 0, err
    assert err.splitlines() == [line for line in err.splitlines() if line.startswith("grpo-symbolic: warning: verl: ")]
    assert "kl_loss_type" in err and len(err.splitlines()) == 1
    preset = run([*CONTEXT, "--preset", "verl", "--group-size", "5"], capsys)
    assert preset[1] == out


def test_trainer_config_json(tmp_path, capsys):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"beta": 0.04, "num_generations": 8, "max_completion_length": 1,
                               "use_bias_correction_kl": False}))
    code, out, err = run([*CONTEXT, "--trainer", "trl", "--config", str(path)], capsys)
    assert code == 0 and err == "", err
    assert out == run([*CONTEXT, "--preset", "trl-0.18", "--group-size", "8"], capsys)[1]


def test_yaml_without_pyyaml_says_how_to_install(tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_yaml(name, *args, **kwargs):
        if name == "yaml":
            raise ModuleNotFoundError("No module named 'yaml'", name="yaml")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_yaml)
    path = tmp_path / "cfg.yml"
    path.write_text(VERL_YAML)
    one_error(*run([*CONTEXT, "--trainer", "verl", "--config", str(path)], capsys), "grpo_symbolic[yaml]")


@pytest.mark.parametrize("content, suffix, fragment", [
    ('{"beta": 0.04, "num_generation": 8}', ".json", "did you mean 'num_generations'"),
    ('{"beta": 0.04,', ".json", "not valid JSON"),
    ("beta: [0.04", ".yaml", "not valid YAML"),
    ('{"beta": "abc"}', ".json", "beta: cannot read"),
    ('{"num_generations": 1}', ".json", "num_generations: got 1"),
    ('["beta"]', ".json", "a mapping"),
])
def test_bad_configs_exit_2_with_one_line(tmp_path, capsys, content, suffix, fragment):
    if suffix == ".yaml":
        pytest.importorskip("yaml")
    path = tmp_path / f"cfg{suffix}"
    path.write_text(content)
    one_error(*run([*CONTEXT, "--trainer", "trl", "--config", str(path)], capsys), fragment)


@pytest.mark.parametrize("argv, fragment", [
    (["--preset", "nemo", "--group-size", "8"], "preset: got 'nemo'"),
    (["--preset", "trl"], "--group-size"),
    (["--preset", "paper", "--group-size", "8"], "--beta"),
    (["--preset", "trl", "--trainer", "trl", "--group-size", "8"], "not both"),
    (["--config", "x.json", "--group-size", "8", "--beta", "1"], "--config needs --trainer"),
    (["--trainer", "trl", "--config", "/nonexistent/cfg.json"], "No such file"),
    (["--trainer", "deepspeed"], "--trainer"),
    (["--group-size", "8", "--beta", "1", "--advantage", "gae"], "--advantage"),
    (["--group-size", "8", "--beta", "1", "--filter", "all"], "--filter"),
    (["--group-size", "8", "--beta", "1", "--k", "two"], "--k"),
])
def test_bad_options_exit_2_with_one_line(argv, fragment, capsys):
    one_error(*run([*CONTEXT, *argv], capsys), fragment)


@pytest.mark.parametrize("argv", [
    ["--advantage", "rloo"], ["--advantage", "passk", "--k", "2"], ["--filter", "drop-equal"], ["--filter", "mask-penalty"],
    ["--preset", "dapo", "--beta", "0.5"], ["--preset", "openrlhf-group-norm"], ["--preset", "rloo"],
])
def test_new_settings_reach_the_problem(argv, capsys):
    """Either the solver handles the setting, or the Problem refuses it by name: never the paper's answer."""
    beta = [] if "--beta" in argv else ["--beta", "0.5"]
    code, out, err = run([*CONTEXT, "--group-size", "4", *beta, *argv], capsys)
    paper = run([*CONTEXT, "--group-size", "4", "--beta", "0.5"], capsys)[1]
    if code == 2:
        one_error(code, out, err, "not supported")
    else:
        assert code == 0 and out != paper, err
