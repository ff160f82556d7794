"""Waymark: an incident log for people being stalked and the advocates who support them."""

__version__ = "0.1.0"
