"""How fast and in how much memory `bulkpo.validate_file` checks a large CSV, vs a raw csv.reader.

Run: python benchmarks/bench_validate_csv.py [--lines N] [--repeat K]
     (default 1,000,000 lines = 250,000 POs of 4 lines, 15 columns; best of 1)

Each side runs in a fresh interpreter that does only that: the raw side reads the file
with csv.reader row by row and keeps nothing; the bulkpo side calls the public
``bulkpo.validate_file`` and keeps its result (as a caller does). Each child reports
the seconds of its work (imports excluded) and its peak RSS, read from VmHWM, which
starts afresh at exec (ru_maxrss would carry the parent's peak over into the child).
Prints both with their ratios against the issue's goals: within 4x the raw pass and
under 1 GB. Not a test; the figures go into reviews.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADERS = ["PO Number", "Status", "Seller", "Seller Country", "Incoterm", "Transportation Mode",
           "Cargo Ready Date", "Must Arrive Date", "Origin Port", "Destination Port",
           "Line Number", "SKU", "Quantity", "Unit Cost", "Currency"]
LINES_PER_PO = 4
TIME_GOAL = 4.0
MEMORY_GOAL_MB = 1000.0


def write_csv(path: Path, lines: int) -> None:
    # CNNGB is Ningbo's airport, not its seaport: every 4th PO gets a warning, so the run
    # also pays for issues, not only for clean rows.
    ports = ["CNYTN", "CNSHG", "VNSGN", "CNNGB"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADERS)
        for i in range(lines):
            po = i // LINES_PER_PO
            day = po % 60
            out.writerow([
                f"PO-{po:07d}", "open", f"Supplier {po % 300}", "CN", "FOB", "ocean",
                f"2026-03-{day % 28 + 1:02d}", f"2026-05-{day % 28 + 1:02d}",
                ports[po % 4], "USLAX", i % LINES_PER_PO + 1, f"{i % 5000:06d}",
                100 + i % 900, f"{1 + (i % 1000) / 100:.2f}", "USD",
            ])


# What each child runs: its work, timed, then its peak RSS. ``kept`` holds the result
# until the peak is read, as a caller keeps it.
_CHILD = """
import json, re, sys, time
from pathlib import Path
path = Path(sys.argv[1])
if sys.argv[2] == "raw":
    import csv
    def work():
        n = 0
        with path.open(newline="", encoding="utf-8") as fh:
            for _row in csv.reader(fh):
                n += 1
        return n
    summary = lambda kept: {"rows": kept}
else:
    import bulkpo
    def work():
        return bulkpo.validate_file(path)
    def summary(kept):
        sheet = kept.purchase_orders
        return {"rows": len(sheet.results), "valid_pos": len(sheet.validation.purchase_orders),
                "issues": len(sheet.validation.issues), "line": kept.summary.line()}
start = time.perf_counter()
kept = work()
took = time.perf_counter() - start
peak = int(re.search(r"VmHWM:\\s*(\\d+)", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"seconds": took, "peak_mb": peak / 1024, **summary(kept)}))
"""


def run_child(path: Path, side: str) -> dict[str, float | int | str]:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), side],
                         check=True, capture_output=True, text=True).stdout
    result: dict[str, float | int | str] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="best of how many runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pos.csv"
        start = time.perf_counter()
        write_csv(path, args.lines)
        print(f"wrote {args.lines:,} lines ({args.lines // LINES_PER_PO:,} POs) x "
              f"{len(HEADERS)} columns ({path.stat().st_size / 1e6:.1f} MB) in "
              f"{time.perf_counter() - start:.1f} s")
        raws: list[dict[str, float | int | str]] = []
        checks: list[dict[str, float | int | str]] = []
        for _ in range(args.repeat):  # alternating, so a noisy machine hits both alike
            raws.append(run_child(path, "raw"))
            checks.append(run_child(path, "bulkpo"))
    raw = min(raws, key=lambda r: float(r["seconds"]))
    check = min(checks, key=lambda r: float(r["seconds"]))
    raw_s, check_s = float(raw["seconds"]), float(check["seconds"])
    raw_mb = max(float(r["peak_mb"]) for r in raws)
    check_mb = max(float(r["peak_mb"]) for r in checks)

    def show(label: str, value: str) -> None:
        print(f"{label:<48} {value}")

    def spread(runs: list[dict[str, float | int | str]]) -> str:
        return ", ".join(f"{float(r['seconds']):.2f}" for r in runs)

    show(f"raw csv.reader pass (best of {args.repeat})", f"{raw_s:7.2f} s  [{spread(raws)}]")
    show(f"bulkpo.validate_file (best of {args.repeat})", f"{check_s:7.2f} s  [{spread(checks)}]")
    show("ratio validate / raw", f"{check_s / raw_s:7.2f}x  (target <= {TIME_GOAL:.1f}x)")
    show("peak RSS: raw csv.reader process", f"{raw_mb:7.1f} MB")
    show("peak RSS: bulkpo.validate_file process",
         f"{check_mb:7.1f} MB  (target < {MEMORY_GOAL_MB:,.0f} MB)")
    show("ratio memory validate / raw", f"{check_mb / raw_mb:7.1f}x")
    show("rows / valid POs / issues",
         f"{check['rows']:,} / {check['valid_pos']:,} / {check['issues']:,}")
    show("summary", str(check["line"]))


if __name__ == "__main__":
    main()
