#!/usr/bin/env python3
"""Does an extra per-pose term rank docked poses better?

Reads `examples/pose_terms.rs` output (per pose: RMSD, energy and extra terms such as
unpaired_polar, buried polar donors/acceptors without a partner, coulomb, the electrostatic
energy, or pmf, the score under a learned pair potential) and the benchmark's per-pose rows (`benchmark --poses-out`: confidence,
PB-validity, the shipped pair potential's score) of the same run, and prints top-1 (% of
complexes whose first pose lies within 2 Å) for the docking rule
`energy - c * logit(confidence) + u * potential + w * TERM`, PB-valid poses first, over a grid of
w (c: the shipped sampling.json's confidence weight unless given; u: 0 unless given, so that
TERM can be a pair potential's score such as pmf; `--potential-weight 2.5` is the shipped rule).

Usage: python3 scripts/extra_term_study.py TERMS.csv POSES.csv [--term unpaired_polar] [--confidence-weight 2] [--potential-weight 2.5] [--logits SCORES.csv]
(A column of the benchmark rows themselves, e.g. drift: POSES.csv POSES.csv --term drift.
--logits: another confidence model's logits for the same poses, the `confidence` column of
`train confidence --evaluate-only`'s confidence_val_scores.csv, instead of the benchmark's.)
"""
import argparse
import csv
from collections import defaultdict

from ranking import logit, shipped_weights

WEIGHTS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0]


def load(terms_path, poses_path, term, logits_path=None):
    """Poses per complex: dicts with rmsd, energy, the extra term, logit, potential, valid."""
    extra = {}
    for r in csv.DictReader(open(poses_path)):
        conf = float(r["confidence"]) if r["confidence"] else 0.5
        potential = float(r["potential"]) if r.get("potential") else 0.0
        extra[(r["id"], r["rank"])] = (logit(conf), r["pb_valid"] == "true", potential)
    if logits_path:
        for r in csv.DictReader(open(logits_path)):
            key = (r["id"], r["rank"])
            if key in extra:
                extra[key] = (float(r["confidence"]),) + extra[key][1:]
    poses = defaultdict(list)
    for r in csv.DictReader(open(terms_path)):
        key = (r["id"], r["rank"])
        if key not in extra:
            continue
        lg, valid, potential = extra[key]
        poses[r["id"]].append({
            "rmsd": float(r["rmsd"]), "energy": float(r["energy"]), "term": float(r[term]), "logit": lg, "valid": valid,
            "potential": potential,
        })
    return poses


def top1(poses, key):
    """% of complexes whose best pose by `key` (PB-valid first) lies within 2 Å."""
    hits = 0
    for ps in poses.values():
        pool = [p for p in ps if p["valid"]] or ps
        hits += min(pool, key=key)["rmsd"] < 2.0
    return 100.0 * hits / len(poses)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("terms")
    ap.add_argument("poses")
    ap.add_argument("--term", default="unpaired_polar")
    ap.add_argument("--confidence-weight", type=float, default=shipped_weights()[0])
    ap.add_argument("--potential-weight", type=float, default=0.0)
    ap.add_argument("--logits", help="confidence_val_scores.csv of another confidence model for the same poses")
    a = ap.parse_args()
    poses = load(a.terms, a.poses, a.term, a.logits)
    c, u = a.confidence_weight, a.potential_weight
    right = [p for ps in poses.values() for p in ps if p["rmsd"] < 2.0]
    wrong = [p for ps in poses.values() for p in ps if p["rmsd"] >= 2.0]
    mean = lambda xs, f: sum(f(x) for x in xs) / max(len(xs), 1)
    print(f"{len(poses)} complexes, {len(right)} poses within 2 Å, {len(wrong)} beyond")
    print(f"mean {a.term}: right {mean(right, lambda p: p['term']):.2f}, wrong {mean(wrong, lambda p: p['term']):.2f}")
    oracle = 100.0 * sum(any(p["rmsd"] < 2.0 for p in ps) for ps in poses.values()) / len(poses)
    print(f"any pose within 2 Å: {oracle:.1f} %")
    print(f"{a.term} alone: top-1 {top1(poses, lambda p: p['term']):.1f} %")
    print(f"w (kcal/mol per unit of {a.term}) | top-1 % (with confidence) | top-1 % (energy and potential only)")
    for w in WEIGHTS:
        with_conf = top1(poses, lambda p: p["energy"] - c * p["logit"] + u * p["potential"] + w * p["term"])
        energy_only = top1(poses, lambda p: p["energy"] + u * p["potential"] + w * p["term"])
        print(f"{w:.2f} | {with_conf:.1f} | {energy_only:.1f}")


if __name__ == "__main__":
    main()
