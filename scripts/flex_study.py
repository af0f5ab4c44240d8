#!/usr/bin/env python3
"""Top-1 under the docking rule after flexible refinement (examples/flex_rescore.rs).

Joins flex_rescore's CSV (id, rank, factor, rmsd, energy, strain, ...) with the benchmark's
--poses-out CSV (confidence, pair potential, PB-valid per pose) and, for each stiffness factor,
ranks each complex's poses by  E - c * logit(confidence) + w * potential  (PB-valid first), with
E the refined Vina-like energy, with and without the strain, as `disco-dock` ranks by default
(c = 2, w = 2.5). Prints top-1 (% RMSD < 2 Å), the share with a right pose among them, and
the median move of right poses.

Usage: scripts/flex_study.py FLEX.csv POSES.csv
"""
import csv
import math
import statistics
import sys
from collections import defaultdict


def logit(p):
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def main(flex_path, poses_path):
    bench = {(r['id'], int(r['rank'])): r for r in csv.DictReader(open(poses_path))}
    by = defaultdict(lambda: defaultdict(list))
    for r in csv.DictReader(open(flex_path)):
        if (r['id'], int(r['rank'])) in bench:
            by[float(r['factor'])][r['id']].append(r)
    for factor in sorted(by):
        complexes = by[factor]

        def top1(c, w, strain):
            hits = 0
            for i, rows in complexes.items():
                def key(r):
                    b = bench[(i, int(r['rank']))]
                    e = float(r['energy']) + (float(r['strain']) if strain else 0.0)
                    return (b['pb_valid'] != 'true', e - c * logit(float(b['confidence'])) + w * float(b['potential']))
                hits += float(min(rows, key=key)['rmsd']) < 2
            return 100 * hits / len(complexes)

        oracle = 100 * sum(any(float(r['rmsd']) < 2 for r in rows) for rows in complexes.values()) / len(complexes)
        moved = statistics.median(float(r['moved']) for rows in complexes.values() for r in rows)
        print(f"factor {factor:5}: {len(complexes)} complexes, right among them {oracle:.1f} %, median move {moved:.2f} Å; "
              f"top-1 rule {top1(2, 2.5, False):.1f} % (+strain {top1(2, 2.5, True):.1f}), "
              f"energy alone {top1(0, 0, False):.1f} % (+strain {top1(0, 0, True):.1f})")


if __name__ == '__main__':
    main(*sys.argv[1:3])
