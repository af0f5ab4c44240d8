#!/usr/bin/env python3
"""Re-ranks docked poses offline with other weights for the template term (pure Python + numpy).

Inputs, for the same split and run:
- TEMPLATES.jsonl: `cargo run --release --example template_coverage -- LIB DATA SPLIT 0.3 json`
  (each complex's templates: distant or close, ligand similarity, atoms in the complex's frame);
- POSES.csv and CACHE.jsonl: `benchmark --poses-out POSES.csv --poses-cache CACHE.jsonl`;
- DATA: the dataset folder, for the crystal ligands' elements (V2000 SDF atom blocks).

The ranking key is docking's (`ranking.rule_key`, with the shipped sampling.json's weights), its
template term recomputed: the best over templates of weight x (mean over pose atoms of the
Gaussian overlap, sigma 1 Å, with the nearest template atom, halved for another element). The
first rule, close templates only, reproduces a run made without distant templates; the script
checks the recomputed close-template overlap against the CSV's `template` column. Poses are not
re-docked, so a rule that would change the search (a bias, blind docking's exploitation site) is
only approximated.

Usage: python3 scripts/template_rerank.py TEMPLATES.jsonl POSES.csv CACHE.jsonl DATA
"""
import csv
import json
import sys
from collections import defaultdict

import numpy as np

from ranking import rule_key

ELEMENTS = {"C": 6, "N": 7, "O": 8, "F": 9, "P": 15, "S": 16, "Cl": 17, "Br": 35, "I": 53, "B": 5, "Si": 14, "Se": 34}


def sdf_elements(path):
    """Heavy-atom atomic numbers of the first V2000 record, in file order."""
    lines = open(path).read().splitlines()
    n = int(lines[3][:3])
    symbols = [line[31:34].strip() for line in lines[4:4 + n]]
    return np.array([ELEMENTS.get(s, 0) for s in symbols if s != "H"])


def coverage(elements, coords, atoms):
    """Template overlap of one pose with one template (docking's template_overlap)."""
    a = np.array(atoms)
    d2 = ((coords[:, None, :] - a[None, :, 1:]) ** 2).sum(-1)
    credit = np.where(elements[:, None] == a[None, :, 0], 1.0, 0.5)
    return (np.exp(-d2 / 2.0) * credit).max(1).mean()


def load(templates_path, poses_path, cache_path, data):
    templates = {}
    for line in open(templates_path):
        d = json.loads(line)
        templates[d["id"]] = d["templates"]
    rows = defaultdict(dict)
    for r in csv.DictReader(open(poses_path)):
        rows[r["id"]][int(r["rank"])] = r
    complexes = {}
    for line in open(cache_path):
        d = json.loads(line)
        cid = d["id"]
        elements = sdf_elements(f"{data}/complexes/{cid}/{cid}_ligand.sdf")
        poses = []
        for p in d["poses"]:
            r = rows[cid][p["rank"]]
            poses.append({"coords": np.array(p["coords"]), "rmsd": float(r["rmsd"]), "template": float(r["template"]) if r["template"] else None, "row": r})
        covers = [(t, np.array([coverage(elements[:len(p["coords"])], p["coords"], t["atoms"]) for p in poses])) for t in templates.get(cid, [])]
        complexes[cid] = (poses, covers)
    return complexes


def top1(complexes, weight):
    """RMSD of each complex's first pose when template t counts weight(t) of a close one."""
    out = {}
    for cid, (poses, covers) in complexes.items():
        overlap = np.max([weight(t) * c for t, c in covers], axis=0) if covers else np.zeros(len(poses))
        keys = [rule_key({**p["row"], "template": o}) for p, o in zip(poses, overlap)]
        out[cid] = poses[min(range(len(poses)), key=lambda k: keys[k])]["rmsd"]
    return out


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    complexes = load(*sys.argv[1:])
    errors = [abs(max(c[k] for t, c in covers if not t["distant"]) - p["template"])
              for poses, covers in complexes.values() if any(not t["distant"] for t, _ in covers)
              for k, p in enumerate(poses) if p["template"] is not None]
    print(f"{len(complexes)} complexes; close-template overlap recomputed to within {max(errors, default=0):.1e}")
    similar = lambda t: t["similarity"] >= 0.3
    rules = {"close only": lambda t: 0.0 if t["distant"] else 1.0}
    for w in [0.0, 0.1, 0.25, 0.3, 0.5, 1.0]:
        rules[f"similar distant as close, others at {w}"] = lambda t, w=w: 1.0 if not t["distant"] or similar(t) else w
    base = top1(complexes, rules["close only"])
    for name, rule in rules.items():
        result = top1(complexes, rule)
        changed = [f"{c} {base[c]:.2f}->{result[c]:.2f}" for c in result if (base[c] < 2) != (result[c] < 2)]
        print(f"{name:42s} top-1 {sum(v < 2 for v in result.values()):3d}  {', '.join(changed)}")


if __name__ == "__main__":
    main()
