"""docs/benchmarks.md and its charts.

The file is shared: each variant (quick, full) rewrites only its own block between markers,
and everything outside the markers (the PWA section, written findings) is kept as it is.
"""

import os
import platform
import re
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.results import Results

REPO = Path(__file__).resolve().parent.parent
DOCUMENT = REPO / "docs" / "benchmarks.md"
CHARTS = REPO / "docs" / "benchmarks"

TITLE = "# Benchmarks"
INTRO = """\
`make bench` measures Waymark against real server processes (`waymark serve`) over loopback,
each figure beside a baseline taken in the same run on the same machine: writing the same
bytes to the same disk with fsync, a stored zip of the same plaintext files, the same request
for a victim with 10 items, and a trivial endpoint of the same app (`GET /api/v1/health`).
`make bench` is a quick variant with smaller sizes (a few minutes); `make bench FULL=1` uses the
full sizes (uploads up to 1 GiB, logs of 100,000 items, a pack of 2,000 incidents and 1 GiB of
evidence). The runner is `bench/run.py`; each run rewrites only its own section below
(between the `bench:` markers), so other sections of this file are kept. Timings are wall
clock from the client; the client runs on the same machine and shares its cores. To see where a
server spends its time, `.venv/bin/python -m bench.run --only pack --profile pack` (add `--full`
for the full sizes) attaches py-spy to the server during that block and prints the hottest
functions."""


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def replace_block(document: str, name: str, body: str, after: str | None = None) -> str:
    """Put `body` between the named markers. A missing block goes after the block named
    `after` (or first in the file). Text outside the markers is left alone."""
    start, end = _markers(name)
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(document):
        return pattern.sub(lambda _match: block, document, count=1)
    anchor = _markers(after)[1] if after else None
    if anchor and anchor in document:
        at = document.index(anchor) + len(anchor)
        return document[:at] + "\n\n" + block + document[at:]
    return f"{block}\n\n{document.lstrip()}" if document.strip() else block + "\n"


def machine() -> str:
    memory = "?"
    model = platform.processor() or "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return (
        f"{os.cpu_count()} cores ({model}), {memory} memory, disk: {disk()}, "
        f"Linux {platform.release()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def disk() -> str:
    """The device and file system holding the temporary folders the servers use."""
    try:
        out = subprocess.run(
            ["df", "-h", "--output=source,fstype,size", tempfile.gettempdir()],
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]
        source, fstype, total = out.split()
        device = Path(source).name
        rotational = Path(f"/sys/block/{device}/queue/rotational")
        kind = ""
        if rotational.exists():
            kind = (
                ", rotational per the kernel"
                if rotational.read_text().strip() == "1"
                else ", solid state"
            )
        return f"{source} ({fstype}, {total}{kind})"
    except (OSError, ValueError, IndexError):
        return "unknown"


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" with uncommitted changes" if git("status", "--porcelain") else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _verdict(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "—"}[met]


def section(results: Results, extra: dict[str, str], charts: list[Path]) -> str:
    full = results.variant == "full"
    heading = "## Full sizes (`make bench FULL=1`)" if full else "## Quick run (`make bench`)"
    lines = [
        heading,
        "",
        f"Run finished {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {commit()}, on {machine()}"
        + "".join(f", {key} {value}" for key, value in extra.items())
        + ".",
        "",
        "| what | measured | baseline (same run) | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in results.rows:
        lines.append(
            "| "
            + " | ".join(
                _cell(v)
                for v in (
                    row.what,
                    row.figure,
                    row.baseline,
                    row.ratio,
                    row.target,
                    _verdict(row.met),
                )
            )
            + " |"
        )
    missed = [row.what for row in results.rows if row.met is False]
    lines.append("")
    if missed:
        lines.append("Missed: " + "; ".join(missed) + ".")
    else:
        lines.append("Every target with a verdict above is met.")
    for chart in charts:
        title = chart.stem.replace("-", " ")
        lines += ["", f"![{title}](benchmarks/{chart.name})"]
    if results.notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in dict.fromkeys(results.notes)]
    if results.timings:
        lines += [
            "",
            "Time taken: "
            + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in results.timings.items())
            + ".",
        ]
    return "\n".join(lines)


