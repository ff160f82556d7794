"""Run Waymark's benchmarks and write docs/benchmarks.md.

    .venv/bin/python -m bench.run            # quick variant (`make bench`)
    .venv/bin/python -m bench.run --full     # full sizes (`make bench FULL=1`)
    .venv/bin/python -m bench.run --only pack,timeline-sqlite --profile pack

Each case starts its own `waymark serve` process(es) on a free loopback port, with a fresh
data folder and, for PostgreSQL, a fresh database that is dropped afterwards.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench import cases, report
from bench.profile import Profiler
from bench.results import Results, Row
from bench.server import PG_ADMIN_URL, postgres_reachable

CASES = ("uploads", "multipart", "pack", "timeline-sqlite", "timeline-postgresql", "pwa")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--full", action="store_true", help="the full sizes")
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated cases ({', '.join(CASES)}); docs are not written then",
    )
    parser.add_argument(
        "--profile",
        default="",
        help="attach py-spy to the server in blocks whose name starts with these "
        "(comma-separated: tus, multipart, pack, timeline, search, throughput, or all)",
    )
    parser.add_argument("--profile-dir", type=Path, default=None)
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args()


def _print_row(row: Row) -> None:
    verdict = {True: "met", False: "MISSED", None: ""}[row.met]
    print(f"  {row.what}: {row.figure}", flush=True)
    if row.baseline != "—" or row.ratio != "—":
        print(f"      baseline {row.baseline}; ratio {row.ratio}; target {row.target} {verdict}")


def main() -> int:
    args = _arguments()
    chosen = [name for name in args.only.split(",") if name] or list(CASES)
    unknown = set(chosen) - set(CASES)
    if unknown:
        raise SystemExit(f"unknown cases: {', '.join(sorted(unknown))}")
    sizes = cases.FULL if args.full else cases.QUICK
    results = Results(variant="full" if args.full else "quick")
    profile_dir = (
        args.profile_dir or Path(tempfile.gettempdir()) / f"waymark-profiles-{os.getpid()}"
    )
    profiler = Profiler([p for p in args.profile.split(",") if p], profile_dir)
    extra: dict[str, str] = {}

    runs: dict[str, Callable[[], None]] = {
        "uploads": lambda: cases.uploads(results, sizes, profiler),
        "multipart": lambda: cases.multipart(results, sizes, profiler),
        "pack": lambda: cases.pack(results, sizes, profiler),
        "timeline-sqlite": lambda: cases.timeline(results, sizes, profiler, "sqlite"),
        "timeline-postgresql": lambda: cases.timeline(results, sizes, profiler, "postgresql"),
        "pwa": lambda: cases.pwa(results),
    }
    failed = False
    loads: dict[str, float] = {}
    load_at_start = os.getloadavg()[0]
    started_all = time.perf_counter()
    for name in chosen:
        if name == "timeline-postgresql":
            if not postgres_reachable():
                results.notes.append(f"PostgreSQL was not reachable at {PG_ADMIN_URL}: skipped.")
                print("timeline-postgresql: skipped (PostgreSQL not reachable)")
                continue
            with psycopg.connect(PG_ADMIN_URL) as connection:
                version = connection.execute("SHOW server_version").fetchone()
                extra["PostgreSQL"] = str(version[0]).split()[0] if version else "?"
        print(f"{name} …", flush=True)
        before = len(results.rows)
        started = time.perf_counter()
        try:
            runs[name]()
        except Exception as error:
            failed = True
            traceback.print_exc()
            results.add(
                Row(section="Failed", what=name, figure=f"failed: {type(error).__name__}: {error}")
            )
        results.timings[name] = time.perf_counter() - started
        loads[name] = os.getloadavg()[0]
        for row in results.rows[before:]:
            _print_row(row)
    results.timings["total"] = time.perf_counter() - started_all
    results.notes.append(
        "Other work on this machine during the run (1-minute load average on 2 cores): "
        f"{load_at_start:.1f} at the start, then "
        + ", ".join(f"{value:.1f} after {name}" for name, value in loads.items())
        + ". Above about 1 the figures are lower and noisier than on an idle machine."
    )

    for name, summary in profiler.summaries.items():
        print(f"\nprofile of {name} ({summary}):\n")
        print("\n".join(summary.read_text().splitlines()[:32]))
    if args.only or args.no_write:
        print("\n(docs/benchmarks.md not written: a partial run)")
    else:
        written = report.write(results, extra)
        raw = report.CHARTS / f"results-{results.variant}.json"
        raw.write_text(json.dumps(results.as_json(), indent=1, default=str) + "\n")
        print(f"\nwrote {written.relative_to(report.REPO)} and {raw.relative_to(report.REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
