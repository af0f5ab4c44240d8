#!/usr/bin/env python3
"""Top-1 under the docking rule when another confidence model scores the same docked poses.

Arguments: a `disco-dock benchmark --poses-out` CSV (the poses, their energies, potentials,
PoseBusters checks and the shipped confidence) and one or more `confidence_val_scores.csv` files
written by `disco-dock train confidence --docking --evaluate-only` (or by a training run) on the
same benchmark's `--poses-cache`, used as `<run>/confidence_poses_val.jsonl`. Rows are joined on
(id, rank). For the shipped confidence and for each scores file, prints the share of complexes
whose first pose by the rule (scripts/ranking.py) lies within 2 Å (top-5 is left out: docking
moves near-duplicate poses back, which needs their coordinates), and how far the file's
confidences are from the benchmark's. They differ even for the shipped model: `train confidence`
gives each pose the graph of its complex's training crop (residues near the crystal ligand),
docking the crop of its 25 Å box (on val's first 60 with two conformers, up to 0.23; top-1 51.7
against 50.0 %). So compare another model with the shipped model's scores file from the same
command, not with the benchmark's own column.

Usage: scripts/confidence_rerank.py POSES.csv SCORES.csv [SCORES2.csv ...]
"""
import csv
import math
import sys
from collections import defaultdict

from ranking import rule_key


def sigmoid(x):
    """Probability of a logit."""
    return 1 / (1 + math.exp(-x))


def by_complex(rows):
    """Rows grouped by complex id."""
    groups = defaultdict(list)
    for row in rows:
        groups[row['id']].append(row)
    return groups


def success(groups, k):
    """Share of complexes with a pose within 2 Å among the first k by the rule."""
    hits = sum(any(float(p['rmsd']) < 2 for p in sorted(poses, key=rule_key)[:k]) for poses in groups.values())
    return 100 * hits / len(groups)


def report(name, groups, drift=None):
    line = f'{name}: {len(groups)} complexes, top-1 {success(groups, 1):.1f} %'
    if drift is not None:
        line += f', max |confidence - shipped| {drift:.2e}'
    print(line)


def rescored(poses, scores_path):
    """The pose rows with their confidence replaced by the scores file's, and the largest change."""
    logits = {(r['id'], r['rank']): float(r['confidence']) for r in csv.DictReader(open(scores_path))}
    out, drift = [], 0.0
    for pose in poses:
        key = (pose['id'], pose['rank'])
        if key not in logits:
            sys.exit(f'{scores_path}: no score for pose {key} of the benchmark')
        confidence = sigmoid(logits[key])
        drift = max(drift, abs(confidence - float(pose['confidence'])))
        out.append({**pose, 'confidence': str(confidence)})
    return out, drift


def main(poses_path, scores_paths):
    poses = list(csv.DictReader(open(poses_path)))
    report(f'{poses_path} (shipped confidence)', by_complex(poses))
    for path in scores_paths:
        rows, drift = rescored(poses, path)
        report(path, by_complex(rows), drift)


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
