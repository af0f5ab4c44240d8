"""Summarises `disco-dock benchmark` CSVs (also partial ones from interrupted runs).

Usage: python3 scripts/summarise_bench.py report.csv [more.csv ...]
Prints per file: n ok, failures, top-1 / top-5 % RMSD < 2 A, median top-1 RMSD, PB-valid top-1 %,
RMSD < 2 A and PB-valid %, mean and median seconds per complex (the benchmark command's summary).
"""
import csv
import statistics
import sys


def summarise(path):
    rows = list(csv.DictReader(open(path)))
    ok = [r for r in rows if r["status"] == "ok"]
    n = len(ok)
    if n == 0:
        return f"{path}: no finished complexes ({len(rows)} rows)"
    top1 = [float(r["top1_rmsd"]) for r in ok]
    top5 = [float(r["top5_rmsd"]) for r in ok]
    valid = [r["top1_pb_valid"] == "true" for r in ok]
    secs = [float(r["seconds"]) for r in ok]
    pct = lambda k: 100.0 * k / n
    return (f"{path}: n {n} failed {len(rows) - n} | top-1 {pct(sum(x < 2 for x in top1)):.1f}% "
            f"top-5 {pct(sum(x < 2 for x in top5)):.1f}% median {statistics.median(top1):.2f} A | "
            f"PB-valid {pct(sum(valid)):.1f}% <2A&valid {pct(sum(x < 2 and v for x, v in zip(top1, valid))):.1f}% | "
            f"s/complex mean {statistics.mean(secs):.1f} median {statistics.median(secs):.1f}")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        print(summarise(p))
