"""``solve``'s output formats: JSON with decimal strings of every requested digit, CSV, the table;
outputs named or numbered from 1, points numbered from 1."""

import csv
import io
import json

import mpmath
import pytest

import grpo_symbolic as gs
from grpo_symbolic.export.results import SCHEMA, render

BISTABLE = dict(reference=["0.5", "0.5"], rewards=[1, 0], group_size="inf", beta=3, penalty="direct")


@pytest.fixture(scope="module")
def points():
    prob = gs.Problem(**BISTABLE, names=["right", "wrong, or \"not\""])
    return prob, gs.stationary_policies(prob, dps=40)


def test_json_keeps_every_digit(points):
    prob, found = points
    document = json.loads(render("json", prob, found, 40, found.completeness))
    assert document["schema"] == SCHEMA and document["dps"] == 40
    assert [o["output"] for o in document["outputs"]] == [1, 2]
    assert [o["name"] for o in document["outputs"]] == ["right", "wrong, or \"not\""]
    assert [p["point"] for p in document["points"]] == [1, 2]
    for point, entry in zip(found, document["points"]):
        assert entry["pi_star"] == [mpmath.nstr(x, 40) for x in point.policy]
        assert len(entry["pi_star"][0].lstrip("0.")) >= 38  # not a float's 17 digits
        assert entry["stable"] is point.stable and isinstance(entry["spectral_radius"], float)
        assert isinstance(entry["multiplier"], str)
    assert document["completeness"].startswith("complete")


def test_json_of_one_policy_has_no_diagnostics():
    prob = gs.Problem(reference=["0.3", "0.7"], rewards=[1, 0], group_size=2, beta="0.5")
    document = json.loads(render("json", prob, [gs.stationary_policy(prob, dps=20)], 20))
    assert document["outputs"][0] == {"output": 1, "name": None, "pi_ref": "0.3"}
    assert document["points"] == [{"point": 1, "pi_star": ["0.7109772228646443655", "0.2890227771353556345"]}]
    assert document["completeness"] is None


def test_csv_quotes_names_and_lists_each_output(points):
    prob, found = points
    rows = list(csv.reader(io.StringIO(render("csv", prob, found, 40))))
    assert rows[0][:4] == ["point", "output", "pi_ref", "pi_star"] and "stable" in rows[0]
    assert [r[:2] for r in rows[1:]] == [["1", "right"], ["1", "wrong, or \"not\""], ["2", "right"],
                                         ["2", "wrong, or \"not\""]]
    assert rows[1][3] == mpmath.nstr(found[0].policy[0], 40)


def test_table_numbers_outputs_from_one():
    prob = gs.Problem(**BISTABLE)
    found = gs.stationary_policies(prob, dps=20)
    lines = render("table", prob, found, 20, found.completeness).splitlines()
    assert lines[0].startswith("# stationary policy 1 of 2: stable=True")
    assert [line.split("\t")[0] for line in lines if line[:1].isdigit()] == ["1", "2", "1", "2"]
