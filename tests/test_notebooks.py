"""The notebooks in notebooks/: committed without outputs, and each one runs top to bottom.

The cheap checks (six chapters, no outputs committed) run by default; executing the notebooks
is marked ``notebooks`` and so belongs to the slow set (``pytest -m slow``).
Every notebook is executed in a fresh kernel with nbclient (a time limit per cell); any error in
any cell fails the test.  The kernel is the interpreter running pytest: a kernel spec named
"python3" for ``sys.executable`` is written to a temporary directory that is put first on
JUPYTER_PATH, so a "python3" spec installed elsewhere (for another Python) cannot be picked up.
Needs the ``notebooks`` extra (nbclient, nbformat, ipykernel, matplotlib); without it the
execution tests are skipped with the reason shown.
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


def test_the_six_chapters_are_there():
    assert [path.name[:2] for path in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]


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


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs(path, kernel_name):
    nbformat = pytest.importorskip("nbformat", reason=f"nbformat is needed to read the notebooks; {EXTRA}")
    nbclient = pytest.importorskip("nbclient", reason=f"nbclient is needed to execute the notebooks; {EXTRA}")
    pytest.importorskip("matplotlib", reason=f"the notebooks draw figures with matplotlib; {EXTRA}")

    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name=kernel_name,
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    start = time.perf_counter()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{path.name} failed:\n{error}", pytrace=False)
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")
