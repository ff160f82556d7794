"""What a run measured: rows for the report's tables, series for its charts."""

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    section: str
    what: str
    figure: str
    baseline: str = "—"
    ratio: str = "—"
    target: str = "reported"
    met: bool | None = None
    values: dict[str, float] = field(default_factory=dict)


@dataclass
class Results:
    variant: str
    rows: list[Row] = field(default_factory=list)
    # chart name -> series name -> [(x, y)]
    series: dict[str, dict[str, list[tuple[float, float]]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def point(self, chart: str, series: str, x: float, y: float) -> None:
        self.series.setdefault(chart, {}).setdefault(series, []).append((x, y))

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (p99 of 300 samples is the 297th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def mib(value: float) -> str:
    return f"{value:,.0f} MiB" if value >= 10 else f"{value:,.1f} MiB"


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def size(bytes_: int) -> str:
    if bytes_ >= 1024**3:
        return f"{bytes_ / 1024**3:g} GiB"
    return f"{bytes_ / 1024**2:g} MiB"


def count(value: int) -> str:
    return f"{value:,}"
