"""A migration simulated at scale: import N lines into a sandbox, kill it at 60 %, resume.

Not a test: prints figures measured in one run, through the ``bulkpo`` command as a
user runs it, against a sandbox in its own process with a high rate limit (so that
the machine, not the limit, sets the pace; the README turns the measured requests per
PO into hours at Flexport's rate). The sandbox counts the requests it answers.

1. The first run is killed (SIGKILL) once 60 % of the POs exist in the sandbox.
2. ``--resume`` finishes it: its time, requests and memory peak.
3. ``--resume`` again, with everything settled: the report regenerated from the
   journal alone (requests: none).
4. The same file imported again (a re-run, what a repeated migration step costs).

The baseline for the resume is the uninterrupted rate of the first run: a resume
should take about 40 % of the whole plus the file's reading and validation.

    python benchmarks/bench_migration.py                 # 1,000,000 lines, 250,000 POs
    python benchmarks/bench_migration.py --lines 100000
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from benchmarks.sandbox_process import KEY, request_counts, sandbox_process
from bulkpo.columns import PURCHASE_ORDER_COLUMNS

LINES_PER_PO = 4
KILL_AT = 0.6
KEYS = (
    "po_number", "status", "buyer_name", "buyer_ref", "buyer_country", "seller_name",
    "seller_country", "incoterm", "transportation_mode", "cargo_ready_date",
    "must_arrive_date", "origin_port", "destination_port", "line_number", "sku",
    "product_name", "quantity", "unit_of_measure", "unit_cost", "currency", "hs_code",
)  # fmt: skip


def write_csv(path: Path, pos: int) -> None:
    """``pos`` POs of 4 lines, the columns a procurement export carries."""
    ready = dt.date(2026, 12, 1)
    arrive = dt.date(2027, 2, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([PURCHASE_ORDER_COLUMNS.by_key(key).header for key in KEYS])
        for po in range(1, pos + 1):
            shift = dt.timedelta(days=po % 60)
            for line in range(1, LINES_PER_PO + 1):
                writer.writerow([
                    f"PO-{po:06d}", "open", "Acme Imports Inc", "acme-us", "US",
                    f"Supplier {po % 40}", "CN", "FOB", "ocean", (ready + shift).isoformat(),
                    (arrive + shift).isoformat(), "CNYTN", "USLAX", line, f"{po:06d}-{line}",
                    f"Desk lamp model {line}", 100 * line, "PCS", "12.50", "USD", "9405.20",
                ])  # fmt: skip


class Sandbox:
    """The sandbox's own counts, minus the requests this benchmark sends to watch it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.polls = 0

    def pos(self) -> int:
        self.polls += 1
        answer = httpx.get(
            self.base_url + "/purchase_orders", params={"per": 1},
            headers={"Authorization": f"Bearer {KEY}", "Flexport-Version": "2"}, timeout=30,
        )  # fmt: skip
        answer.raise_for_status()
        return int(answer.json()["data"]["total_count"])

    def requests(self) -> Counter[str]:
        counts = Counter(request_counts(self.base_url))
        counts["GET /purchase_orders"] -= self.polls
        return +counts


