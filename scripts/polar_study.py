#!/usr/bin/env python3
"""Does a charge for buried, unpaired polar ligand atoms rank docked poses better?

Reads `examples/pose_terms.rs` output (per pose: RMSD, energy, buried_polar, unpaired_polar) and
the benchmark's per-pose rows (`benchmark --poses-out`: confidence, PB-validity) of the same run,
and prints top-1 (% of complexes whose first pose lies within 2 Å) for the docking rule
`energy - c * logit(confidence) + w * unpaired_polar`, PB-valid poses first, over a grid of w.

Usage: python3 scripts/polar_study.py TERMS.csv POSES.csv [--confidence-weight 2]
"""
import argparse
import csv
import math
from collections import defaultdict

WEIGHTS = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0]


def logit(p):
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def load(terms_path, poses_path):
    """Poses per complex: dicts with rmsd, energy, unpaired, buried, logit, valid."""
    extra = {}
    for r in csv.DictReader(open(poses_path)):
        conf = float(r["confidence"]) if r["confidence"] else 0.5
        extra[(r["id"], r["rank"])] = (logit(conf), r["pb_valid"] == "true")
    poses = defaultdict(list)
    for r in csv.DictReader(open(terms_path)):
        key = (r["id"], r["rank"])
        if key not in extra:
            continue
        lg, valid = extra[key]
        poses[r["id"]].append({
            "rmsd": float(r["rmsd"]), "energy": float(r["energy"]), "unpaired": int(r["unpaired_polar"]),
            "buried": int(r["buried_polar"]), "logit": lg, "valid": valid,
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
    ap.add_argument("--confidence-weight", type=float, default=2.0)
    a = ap.parse_args()
    poses = load(a.terms, a.poses)
    c = a.confidence_weight
    right = [p for ps in poses.values() for p in ps if p["rmsd"] < 2.0]
    wrong = [p for ps in poses.values() for p in ps if p["rmsd"] >= 2.0]
    mean = lambda xs, f: sum(f(x) for x in xs) / max(len(xs), 1)
    print(f"{len(poses)} complexes, {len(right)} poses within 2 Å, {len(wrong)} beyond")
    print(f"mean buried polar: right {mean(right, lambda p: p['buried']):.2f}, wrong {mean(wrong, lambda p: p['buried']):.2f}")
    print(f"mean unpaired polar: right {mean(right, lambda p: p['unpaired']):.2f}, wrong {mean(wrong, lambda p: p['unpaired']):.2f}")
    oracle = 100.0 * sum(any(p["rmsd"] < 2.0 for p in ps) for ps in poses.values()) / len(poses)
    print(f"any pose within 2 Å: {oracle:.1f} %")
    print("w (kcal/mol per unpaired buried polar atom) | top-1 % (with confidence) | top-1 % (energy only)")
    for w in WEIGHTS:
        with_conf = top1(poses, lambda p: p["energy"] - c * p["logit"] + w * p["unpaired"])
        energy_only = top1(poses, lambda p: p["energy"] + w * p["unpaired"])
        print(f"{w:.2f} | {with_conf:.1f} | {energy_only:.1f}")


if __name__ == "__main__":
    main()
