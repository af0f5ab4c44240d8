#!/usr/bin/env python3
"""Where blind docking's poses lie among the found pockets (pure Python).

Assigns every pose of a blind benchmark's pose cache (`benchmark --pocket none --poses-cache
F.jsonl`) to the nearest pocket centre of the pocket table written by `POCKET_FEATURES=P.csv
cargo run --release --example pocket_recall -- DATA SPLIT` (same split), and counts, over the
complexes, whether the top-1 pose lies in the finder's first pocket and, for complexes whose
top-1 is wrong although a pose within 2 Å was docked, whether that right pose and the top-1 lie in
the same pocket: wrong pocket choice against wrong ranking inside the right pocket.

It also splits the complexes by the pocket that got the exploitation samples (the one of the
first three holding most poses): its box holds the crystal ligand; another of the first three
does; none does. With a pocket-given run's pose rows (`benchmark --pocket crystal --poses-out
P.csv`, same complexes) it gives pocket-given docking's hits on the same groups.

Usage: python3 scripts/blind_sites.py POCKETS.csv POSES.jsonl [POCKET_GIVEN_POSES.csv]
"""
import csv
import json
import math
import sys
from collections import Counter, defaultdict

pockets = defaultdict(list)
for r in csv.DictReader(open(sys.argv[1])):
    pockets[r['id']].append((int(r['rank']), (float(r['x']), float(r['y']), float(r['z'])), r['inside_box'] == '1'))
given = defaultdict(list)
for r in (csv.DictReader(open(sys.argv[3])) if len(sys.argv) > 3 else []):
    given[r['id']].append((int(r['rank']), float(r['rmsd'])))
stats = defaultdict(int)
groups = defaultdict(lambda: [0, 0, 0, 0, 0])
for line in open(sys.argv[2]):
    e = json.loads(line)
    pk = pockets.get(e['id'], [])
    if not pk: continue
    def site(p):
        c = [sum(a[k] for a in p['coords'])/len(p['coords']) for k in range(3)]
        return min(pk, key=lambda q: math.dist(q[1], c))[0]
    poses = sorted(e['poses'], key=lambda p: p['rank'])
    top = poses[0]
    right = [p for p in poses if p['rmsd'] < 2]
    stats['n'] += 1
    first3 = {q[0]: q[2] for q in pk if q[0] <= 3}
    exploited = Counter(s for s in map(site, poses) if s in first3).most_common(1)
    group = 'exploited pocket holds the ligand' if exploited and first3[exploited[0][0]] else \
        'another of the first three does' if any(first3.values()) else 'none of the first three does'
    g = groups[group]
    g[0] += 1; g[1] += top['rmsd'] < 2; g[2] += bool(right)
    if given[e['id']]:
        g[3] += min(given[e['id']])[1] < 2; g[4] += min(r for _, r in given[e['id']]) < 2
    stats['top1 in finder #1'] += site(top) == 1
    if top['rmsd'] < 2: stats['hit'] += 1; continue
    if right:
        stats['miss with right pose'] += 1
        rs = min(site(p) for p in right)
        stats['  right pose in finder #1'] += rs == 1
        stats['  top1 in other pocket than right'] += site(top) != site(right[0])
        stats['  top1 finder rank > right rank'] += site(top) > rs
    # had docking ranked the poses of the finder's first pocket first
    p1 = [p for p in poses if site(p) == 1]
    if p1 and p1[0]['rmsd'] < 2: stats['  best pose of finder #1 would hit'] += 1
for k, v in stats.items(): print(k, v)
for k, (n, hit, oracle, ghit, goracle) in groups.items():
    print(f'{k}: {n} complexes, blind top-1 {hit}, a right pose {oracle}' + (f'; pocket given top-1 {ghit}, a right pose {goracle}' if given else ''))
