#!/usr/bin/env python3
"""Top-1 under the shipped docking rule over the poses of several docking runs pooled per complex.

Each argument is a `disco-dock benchmark --poses-out` CSV (e.g. the same split docked with
different --seed, i.e. different RDKit conformers). For each run alone and for all of them
pooled, prints the share of complexes whose first pose by the shipped rule (scripts/ranking.py)
lies within 2 Å, and the share with a right pose among them: does
docking several conformers and ranking them together beat one run?

Usage: scripts/pool_study.py RUN1_poses.csv RUN2_poses.csv [...]
"""
import csv
import sys
from collections import defaultdict

from ranking import rule_key


def report(name, runs):
    ids = set.intersection(*(set(run) for run in runs))
    pooled = {i: [p for run in runs for p in run[i]] for i in ids}
    top1 = sum(float(min(poses, key=rule_key)['rmsd']) < 2 for poses in pooled.values())
    among = sum(any(float(p['rmsd']) < 2 for p in poses) for poses in pooled.values())
    print(f'{name}: {len(ids)} complexes, top-1 {100 * top1 / len(ids):.1f} %, a right pose among them {100 * among / len(ids):.1f} %')


def main(paths):
    runs = []
    for path in paths:
        run = defaultdict(list)
        for pose in csv.DictReader(open(path)):
            run[pose['id']].append(pose)
        runs.append(run)
        report(path, [run])
    report('pooled', runs)


if __name__ == '__main__':
    main(sys.argv[1:])
