#!/usr/bin/env python3
"""Top-1 under the shipped docking rule over the poses of several docking runs pooled per complex.

Each argument is a `disco-dock benchmark --poses-out` CSV (e.g. the same split docked with
different --seed, i.e. different RDKit conformers). For each run alone and for all of them
pooled, prints the share of complexes whose first pose by the shipped rule (scripts/ranking.py)
lies within 2 Å, and the share with a right pose among them: does
docking several conformers and ranking them together beat one run?

With --mix N, it also simulates docking several conformers that share N samples: for every
set of two or more runs, each complex gets an even share of N random poses from each run (the
runs' own poses, so each run must hold at least N / runs per complex), ranked together,
averaged over 200 draws (`--conformers` in the model card's twenty-first session).

Usage: scripts/pool_study.py [--mix N] RUN1_poses.csv RUN2_poses.csv [...]
"""
import csv
import itertools
import random
import sys
from collections import defaultdict

from ranking import rule_key


def report(name, runs):
    ids = set.intersection(*(set(run) for run in runs))
    pooled = {i: [p for run in runs for p in run[i]] for i in ids}
    top1 = sum(float(min(poses, key=rule_key)['rmsd']) < 2 for poses in pooled.values())
    among = sum(any(float(p['rmsd']) < 2 for p in poses) for poses in pooled.values())
    print(f'{name}: {len(ids)} complexes, top-1 {100 * top1 / len(ids):.1f} %, a right pose among them {100 * among / len(ids):.1f} %')


def mixed(runs, total, draws=200):
    """Mean top-1 and share with a right pose when each complex's `total` poses are an even
    share of random poses from each run."""
    ids = sorted(set.intersection(*(set(run) for run in runs)))
    rng = random.Random(0)
    top1 = among = 0
    for _ in range(draws):
        for i in ids:
            poses = []
            for k, run in enumerate(runs):
                poses += rng.sample(run[i], total // len(runs) + (k < total % len(runs)))
            top1 += float(min(poses, key=rule_key)['rmsd']) < 2
            among += any(float(p['rmsd']) < 2 for p in poses)
    n = draws * len(ids)
    return 100 * top1 / n, 100 * among / n


def main(args):
    total = None
    if args[:1] == ['--mix']:
        total, args = int(args[1]), args[2:]
    runs = []
    for path in args:
        run = defaultdict(list)
        for pose in csv.DictReader(open(path)):
            run[pose['id']].append(pose)
        runs.append(run)
        report(path, [run])
    report('pooled', runs)
    for size in range(2, len(runs) + 1) if total else []:
        for chosen in itertools.combinations(range(len(runs)), size):
            top1, among = mixed([runs[k] for k in chosen], total)
            names = ' + '.join(args[k] for k in chosen)
            print(f'{total} shared by {names}: top-1 {top1:.1f} %, a right pose among them {among:.1f} %')


if __name__ == '__main__':
    main(sys.argv[1:])
