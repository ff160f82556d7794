"""Helpers shared by fixtures: how a missing real part is treated."""

import os
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def missing_service(reason: str) -> NoReturn:
    """Skip on a developer's machine; fail in CI, where every real part must be there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)
