#!/usr/bin/env python3
"""Which of K RDKit conformers to dock? Scores choice rules by the conformer floors they reach.

Reads `cargo run --release --example conformer_choice -- DATA SPLIT K > choice.jsonl` (per
complex: each candidate's floor, the RMSD to the crystal ligand after conformer matching, and the
K x K shape distances between candidates) and prints, per rule, the mean and median floor of the
chosen conformers (the best of them when a rule picks two) and how many complexes fall below 0.5,
0.75 and 1 Angstrom. The rules see only the distances, as docking does: the first seed (c0), the
first two seeds, the medoid (least summed distance to the others), the 2-medoids (k-medoids, the
pair that best stands for all candidates; what `--conformer-candidates` docks), the pair farthest
apart, and the oracle (best of all K).

Usage: python3 scripts/conformer_choice.py choice.jsonl
"""
import itertools
import json
import math
import statistics
import sys


def distance(d, i, j):
    """Shape distance, both matching directions averaged (as src/chem/conformer.rs does)."""
    return 0.5 * (d[i][j] + d[j][i])


def medoid(d):
    return min(range(len(d)), key=lambda i: sum(distance(d, i, j) for j in range(len(d))))


def two_medoids(d):
    n = len(d)
    cost = lambda pair: sum(min(distance(d, pair[0], j), distance(d, pair[1], j)) for j in range(n))
    return min(itertools.combinations(range(n), 2), key=cost)


def rules(d):
    n = len(d)
    return {
        'first seed': [0],
        'medoid': [medoid(d)],
        'first two seeds': [0, 1],
        '2-medoids': list(two_medoids(d)),
        'farthest pair': list(max(itertools.combinations(range(n), 2), key=lambda p: distance(d, *p))),
        'best of K (oracle)': list(range(n)),
    }


def main(path):
    reached = {}
    for line in open(path):
        row = json.loads(line)
        floors = row['floors']
        if any(math.isnan(f) for f in floors):
            continue
        for name, chosen in rules(row['distances']).items():
            reached.setdefault(name, []).append(min(floors[i] for i in chosen))
    for name, v in reached.items():
        below = ' '.join(f'<{t} {sum(x < t for x in v)}' for t in (0.5, 0.75, 1))
        print(f'{name:20s} n {len(v)} mean {statistics.mean(v):.3f} median {statistics.median(v):.3f} {below}')


if __name__ == '__main__':
    main(sys.argv[1])
