"""Every registered check is an importable function named after its claim ID, so a traceback names the claim."""

import importlib

import pytest

from paper_checks.checks_certify import CERTIFICATIONS
from paper_checks.registry import REGISTRY

REGISTRY.discover()


def _python_name(claim_id):
    return claim_id.replace("-", "_")


@pytest.mark.parametrize("registry, prefix", [(REGISTRY, "check"), (CERTIFICATIONS, "certify")])
def test_every_registered_function_is_named_after_its_claim(registry, prefix):
    misnamed = {claim_id: function.__name__ for claim_id, function in registry.functions.items()
                if function.__name__ != f"{prefix}_{_python_name(claim_id)}"}
    assert registry.functions and misnamed == {}


@pytest.mark.parametrize("registry", [REGISTRY, CERTIFICATIONS])
def test_every_registered_function_is_importable_by_its_name(registry):
    for function in registry.functions.values():
        module = importlib.import_module(function.__module__)
        assert getattr(module, function.__name__) is function
