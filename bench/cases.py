"""The measurements, one function per row group of the table in docs/benchmarks.md. Each starts
its own server process(es), takes its baseline in the same run and adds rows to the results."""

import asyncio
import base64
import gzip
import hashlib
import io
import os
import random
import re
import socket
import struct
import threading
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image, ImageDraw

from app.export.verify import verify_pack
from bench import seed
from bench.results import Results, Row, count, median, mib, ms, percentile, size
from bench.server import HOST, MiB, PeakMemory, Server, Victim, cpu_seconds, scratch_folder

CHUNK = 8 * MiB
TUS = {"Tus-Resumable": "1.0.0"}
REPO = Path(__file__).resolve().parent.parent

# Wraps a measured block with a profiler attached to the server (see bench/profile.py).
Profiling = Callable[[str, int], AbstractContextManager[object]]


def no_profiling(_name: str, _pid: int) -> AbstractContextManager[object]:
    return nullcontext()


@dataclass(frozen=True)
class Sizes:
    uploads: tuple[int, ...]
    screenshots: int
    parallel_uploads: tuple[int, ...]
    pack_incidents: int
    pack_evidence: int
    pack_files: int
    timeline_items: tuple[int, ...]
    latency_requests: int
    search_requests: int
    load_seconds: float


QUICK = Sizes(
    uploads=(16 * MiB, 64 * MiB),
    screenshots=100,
    parallel_uploads=(1,),
    pack_incidents=200,
    pack_evidence=64 * MiB,
    pack_files=4,
    timeline_items=(10, 1_000, 10_000),
    latency_requests=60,
    search_requests=30,
    load_seconds=5,
)
FULL = Sizes(
    uploads=(64 * MiB, 256 * MiB, 1024 * MiB),
    screenshots=200,
    parallel_uploads=(1, 4),
    pack_incidents=2_000,
    pack_evidence=1024 * MiB,
    pack_files=16,
    timeline_items=(10, 1_000, 100_000),
    latency_requests=300,
    search_requests=100,
    load_seconds=15,
)


# --- file contents -------------------------------------------------------------------------


def video_chunks(total: int, seed_value: int) -> Iterator[bytes]:
    """`total` bytes of an MP4 (an ftyp box, then one mdat box of random bytes), in 8 MiB
    chunks. One random block is reused, so making the bytes costs nothing measurable."""
    block = random.Random(seed_value).randbytes(CHUNK)
    header = struct.pack(">I4s4sI8s", 24, b"ftyp", b"isom", 0x200, b"isommp41")
    header += struct.pack(">I4s", total - 24, b"mdat")
    sent = 0
    while sent < total:
        piece = block[: min(CHUNK, total - sent)]
        if sent == 0:
            piece = header + piece[len(header) :]
        yield piece
        sent += len(piece)


def sha256_of(chunks: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def screenshot_png(target_bytes: int = 200_000) -> bytes:
    """A phone screenshot (1080 x 2340): flat colours, lines of text and a photo in a message,
    its size tuned to about `target_bytes` as a PNG."""
    rng = random.Random(8)
    image = Image.new("RGB", (1080, 2340), (245, 245, 247))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1080, 180), fill=(40, 90, 160))
    for row in range(24):
        top = 220 + row * 84
        left = 40 if row % 2 else 380
        draw.rounded_rectangle((left, top, left + 660, top + 70), 24, fill=(225, 230, 240))
        words = " ".join(
            rng.choice(["where", "are", "you", "I", "saw", "your", "car"]) for _ in range(8)
        )
        draw.text((left + 24, top + 24), words, fill=(20, 20, 20))
    side = 120
    while True:
        photo = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        canvas = image.copy()
        canvas.paste(photo, (300, 1400))
        out = io.BytesIO()
        canvas.save(out, "PNG")
        if out.tell() >= target_bytes or side > 1000:
            return out.getvalue()
        side += 10


def png_variant(png: bytes, number: int) -> bytes:
    """The same picture with a tEXt chunk naming it, so every file's bytes differ."""
    body = b"Comment\x00" + f"screenshot {number}".encode()
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + body))
    end_of_header = 8 + 25  # signature, then the IHDR chunk
    return png[:end_of_header] + chunk + png[end_of_header:]


# --- clients -------------------------------------------------------------------------------