def write(results: Results, extra: dict[str, str]) -> Path:
    CHARTS.mkdir(parents=True, exist_ok=True)
    charts = [chart for chart in (timeline_chart(results), upload_chart(results)) if chart]
    document = DOCUMENT.read_text() if DOCUMENT.exists() else ""
    if _markers("intro")[0] not in document:
        # Begun by someone else (their own sections): our intro brings the title, at the top.
        document = re.sub(r"^# Benchmarks[ \t]*\n", "", document, count=1, flags=re.MULTILINE)
    document = replace_block(document, "intro", f"{TITLE}\n\n{INTRO}")
    document = replace_block(document, "full", _placeholder("full"), after="intro")
    document = replace_block(document, "quick", _placeholder("quick"), after="full")
    document = replace_block(document, results.variant, section(results, extra, charts))
    DOCUMENT.write_text(document.rstrip() + "\n")
    return DOCUMENT


def _placeholder(variant: str) -> str:
    """Keeps a block that exists; the text below is only used when the block is new."""
    start, end = _markers(variant)
    if DOCUMENT.exists():
        found = re.search(
            re.escape(start) + r"\n(.*?)\n" + re.escape(end), DOCUMENT.read_text(), re.DOTALL
        )
        if found:
            return found.group(1)
    command = "make bench FULL=1" if variant == "full" else "make bench"
    title = "Full sizes" if variant == "full" else "Quick run"
    return f"## {title} (`{command}`)\n\nNot run yet."


def timeline_chart(results: Results) -> Path | None:
    panels = [
        (name, label)
        for name, label in (("timeline-sqlite", "SQLite"), ("timeline-postgresql", "PostgreSQL"))
        if name in results.series
    ]
    if not panels:
        return None
    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for axis, (name, label) in zip(axes[0], panels, strict=True):
        for series, points in results.series[name].items():
            xs, ys = zip(*sorted(points), strict=True)
            axis.plot(xs, ys, marker="o", label=series)
        base = min(results.series[name]["median (ms)"])
        axis.axhline(
            1.5 * base[1], color="grey", linestyle="--", label="target: 1.5 x median at 10 items"
        )
        axis.set_xscale("log")
        axis.set_ylim(bottom=0)
        axis.set_xlabel("items in the victim's log")
        axis.set_ylabel("latency of a page of 50 (ms)")
        axis.set_title(f"Timeline, {label}")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    path = CHARTS / f"timeline-{results.variant}.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def upload_chart(results: Results) -> Path | None:
    if "uploads" not in results.series:
        return None
    figure, (speed, memory) = plt.subplots(1, 2, figsize=(11, 4))
    for series, points in results.series["uploads"].items():
        xs, ys = zip(*sorted(points), strict=True)
        speed.plot(xs, ys, marker="o", label=series)
        if series.startswith("write"):
            speed.plot(
                xs,
                [0.6 * y for y in ys],
                color="grey",
                linestyle="--",
                label="target: 0.6 x write + fsync",
            )
    sizes = sorted({x for points in results.series["uploads"].values() for x, _ in points})
    for axis in (speed, memory):
        axis.set_xscale("log", base=2)
        axis.set_xticks(sizes, [f"{x:g}" for x in sizes])
        axis.minorticks_off()
    speed.set_xlabel("file size (MiB)")
    speed.set_ylabel("MiB/s")
    speed.set_ylim(bottom=0)
    speed.set_title("tus upload throughput")
    speed.grid(True, alpha=0.3)
    speed.legend(fontsize=8)
    for series, points in results.series.get("upload-rss", {}).items():
        xs, ys = zip(*sorted(points), strict=True)
        memory.plot(xs, ys, marker="o", label=series)
    memory.axhline(150, color="grey", linestyle="--", label="target: 150 MiB")
    memory.set_xlabel("file size (MiB)")
    memory.set_ylabel("MiB")
    peaks = [y for points in results.series.get("upload-rss", {}).values() for _, y in points]
    memory.set_ylim(0, max([200.0, *peaks]) * 1.2)
    memory.set_title("server peak RSS during the upload")
    memory.grid(True, alpha=0.3)
    memory.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    path = CHARTS / f"uploads-{results.variant}.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
