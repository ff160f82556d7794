"""py-spy attached to the server while one benchmark runs (`bench/run.py --profile NAME`):
the raw stacks, and a summary of the hottest functions by share of samples."""

import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

# "function (path/to/file.py:123)" -> "function (file.py)"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


# Frames in our own code are named from the repository's root, wherever it is checked out.
_REPOSITORY = str(Path(__file__).resolve().parent.parent) + "/"


def _frame_name(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match["path"]
    for marker in ("site-packages/", _REPOSITORY, "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['function']} ({path})"


# Leaves where a thread waits rather than works: an idle event loop (in epoll, under
# Runner.run), idle pool threads and a worker waiting for the loop (Condition.wait).
_WAITING = ("Runner.run (asyncio/runners.py)", "Condition.wait (threading.py)")


def summarise(raw: Path, top: int = 25) -> str:
    """Self and total shares of the working samples per function, from py-spy's collapsed
    stacks; the waiting samples are counted apart, and the app's own functions listed again."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    waiting: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        frames = [
            _frame_name(frame)
            for frame in stack.split(";")
            if not frame.startswith(("process ", "thread "))
        ]
        if not frames:
            continue
        weight = int(number)
        if frames[-1] in _WAITING:
            waiting[frames[-2] if len(frames) > 1 else frames[-1]] += weight
            continue
        samples += weight
        own[frames[-1]] += weight
        for name in set(frames):
            total[name] += weight
    idle = sum(waiting.values())
    if samples == 0:
        return "no working samples (the server was idle?)\n"
    lines = [
        f"{samples} working samples; {idle} more waiting, by caller: "
        + ", ".join(f"{name} {n}" for name, n in waiting.most_common(4)),
        "",
        "self %  function (where the working time is spent)",
    ]
    lines += [f"{100 * n / samples:6.1f}  {name}" for name, n in own.most_common(top)]
    lines += ["", "total % the app's functions (time in them and below)"]
    lines += [
        f"{100 * n / samples:6.1f}  {name}" for name, n in total.most_common() if "(app/" in name
    ][:top]
    lines += ["", "total % every function"]
    lines += [f"{100 * n / samples:6.1f}  {name}" for name, n in total.most_common(top * 2)]
    return "\n".join(lines) + "\n"


class Profiler:
    """Attach py-spy to the server for the blocks whose name starts with one of `wanted`."""

    def __init__(self, wanted: list[str], folder: Path) -> None:
        self.wanted = wanted
        self.folder = folder
        self.summaries: dict[str, Path] = {}
        self.command = py_spy()
        if wanted and self.command is None:
            raise SystemExit("--profile needs py-spy (pip install py-spy, or `make` the dev extra)")

    @contextlib.contextmanager
    def __call__(self, name: str, pid: int) -> Iterator[object]:
        if not any(name.startswith(prefix) or prefix == "all" for prefix in self.wanted):
            yield None
            return
        assert self.command is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        raw = self.folder / f"{name}.txt"
        recorder = subprocess.Popen(
            [
                self.command,
                "record",
                "--pid",
                str(pid),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(raw),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield recorder
        finally:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(timeout=60)
        if raw.exists():
            summary = self.folder / f"{name}-summary.txt"
            summary.write_text(summarise(raw))
            self.summaries[name] = summary
