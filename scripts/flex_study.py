#!/usr/bin/env python3
"""Top-1 under the docking rule after flexible refinement (examples/flex_rescore.rs).

Joins flex_rescore's CSV (id, rank, factor, rmsd, energy, strain, ...) with the benchmark's
--poses-out CSV (confidence, pair potential, PB-valid per pose) and, for each stiffness factor,
ranks each complex's poses by  E - c * logit(confidence) + w * potential  (PB-valid first), with
E the refined Vina-like energy, with and without the strain, as `disco-dock` ranks by default
(c and w from the shipped sampling.json, scripts/ranking.py). Prints top-1 (% RMSD < 2 Å), the share with a right pose among them, and
the median move of right poses.

Usage: scripts/flex_study.py FLEX.csv POSES.csv
"""
import csv
import statistics
import sys
from collections import defaultdict

from ranking import rule_key, shipped_weights


def main(flex_path, poses_path):
    bench = {(r['id'], int(r['rank'])): r for r in csv.DictReader(open(poses_path))}
    by = defaultdict(lambda: defaultdict(list))
    for r in csv.DictReader(open(flex_path)):
        if (r['id'], int(r['rank'])) in bench:
            by[float(r['factor'])][r['id']].append(r)
    c, w = shipped_weights()
    for factor in sorted(by):
        complexes = by[factor]

        def top1(c, w, strain):
            hits = 0
            for i, rows in complexes.items():
                def key(r):
                    e = float(r['energy']) + (float(r['strain']) if strain else 0.0)
                    return rule_key(bench[(i, int(r['rank']))], energy=e, c=c, w=w)
                hits += float(min(rows, key=key)['rmsd']) < 2
            return 100 * hits / len(complexes)

        oracle = 100 * sum(any(float(r['rmsd']) < 2 for r in rows) for rows in complexes.values()) / len(complexes)
        moved = statistics.median(float(r['moved']) for rows in complexes.values() for r in rows)
        print(f"factor {factor:5}: {len(complexes)} complexes, right among them {oracle:.1f} %, median move {moved:.2f} Å; "
              f"top-1 rule {top1(c, w, False):.1f} % (+strain {top1(c, w, True):.1f}), "
              f"energy alone {top1(0, 0, False):.1f} % (+strain {top1(0, 0, True):.1f})")


if __name__ == '__main__':
    main(*sys.argv[1:3])
