"""The problems the server answers with are shown to the person as they are, on a phone that
may be disguised as a notes app: none of them may name the product."""

import pytest

from app import errors
from app.api.faults import dependency_failure


def _every_problem() -> list[type[errors.DomainError]]:
    found: list[type[errors.DomainError]] = []
    pending = list(errors.DomainError.__subclasses__())
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending += kind.__subclasses__()
    return found


@pytest.mark.parametrize("kind", _every_problem(), ids=lambda kind: kind.__name__)
def test_no_problem_title_names_the_product(kind: type[errors.DomainError]) -> None:
    assert "waymark" not in kind.title.lower()


def test_no_dependency_failure_names_the_product() -> None:
    for error in (ConnectionError("refused"), TimeoutError("slow"), OSError(28, "full")):
        failure = dependency_failure(error)
        assert failure is not None
        assert "waymark" not in f"{failure.title} {failure.detail}".lower()
