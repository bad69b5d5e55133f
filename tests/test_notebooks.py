"""The notebooks in notebooks/: committed without outputs, paired with jupytext files, and each one runs.

The cheap checks (seven chapters, no outputs committed, each .ipynb agrees with its jupytext
``.py`` percent file) run by default; executing the notebooks is marked ``notebooks`` and so
belongs to the slow set (``pytest -m slow``).  They are executed by nbmake's runner
(:class:`nbmake.nb_run.NotebookRun`, a fresh kernel per notebook, a time limit per cell) with
the "python3" kernel of the interpreter running pytest: a kernel spec for ``sys.executable`` is
written to a temporary directory put first on JUPYTER_PATH, so a "python3" spec installed
elsewhere (for another Python) cannot be picked up.  Needs the ``notebooks`` extra (nbmake,
jupytext, ipykernel, matplotlib); without it those tests are skipped with the reason shown.

The numbers notebook 06 explains (its TRL example's sampled run against π*) are checked here
too: :func:`test_notebook_06_sampled_gap_is_the_transient`.
"""

import json
import os
from pathlib import Path
import sys
import time

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell
EXTRA = "install the notebooks extra: pip install -e '.[notebooks]'"


def test_the_chapters_are_there():
    assert {"01", "02", "03", "04", "05", "06", "07", "08"} <= {path.name[:2] for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_committed_without_outputs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    stale = [i for i, cell in enumerate(code) if cell.get("outputs") or cell.get("execution_count") is not None]
    assert not stale, f"{path.name}: code cells {stale} carry outputs or an execution count; clear them before committing"


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory):
    """A "python3" kernel spec for this interpreter, first on JUPYTER_PATH for the module's tests."""
    pytest.importorskip("ipykernel", reason=f"ipykernel is needed to run the notebooks; {EXTRA}")
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter")
    install(prefix=str(prefix), kernel_name="python3")
    data_dir = prefix / "share" / "jupyter"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", os.pathsep.join([str(data_dir), os.environ.get("JUPYTER_PATH", "")]).rstrip(os.pathsep))
        patch.setenv("MPLBACKEND", "Agg")  # inherited by the kernel: no display needed
        from jupyter_client.kernelspec import KernelSpecManager

        spec = KernelSpecManager().get_kernel_spec("python3")
        assert spec.argv[0] == sys.executable, f"the python3 kernel spec runs {spec.argv[0]}, not {sys.executable}"
        yield "python3"


def test_each_notebook_agrees_with_its_jupytext_file():
    jupytext = pytest.importorskip("jupytext", reason=f"jupytext is needed to compare the paired files; {EXTRA}")
    for path in NOTEBOOKS:
        script = path.with_suffix(".py")
        assert script.exists(), f"{path.name} has no paired {script.name}: run jupytext --sync {path}"
        cells = [(c.cell_type, c.source) for c in jupytext.read(path).cells]
        paired = [(c.cell_type, c.source) for c in jupytext.read(script).cells]
        assert cells == paired, f"{path.name} and {script.name} differ: run jupytext --sync {path}"
        assert jupytext.read(path).metadata["jupytext"]["formats"] == "ipynb,py:percent"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs(path, kernel_name):
    nb_run = pytest.importorskip("nbmake.nb_run", reason=f"nbmake runs the notebooks; {EXTRA}")
    pytest.importorskip("matplotlib", reason=f"the notebooks draw figures with matplotlib; {EXTRA}")

    start = time.perf_counter()
    result = nb_run.NotebookRun(path, CELL_TIMEOUT, kernel=kernel_name).execute()
    if result.error is not None:
        pytest.fail(f"{path.name} failed in cell {result.error.failing_cell_index}:\n{result.error.summary}\n"
                    f"{result.error.trace}", pytrace=False)
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")


def test_notebook_06_sampled_gap_is_the_transient():
    """Notebook 06's TRL example: after 400 sampled iterations output 2 sits 9 s.e. above pi*, which the
    expected flow over the same window predicts (a transient); after 1600 iterations the gap is gone."""
    import numpy as np

    from grpo_symbolic.dynamics.simulate import PENALTY_ESTIMATOR, expected_flow, simulate
    from grpo_symbolic.model.presets import preset
    from grpo_symbolic.solve.api import stationary_policy

    problem = preset("trl", ["0.05", "0.15", "0.3", "0.5"], [1, {"1": "0.5", "0": "0.5"}, {"1": "0.1", "0": "0.9"}, 0],
                     8, "0.04")
    estimator = PENALTY_ESTIMATOR[problem.penalty]
    star = np.array(stationary_policy(problem, dps=20), dtype=float)
    assert star[1] == pytest.approx(0.004949138, abs=1e-9)
    for iterations, far_from_star in ((400, True), (1600, False)):
        run = simulate(problem, iterations=iterations, lr=1.0, groups=16, chains=4, seed=0, estimator=estimator)
        mean, stderr = run.estimate()
        window = expected_flow(problem, steps=iterations, lr=1.0, estimator=estimator)[iterations // 2:].mean(axis=0)
        assert np.all(np.abs(mean - window) < 3 * stderr + 1e-12), (iterations, mean, window, stderr)
        assert (abs(mean[1] - star[1]) > 5 * stderr[1]) == far_from_star, (iterations, mean[1], star[1], stderr[1])
    assert mean[1] == pytest.approx(0.004882, abs=1e-6)  # the number notebook 06 quotes for 1600 iterations
