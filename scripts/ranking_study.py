"""Compares pose-ranking rules on a `disco-dock benchmark --poses-out` CSV.

Usage: python3 scripts/ranking_study.py poses.csv [more.csv ...]
Also reads `train confidence --docking`'s confidence_val_scores.csv (confidence as a logit, no
affinity or PB-validity columns).
Prints, per rule, the share of complexes whose top-ranked pose is within 2 A of the crystal pose
(and the oracle: any pose within 2 A). Rules: the docking run's own rank, confidence, energy,
inter-molecular affinity, each with PB-invalid poses last, confidence + energy z-scores, and
population rules (how many other poses lie within 2 A: energy minus w ln(1 + population), and the
most populated pose among those within dE of the best energy) and drift rules (energy plus c times
the RMSD the refinement moved the pose from the sampled one), and the shipped combined rule:
energy - w ln(1 + population) - c logit(confidence).
"""
import math
import csv
import statistics
import sys
from collections import defaultdict

from ranking import logit as clipped_logit


def number(x):
    return float(x) if x not in ("", None) else None


def logit(probability):
    return None if probability is None else clipped_logit(probability)


def load(paths):
    by_id = defaultdict(list)
    for path in paths:
        with open(path) as f:
            for r in csv.DictReader(f):
                confidence = number(r["confidence"])
                # benchmark pose rows hold the probability, confidence training rows the logit
                from_benchmark = "pb_valid" in r
                by_id[(path, r["id"])].append({
                    "rank": int(r["rank"]), "rmsd": float(r["rmsd"]), "confidence": confidence,
                    "logit": logit(confidence) if from_benchmark else confidence,
                    "affinity": number(r.get("affinity")), "energy": number(r["energy"]),
                    "invalid": r.get("pb_valid") == "false", "population": int(r.get("population") or 0),
                    "drift": number(r.get("drift"))})
    return by_id


def zscores(values):
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return [0.0] * len(values)
    mu, sd = statistics.mean(present), statistics.pstdev(present) or 1.0
    return [(v - mu) / sd if v is not None else 0.0 for v in values]


def combined(poses, w):
    conf = zscores([p["confidence"] for p in poses])
    energy = zscores([p["energy"] for p in poses])
    return {id(p): (p["invalid"], -w * c + (1 - w) * e) for p, c, e in zip(poses, conf, energy)}


def rules(poses):
    big = float("inf")
    yield "docking rank", lambda p: p["rank"]
    yield "confidence", lambda p: -(p["confidence"] if p["confidence"] is not None else -big)
    yield "energy", lambda p: p["energy"] if p["energy"] is not None else big
    yield "affinity", lambda p: p["affinity"] if p["affinity"] is not None else big
    yield "valid, confidence", lambda p: (p["invalid"], -(p["confidence"] if p["confidence"] is not None else -big))
    yield "valid, energy", lambda p: (p["invalid"], p["energy"] if p["energy"] is not None else big)
    for w in (0.25, 0.5, 0.75):
        keys = combined(poses, w)
        yield f"valid, {w:.2f} conf z + {1 - w:.2f} energy z", lambda p, keys=keys: keys[id(p)]
    energy = lambda p: p["energy"] if p["energy"] is not None else big
    affinity = lambda p: p["affinity"] if p["affinity"] is not None else big
    for w in (0.25, 0.5, 1.0, 2.0):
        yield f"valid, energy - {w} ln(1 + pop)", lambda p, w=w: (p["invalid"], energy(p) - w * math.log1p(p["population"]))
        yield f"valid, affinity - {w} ln(1 + pop)", lambda p, w=w: (p["invalid"], affinity(p) - w * math.log1p(p["population"]))
    if all(p["drift"] is not None for p in poses):
        for c in (0.1, 0.25, 0.5, 1.0):
            yield f"valid, energy + {c} drift", lambda p, c=c: (p["invalid"], energy(p) + c * p["drift"])
    for w in (0.0, 0.25, 0.5, 1.0):
        for c in (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0):
            yield f"valid, energy - {w} ln(1 + pop) - {c} logit", lambda p, w=w, c=c: (
                p["invalid"], energy(p) - w * math.log1p(p["population"]) - c * (p["logit"] or 0.0))
    best = min((energy(p) for p in poses if not p["invalid"]), default=big)
    for de in (0.5, 1.0, 2.0):
        yield f"valid, most populated within {de} of best", lambda p, de=de: (
            p["invalid"], energy(p) > best + de, -p["population"], energy(p))


def main(paths):
    by_id = load(paths)
    hits, totals = defaultdict(int), defaultdict(int)
    oracle = 0
    for poses in by_id.values():
        oracle += any(p["rmsd"] < 2 for p in poses)
        for name, key in rules(poses):
            totals[name] += 1
            hits[name] += min(poses, key=key)["rmsd"] < 2
    n = len(by_id)
    print(f"{n} complexes; any pose < 2 A: {100 * oracle / max(n, 1):.1f}%")
    for name in totals:
        print(f"  top-1 < 2 A by {name:<50} {100 * hits[name] / n:5.1f}%")


if __name__ == "__main__":
    main(sys.argv[1:])
