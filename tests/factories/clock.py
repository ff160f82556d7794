"""Clocks the test moves by hand: one for the throttle (which takes any clock callable), and one
for the application's own UTC clock."""

import sys
from datetime import datetime

import pytest

from app.models import types


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FixedUtcNow:
    """The application's UTC clock (app.models.types.utcnow), standing still until the test
    moves it: everything written while it reads a moment gets exactly that moment, however many
    times a request asks the clock."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


def fix_utcnow(monkeypatch: pytest.MonkeyPatch, start: datetime) -> FixedUtcNow:
    """Put a FixedUtcNow in place of utcnow in every loaded app module that took it by name
    (`from app.models.types import utcnow`), and in app.models.types for modules loaded later.
    Model default factories keep the real clock; the services set every time a record shows."""
    clock = FixedUtcNow(start)
    original = types.utcnow
    for name, module in list(sys.modules.items()):
        if name.split(".", 1)[0] == "app" and getattr(module, "utcnow", None) is original:
            monkeypatch.setattr(module, "utcnow", clock)
    return clock
