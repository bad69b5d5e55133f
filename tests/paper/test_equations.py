"""The equation table: every row's links resolve, and the export and the checks read it."""

from grpo_symbolic.export.latex import FORMULAS
from grpo_symbolic.paper import forms
from grpo_symbolic.paper.equations import BY_LABEL, EQUATIONS, main, markdown
from paper_checks.claims import CLAIMS_BY_ID


def test_every_labelled_equation_is_exported_once():
    assert [f.label for f in FORMULAS] == list(BY_LABEL)
    assert all(f.equation is BY_LABEL[f.label] for f in FORMULAS)


def test_claim_ids_exist_and_printed_forms_are_the_papers():
    for equation in EQUATIONS.values():
        assert equation.claims and set(equation.claims) <= set(CLAIMS_BY_ID), equation.key
        if equation.printed is not None:
            assert getattr(forms, equation.printed_name) is equation.printed


def test_claims_read_their_equations_from_the_table():
    assert CLAIMS_BY_ID["eq14-sqrt"].equations == ("eq14",)
    assert CLAIMS_BY_ID["fig3"].equations == ("direct-g2",)
    assert EQUATIONS["direct-g2"].figure == 3
    assert CLAIMS_BY_ID["adv-invariance"].equations == ("eq2",)


def test_derivations_are_named_from_the_callables():
    assert EQUATIONS["eq8"].derivation == "cases.general.penalty_gradients()['kl0']"
    assert EQUATIONS["k3"].derivation == "theory.estimators.expected_gradient('k3', 3)"


def test_markdown_lists_every_row(capsys):
    text = markdown(["eq14-sqrt", "not-listed"])
    assert len(text.splitlines()) == 2 + len(EQUATIONS) + 2 and "`not-listed`" in text
    assert main(["--markdown"]) == 0 and capsys.readouterr().out == markdown()