class Run:
    """One ``bulkpo import`` process: its time, memory peak and exit code."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.started = time.perf_counter()
        self.log = cwd / f"run-{time.monotonic_ns()}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bulkpo.cli", *args], env=env, cwd=cwd,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.elapsed = 0.0
        self.peak_mb = 0.0
        self.cpu = 0.0
        self.code: int | None = None

    def poll(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)

    def wait(self) -> Run:
        # wait4 gives this child's own peak RSS, whatever else ran before it.
        _pid, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.code = self.process.returncode
        self.elapsed = time.perf_counter() - self.started
        self.peak_mb = usage.ru_maxrss / 1024
        self.cpu = usage.ru_utime + usage.ru_stime
        return self

    def tail(self) -> str:
        return self.log.read_text(errors="replace").strip().splitlines()[-3:].__str__()


def disk_mb(journal: Path) -> float:
    parts = [journal, Path(f"{journal}-wal"), Path(f"{journal}-shm")]
    return sum(p.stat().st_size for p in parts if p.exists()) / 1e6


def per_po(counts: Counter[str], pos: int) -> str:
    total = sum(counts.values())
    shown = ", ".join(f"{route} {n / pos:.2f}" for route, n in counts.most_common())
    return f"{total} requests = {total / pos:.2f} per PO ({shown})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines, 4 per PO")
    parser.add_argument("--rate", type=float, default=2000.0,
                        help="the sandbox's rate limit and bulkpo's --rate (requests/s)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-rerun", action="store_true", help="skip step 4")
    args = parser.parse_args()
    pos = args.lines // LINES_PER_PO
    print(f"load: {os.getloadavg()[0]:.1f} (1-min load average on {os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="bench-migration-") as tmp_dir:
        tmp = Path(tmp_dir)
        data = tmp / "migration.csv"
        started = time.perf_counter()
        write_csv(data, pos)
        print(f"file: {pos * LINES_PER_PO:,} lines, {pos:,} POs, "
              f"{data.stat().st_size / 1e6:.0f} MB csv, written in "
              f"{time.perf_counter() - started:.0f}s")  # fmt: skip
        journal = tmp / "journal.sqlite"
        with sandbox_process(tmp / "sandbox.sqlite", rate_limit=args.rate, counted=True) as url:
            sandbox = Sandbox(url)
            env = {**os.environ, "FLEXPORT_API_KEY": KEY, "FLEXPORT_BASE_URL": url}
            common = ["import", str(data), "--yes", "--journal", str(journal),
                      "--rate", str(args.rate), "--concurrency", str(args.concurrency)]

            first = Run(common, env, tmp)
            while first.poll() and sandbox.pos() < KILL_AT * pos:
                time.sleep(0.5)
            if not first.poll():
                sys.exit(f"the first run ended before {KILL_AT:.0%}: {first.tail()}")
            first.kill()
            first.wait()
            at_kill = sandbox.pos()
            before = sandbox.requests()
            print(f"1. first run killed (SIGKILL) after {first.elapsed:.0f}s at "
                  f"{at_kill / pos:.1%} ({at_kill:,} POs): {per_po(before, at_kill)}; "
                  f"peak RSS {first.peak_mb:.0f} MB, {first.cpu:.0f} CPU-s")  # fmt: skip

            report = tmp / "report.csv"
            resumed = Run([*common, "--resume", "--report", str(report)], env, tmp).wait()
            after = sandbox.requests()
            resume_counts = after - before
            created = sandbox.pos()
            print(f"2. --resume: {resumed.elapsed:.0f}s (exit {resumed.code}), "
                  f"{per_po(resume_counts, pos - at_kill)} of the rest; "
                  f"peak RSS {resumed.peak_mb:.0f} MB, {resumed.cpu:.0f} CPU-s")  # fmt: skip
            print(f"   sandbox holds {created:,} POs for {pos:,} in the file "
                  f"({'none twice' if created == pos else 'MISMATCH'})")  # fmt: skip
            whole = sum(after.values())
            rate = whole / (first.elapsed + resumed.elapsed)
            cpu = first.cpu + resumed.cpu
            print(f"   whole migration: {per_po(after, pos)}; "
                  f"{rate:.0f} requests/s achieved here; bulkpo's own CPU "
                  f"{cpu * 1000 / whole:.1f} ms per request (one core would keep up with "
                  f"{whole / cpu:.0f} requests/s)")  # fmt: skip
            print(f"   baseline: the first run's pace would send the remaining "
                  f"{1 - at_kill / pos:.0%} in {first.elapsed * (pos - at_kill) / at_kill:.0f}s")
            print(f"   journal on disk: {disk_mb(journal):.0f} MB "
                  f"({disk_mb(journal) * 1e6 / pos:.0f} bytes per PO)")  # fmt: skip

            again = tmp / "report-again.csv"
            regen = Run([*common, "--resume", "--report", str(again)], env, tmp).wait()
            regen_counts = sandbox.requests() - after
            same = again.read_bytes() == report.read_bytes() if again.exists() else False
            print(f"3. report regenerated from the journal: {regen.elapsed:.0f}s "
                  f"(exit {regen.code}), {sum(regen_counts.values())} requests, "
                  f"peak RSS {regen.peak_mb:.0f} MB, {regen.cpu:.0f} CPU-s, "
                  f"{'the same bytes as' if same else 'DIFFERENT from'} the first report")

            if not args.no_rerun:
                mark = sandbox.requests()
                rerun = Run([*common, "--report", str(tmp / "rerun.csv")], env, tmp).wait()
                rerun_counts = sandbox.requests() - mark
                print(f"4. re-run of the same file (journal kept): {rerun.elapsed:.0f}s "
                      f"(exit {rerun.code}), {per_po(rerun_counts, pos)}; "
                      f"peak RSS {rerun.peak_mb:.0f} MB, {rerun.cpu:.0f} CPU-s")  # fmt: skip
    print(f"load: {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