def tus_upload(
    client: httpx.Client, chunks: Iterator[bytes], total: int, filename: str, incident: str = ""
) -> uuid.UUID:
    metadata = "filename " + base64.b64encode(filename.encode()).decode()
    if incident:
        metadata += ",incident_ids " + base64.b64encode(incident.encode()).decode()
    created = client.post(
        "/api/v1/uploads",
        headers={**TUS, "Upload-Length": str(total), "Upload-Metadata": metadata},
    )
    created.raise_for_status()
    location = created.headers["Location"]
    offset = 0
    for chunk in chunks:
        response = client.patch(
            location,
            content=chunk,
            headers={
                **TUS,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        if response.status_code != 204:
            raise RuntimeError(f"PATCH answered {response.status_code}: {response.text[:300]}")
        offset = int(response.headers["Upload-Offset"])
    if offset != total:
        raise RuntimeError(f"the upload stopped at {offset} of {total}")
    return uuid.UUID(location.rsplit("/", 1)[1])


def write_with_fsync(path: Path, chunks: Iterator[bytes]) -> float:
    """The physical limit for receiving a file: the same bytes written and fsynced."""
    started = time.perf_counter()
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    elapsed = time.perf_counter() - started
    path.unlink()
    return elapsed


# --- tus uploads ---------------------------------------------------------------------------


def uploads(results: Results, sizes: Sizes, profile: Profiling) -> None:
    rss: list[float] = []
    for total in sizes.uploads:
        with Server("sqlite", "upload") as server, scratch_folder(server.data_dir, "disk") as disk:
            victim = server.register("Uploader")
            expected = sha256_of(video_chunks(total, total))
            baseline = min(
                write_with_fsync(disk / "baseline.bin", video_chunks(total, total))
                for _ in range(2)
            )
            # The first upload of a process imports what uploads need; that is not measured.
            tus_upload(victim.client, video_chunks(MiB, 0), MiB, "warm-up.mp4")
            runs = []
            cpu = cpu_seconds(server.pid)
            with PeakMemory(server.pid) as peak, profile(f"tus-{total // MiB}MiB", server.pid):
                for _ in range(2):
                    started = time.perf_counter()
                    evidence_id = tus_upload(
                        victim.client, video_chunks(total, total), total, "clip.mp4"
                    )
                    runs.append(time.perf_counter() - started)
            cpu = (cpu_seconds(server.pid) - cpu) / len(runs)
            elapsed = min(runs)
            kept = victim.client.get(f"/api/v1/evidence/{evidence_id}").json()
            if kept["sha256"] != expected or kept["size"] != total:
                raise RuntimeError("the uploaded file was not kept byte for byte")
        speed, limit = total / MiB / elapsed, total / MiB / baseline
        rss.append(peak.mib)
        results.point("uploads", "tus upload (MiB/s)", total / MiB, speed)
        results.point("uploads", "write + fsync (MiB/s)", total / MiB, limit)
        results.point("upload-rss", "server peak RSS (MiB)", total / MiB, peak.mib)
        ratio = speed / limit
        results.add(
            Row(
                section="Uploads",
                what=f"tus upload of {size(total)} (8 MiB PATCHes)",
                figure=(
                    f"{speed:,.0f} MiB/s ({elapsed:.2f} s; server CPU {cpu:.2f} s); "
                    f"server peak RSS {mib(peak.mib)}"
                ),
                baseline=f"{limit:,.0f} MiB/s (same bytes, write + fsync, {baseline:.2f} s)",
                ratio=f"{ratio:.2f}",
                target="≥ 0.6; RSS ≤ 150 MiB",
                met=ratio >= 0.6 and peak.mib <= 150,
                values={
                    "bytes": total,
                    "seconds": elapsed,
                    "mib_per_s": speed,
                    "baseline_seconds": baseline,
                    "baseline_mib_per_s": limit,
                    "ratio": ratio,
                    "peak_rss_mib": peak.mib,
                    "server_cpu_seconds": cpu,
                },
            )
        )
    spread = max(rss) - min(rss)
    results.add(
        Row(
            section="Uploads",
            what="tus upload: peak RSS across sizes",
            figure=" / ".join(
                f"{size(t)}: {mib(r)}" for t, r in zip(sizes.uploads, rss, strict=True)
            ),
            baseline="the smallest upload",
            ratio=f"{max(rss) / min(rss):.2f}",
            target="the same for every size (within 10 %)",
            met=spread <= 0.1 * min(rss),
            values={"spread_mib": spread},
        )
    )
    results.notes.append(
        f"Uploads: each size runs on a fresh server (SQLite, local blob store, hashing and "
        f"encryption on), after a 1 MiB warm-up upload; the better of two uploads and of two "
        f"baseline writes is shown. RSS is the server's {peak.method} (reset before the "
        "measured block) and covers both uploads."
    )


# --- multipart -----------------------------------------------------------------------------


def _post_files(server: Server, victim: Victim, files: list[bytes], parallel: int) -> float:
    """POST every file as multipart, `parallel` at a time; returns the seconds taken."""
    jobs = iter(enumerate(files))
    lock = threading.Lock()
    failures: list[str] = []

    def worker() -> None:
        with server.client() as client:
            client.cookies = victim.client.cookies
            while True:
                with lock:
                    job = next(jobs, None)
                if job is None:
                    return
                number, data = job
                response = client.post(
                    "/api/v1/evidence",
                    files={"file": (f"Screenshot_{number:04d}.png", data, "image/png")},
                    data={"sha256": hashlib.sha256(data).hexdigest()},
                )
                if response.status_code != 201:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"multipart uploads failed: {failures[:3]}")
    return elapsed


def multipart(results: Results, sizes: Sizes, profile: Profiling) -> None:
    png = screenshot_png()
    files = [png_variant(png, n) for n in range(sizes.screenshots)]
    for parallel in sizes.parallel_uploads:
        with Server("sqlite", "multipart") as server:
            victim = server.register("Screenshots")
            with PeakMemory(server.pid) as peak, profile(f"multipart-{parallel}", server.pid):
                elapsed = _post_files(server, victim, files, parallel)
        rate = len(files) / elapsed
        results.add(
            Row(
                section="Uploads",
                what=(
                    f"multipart upload of {len(files)} x {len(png) / 1000:.0f} KB screenshots "
                    f"(PNG 1080 x 2340), {parallel} at a time"
                ),
                figure=f"{rate:,.1f} files/s ({elapsed:.1f} s; server peak RSS {mib(peak.mib)})",
                values={"files": len(files), "seconds": elapsed, "files_per_s": rate},
            )
        )


# --- evidence pack -------------------------------------------------------------------------


class _Sink(io.RawIOBase):
    """Counts what is written and throws it away (the pack is read off the socket the same
    way)."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: "bytes | bytearray | memoryview") -> int:  # type: ignore[override]
        length = len(data)
        self.size += length
        return length


def store_only_zip(files: list[Path]) -> tuple[float, int]:
    """The baseline: the same plaintext files in a stored (uncompressed) zip, Python zipfile."""
    sink = _Sink()
    started = time.perf_counter()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for path in files:
            archive.write(path, f"evidence/{path.name}")
    return time.perf_counter() - started, sink.size


@dataclass
class Download:
    first_byte: float  # seconds from sending the request to the status line arriving
    seconds: float
    declared: int  # Content-Length
    received: int  # body bytes
    tail: bytes  # the body's last 64 KiB


def download(server: Server, path: str, cookies: httpx.Cookies) -> Download:
    """GET over a plain socket, reading 1 MiB at a time into one buffer. httpx (h11) reads
    64 KiB at a time and needs about 2.3 s for 1 GiB from a server that sends it from memory,
    as long as the baseline zip takes: the client would be what was measured."""
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{server.port}\r\nCookie: {cookie}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    buffer = bytearray(MiB)
    view = memoryview(buffer)
    with socket.create_connection((HOST, server.port)) as connection:
        started = time.perf_counter()
        connection.sendall(request)
        head = b""
        while b"\r\n\r\n" not in head:
            got = connection.recv_into(buffer)
            if not got:
                raise RuntimeError("the server closed the connection before answering")
            if not head:
                first_byte = time.perf_counter() - started
            head += bytes(view[:got])
        head, body_start = head.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        if " 200 " not in f"{status_line} ":
            raise RuntimeError(f"the pack request answered {status_line}")
        headers = dict(line.split(": ", 1) for line in header_lines)
        declared = int(next(v for k, v in headers.items() if k.lower() == "content-length"))
        received = len(body_start)
        tail = body_start[-65536:]
        while received < declared:
            got = connection.recv_into(buffer)
            if not got:
                break
            received += got
            if declared - received < 65536:  # only the end is kept, to find the zip's end
                tail = (tail + bytes(view[:got]))[-65536:]
        seconds = time.perf_counter() - started
    return Download(first_byte, seconds, declared, received, tail)


def pack(results: Results, sizes: Sizes, profile: Profiling) -> None:
    with Server("sqlite", "pack") as server, scratch_folder(server.data_dir, "plain") as plain:
        victim = server.register("Pack")
        incident_ids = seed.in_bulk(server.engine, victim.id, sizes.pack_incidents)
        each = sizes.pack_evidence // sizes.pack_files
        files = []
        for number in range(sizes.pack_files):
            path = plain / f"video-{number:02d}.mp4"
            with path.open("wb") as handle:
                for chunk in video_chunks(each, number):
                    handle.write(chunk)
            files.append(path)
            linked = str(incident_ids[number * len(incident_ids) // sizes.pack_files])
            tus_upload(victim.client, video_chunks(each, number), each, path.name, linked)
        baseline, zip_size = min(store_only_zip(files) for _ in range(2))
        url = "/api/v1/exports/pack"
        cpu = cpu_seconds(server.pid)
        with PeakMemory(server.pid) as peak, profile("pack", server.pid):
            fetched = download(server, url, victim.client.cookies)
        cpu = cpu_seconds(server.pid) - cpu
        first_byte, elapsed, received = fetched.first_byte, fetched.seconds, fetched.received
        if received != fetched.declared or b"PK\x05\x06" not in fetched.tail:
            raise RuntimeError("the pack was not a whole zip of its declared size")
        pack_file = plain / "pack.zip"
        with pack_file.open("wb") as handle, victim.client.stream("GET", url) as response:
            response.raise_for_status()
            for chunk in response.iter_raw():
                handle.write(chunk)
        saved = pack_file.stat().st_size
        report = verify_pack(pack_file)
        failed_checks = [message for ok, message in report.checks if not ok]
        verified = (
            "a second download passes `waymark verify-pack`"
            if report.ok
            else f"**a second download ({saved:,} bytes) fails verify-pack: "
            f"{'; '.join(failed_checks)}**"
        )
    ratio = baseline / elapsed
    results.add(
        Row(
            section="Evidence pack",
            what=(
                f"evidence pack: {count(sizes.pack_incidents)} incidents + "
                f"{size(sizes.pack_evidence)} of evidence ({sizes.pack_files} videos)"
            ),
            figure=(
                f"{elapsed:.2f} s ({received / MiB / elapsed:,.0f} MiB/s, "
                f"{received / MiB:,.0f} MiB; server CPU {cpu:.1f} s); first byte "
                f"{ms(first_byte)}; server peak RSS {mib(peak.mib)}; {verified}"
            ),
            baseline=(
                f"{baseline:.2f} s ({zip_size / MiB / baseline:,.0f} MiB/s): Python zipfile, "
                "stored, of the same plaintext files"
            ),
            ratio=f"{ratio:.2f}",
            target="≥ 0.5; first byte ≤ 1 s; RSS ≤ 200 MiB",
            met=ratio >= 0.5 and first_byte <= 1 and peak.mib <= 200 and report.ok,
            values={
                "seconds": elapsed,
                "bytes": received,
                "first_byte_seconds": first_byte,
                "peak_rss_mib": peak.mib,
                "server_cpu_seconds": cpu,
                "baseline_seconds": baseline,
                "baseline_bytes": zip_size,
                "ratio": ratio,
            },
        )
    )
    results.notes.append(
        "The pack is read off a plain socket 1 MiB at a time and thrown away (httpx alone "
        "needs about as long to read 1 GiB as the baseline takes); the baseline zip is written "
        "to a sink that throws it away too. First byte is the status line's arrival. A second "
        "download of the same pack (not timed) is checked with `waymark verify-pack`. "
        "The pack ratio is baseline time ÷ pack time."
    )


# --- timeline, search and requests per second ---------------------------------------------


def _timed_get(client: httpx.Client, url: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(url)
    return time.perf_counter() - started, response


def timeline(results: Results, sizes: Sizes, profile: Profiling, database: str) -> None:
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[database]
    with Server(database, f"timeline-{database}") as server:
        started = time.perf_counter()
        seed.check_shapes(server.engine, server.register("Shapes").id)
        victims: dict[int, Victim] = {}
        for items in sizes.timeline_items:
            victims[items] = server.register(f"Victim {items}")
            seed.in_bulk(server.engine, victims[items].id, items)
        results.timings[f"seed {database}"] = time.perf_counter() - started

        url = "/api/v1/timeline?limit=50"
        samples: dict[int, list[float]] = {items: [] for items in victims}
        for victim in victims.values():
            for _ in range(10):  # warm the connection pools and caches
                victim.client.get(url).raise_for_status()
        big = max(victims)
        with profile(f"timeline-{database}", server.pid):
            for _ in range(sizes.latency_requests):
                for items, victim in victims.items():
                    elapsed, response = _timed_get(victim.client, url)
                    response.raise_for_status()
                    if len(response.json()["items"]) != min(50, items):
                        raise RuntimeError("the timeline page had the wrong number of items")
                    samples[items].append(elapsed)
        base = min(victims)
        base_median, base_p99 = median(samples[base]), percentile(samples[base], 0.99)
        for items in sorted(victims):
            mid, p99 = median(samples[items]), percentile(samples[items], 0.99)
            results.point(f"timeline-{database}", "median (ms)", items, mid * 1000)
            results.point(f"timeline-{database}", "p99 (ms)", items, p99 * 1000)
            if items == base:
                continue
            ratio, ratio_p99 = mid / base_median, p99 / base_p99
            results.add(
                Row(
                    section="Timeline",
                    what=f"timeline page of 50, {count(items)} items, {label}",
                    figure=f"median {ms(mid)}, p99 {ms(p99)}",
                    baseline=f"median {ms(base_median)}, p99 {ms(base_p99)} ({base} items)",
                    ratio=f"{ratio:.2f} (p99 {ratio_p99:.2f})",
                    target="≤ 1.5",
                    met=ratio <= 1.5 and ratio_p99 <= 1.5,
                    values={
                        "items": items,
                        "median_s": mid,
                        "p99_s": p99,
                        "base_median_s": base_median,
                        "base_p99_s": base_p99,
                        "ratio": ratio,
                        "ratio_p99": ratio_p99,
                        "requests": len(samples[items]),
                    },
                )
            )
        mids = sorted(victims)[1:]
        if len(mids) >= 2:
            low, high = mids[0], mids[-1]
            growth = median(samples[high]) / median(samples[low])
            results.add(
                Row(
                    section="Timeline",
                    what=(
                        f"timeline page of 50, {count(high)} vs {count(low)} items "
                        f"(same page size), {label}"
                    ),
                    figure=f"median {ms(median(samples[high]))}",
                    baseline=f"median {ms(median(samples[low]))} ({count(low)} items)",
                    ratio=f"{growth:.2f}",
                    target="(informative: cost of the log's size alone)",
                    values={"ratio": growth},
                )
            )

        search(results, sizes, profile, server, victims[big], label)
        throughput(results, sizes, profile, server, victims[sorted(victims)[1]], label)


def search(
    results: Results, sizes: Sizes, profile: Profiling, server: Server, victim: Victim, label: str
) -> None:
    queries = {
        f"{seed.COMMON_WORD} (1 item in 4)": seed.COMMON_WORD,
        f"{seed.MEDIUM_WORD} (1 in 50)": seed.MEDIUM_WORD,
        f"{seed.RARE_WORD} (1 in 1,000)": seed.RARE_WORD,
        f"{seed.COMMON_WORD} {seed.MEDIUM_WORD} (two words)": (
            f"{seed.COMMON_WORD} {seed.MEDIUM_WORD}"
        ),
        f"{seed.ABSENT_WORD} (no match)": seed.ABSENT_WORD,
    }
    items = seed.count_items(server.engine, victim.id)
    samples: dict[str, list[float]] = {name: [] for name in queries}
    for words in queries.values():
        victim.client.get("/api/v1/timeline", params={"limit": 50, "q": words}).raise_for_status()
    with profile(f"search-{label.lower()}", server.pid):
        for _ in range(sizes.search_requests):
            for name, words in queries.items():
                started = time.perf_counter()
                response = victim.client.get("/api/v1/timeline", params={"limit": 50, "q": words})
                samples[name].append(time.perf_counter() - started)
                response.raise_for_status()
    medians = {name: median(values) for name, values in samples.items()}
    worst = max(medians.values())
    results.add(
        Row(
            section="Search",
            what=f"full-text search over {count(items)} items, {label}",
            figure="; ".join(f"{name}: {ms(value)}" for name, value in medians.items()),
            target="median ≤ 50 ms (each query)",
            met=worst <= 0.05,
            values={"worst_median_s": worst, **{f"median_s {k}": v for k, v in medians.items()}},
        )
    )


async def _load(
    port: int, path: str, cookie: str, clients: int, seconds: float, limit: int
) -> tuple[int, float, int]:
    """`clients` keep-alive connections, each sending GETs back to back for `seconds` (or
    until `limit` requests in all). A bare HTTP/1.1 client, so the load generator costs little
    of the machine's two cores."""
    request = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nCookie: {cookie}\r\n\r\n").encode()
    done = 0
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done, errors
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.perf_counter() < deadline and done < limit:
                writer.write(request)
                await writer.drain()
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                    elif name.lower() == "transfer-encoding":
                        raise RuntimeError("chunked responses are not expected here")
                await reader.readexactly(length)
                done += 1
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return done, time.perf_counter() - started, errors


def requests_per_second(server: Server, path: str, cookie: str, seconds: float) -> float:
    asyncio.run(_load(server.port, path, cookie, 16, 1, 10_000))  # warm up
    done, elapsed, errors = asyncio.run(_load(server.port, path, cookie, 16, seconds, 200_000))
    if errors:
        raise RuntimeError(f"{errors} of {done} requests to {path} failed")
    return done / elapsed


def throughput(
    results: Results, sizes: Sizes, profile: Profiling, server: Server, victim: Victim, label: str
) -> None:
    items = seed.count_items(server.engine, victim.id)
    health = requests_per_second(server, "/api/v1/health", "", sizes.load_seconds)
    with profile(f"throughput-{label.lower()}", server.pid):
        pages = requests_per_second(
            server, "/api/v1/timeline?limit=50", victim.cookie_header, sizes.load_seconds
        )
    ratio = pages / health
    results.add(
        Row(
            section="Requests per second",
            what=f"timeline page of 50 ({count(items)} items), 16 concurrent clients, {label}",
            figure=f"{pages:,.0f} req/s",
            baseline=f"{health:,.0f} req/s (GET /api/v1/health, same clients)",
            ratio=f"{ratio:.2f}",
            target="≥ 0.3",
            met=ratio >= 0.3,
            values={"req_per_s": pages, "baseline_req_per_s": health, "ratio": ratio},
        )
    )


# --- PWA -----------------------------------------------------------------------------------


def pwa(results: Results) -> None:
    dist = REPO / "frontend" / "dist"
    index = dist / "index.html"
    if not index.is_file():
        results.add(
            Row(
                section="PWA",
                what="PWA first load (gzipped JS + CSS)",
                figure="not measured: no build in frontend/dist (run `make frontend` first)",
                target="≤ 150 KB",
            )
        )
        return
    html = index.read_text()
    references = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
    references += re.findall(
        r'<link[^>]*rel="(?:stylesheet|modulepreload)"[^>]*href="([^"]+)"', html
    )
    references += re.findall(
        r'<link[^>]*href="([^"]+)"[^>]*rel="(?:stylesheet|modulepreload)"', html
    )
    paths = sorted({dist / ref.lstrip("/") for ref in references if not ref.startswith("http")})
    raw = sum(path.stat().st_size for path in paths)
    zipped = sum(len(gzip.compress(path.read_bytes(), compresslevel=9)) for path in paths)
    results.add(
        Row(
            section="PWA",
            what="PWA first load (gzipped JS + CSS)",
            figure=(
                f"{zipped / 1000:,.1f} KB gzipped ({raw / 1000:,.1f} KB raw) in "
                f"{len(paths)} files named by index.html (the build's own breakdown, "
                "service worker included, is in “PWA first load”)"
            ),
            target="≤ 150 KB",
            met=zipped <= 150_000,
            values={"gzipped_bytes": zipped, "raw_bytes": raw, "files": len(paths)},
        )
    )
