#!/usr/bin/env python3
"""Learns a ranking of the pockets blind docking explores (pure Python, no numpy).

Reads the pocket tables written by `POCKET_FEATURES=F.csv cargo run --release --example
pocket_recall -- DATA SPLIT` for a training and a validation split, fits a linear pocket score
(lower = better) on the training proteins with the listwise loss of `term_study.py` (per
protein, -log of the softmax mass on the pockets whose 25 Å box holds the whole ligand), and
prints recall at 1 and 3 (box holds the ligand; pocket centre within 4 Å of the ligand centre)
for the pocket finder's own order and for the fitted score, with the weights.

Usage: python3 scripts/pocket_study.py TRAIN_POCKETS.csv VAL_POCKETS.csv [MORE_POCKETS.csv ...]
(further tables are only reported, e.g. held-out splits).
"""
import math
import sys

from term_study import fit, read_groups, scales

NAMES = [
    "log_volume", "buriedness", "log_score", "score_share", "extent_min", "extent_mid", "extent_max",
    "log_atoms_8", "carbon_share", "residues_8", "hydrophobic_share", "charged_share", "centre_depth", "log_rank",
]


def features(row, best_score):
    v = lambda k: float(row[k])
    return [
        math.log(v("volume")), v("buriedness"), math.log(v("score")), v("score") / best_score,
        v("extent_min"), v("extent_mid"), v("extent_max"), math.log(1 + v("atoms_8")), v("carbon_share"),
        v("residues_8"), v("hydrophobic_share"), v("charged_share"), v("centre_depth"), math.log(v("rank")),
    ]


def load(path):
    """Proteins: id -> list of (features, pseudo-RMSD (0 when the box holds the ligand, else 10), rank, dcc)."""
    rows = read_groups(path)
    out = {}
    for pid, rs in rows.items():
        best = max(float(r["score"]) for r in rs)
        out[pid] = [(features(r, best), 0.0 if r["inside_box"] == "1" else 10.0, int(r["rank"]), float(r["dcc"])) for r in rs]
    return out


def recall(proteins, key, top, label):
    """Share of proteins (all, including those without a right pocket) with a right pocket in the first `top`."""
    hits = 0
    for pockets in proteins.values():
        order = sorted(pockets, key=key)
        hits += any(label(p) for p in order[:top])
    return 100.0 * hits / len(proteins)


def report(name, proteins, key):
    inside = lambda p: p[1] == 0.0
    dcc4 = lambda p: p[3] < 4.0
    cells = [f"{recall(proteins, key, t, lab):5.1f}" for lab in (inside, dcc4) for t in (1, 3)]
    print(f"  {name:<28} box@1 {cells[0]}  box@3 {cells[1]}  dcc4@1 {cells[2]}  dcc4@3 {cells[3]}")


def main():
    train, val = load(sys.argv[1]), load(sys.argv[2])
    others = [(p, load(p)) for p in sys.argv[3:]]
    scale = scales(train)
    finder = lambda p: p[2]
    fits = {}
    for l2 in [1e-3, 1e-2, 1e-1]:
        start = [0.0] * (len(NAMES) - 1) + [1.0]  # start from the finder's order (log rank)
        fits[l2] = fit(train, scale, l2, start=start)
    for name, proteins in [("train " + sys.argv[1], train), ("val " + sys.argv[2], val)] + others:
        print(f"{name}: {len(proteins)} proteins, a pocket holding the ligand for "
              f"{100.0 * sum(any(p[1] == 0 for p in ps) for ps in proteins.values()) / len(proteins):.1f} %")
        report("pocket finder order", proteins, finder)
        for l2, w in fits.items():
            report(f"fitted, L2 {l2}", proteins, lambda p, w=w: sum(a * b for a, b in zip(w, p[0])))
    for l2, w in fits.items():
        print(f"weights (L2 {l2}): " + ", ".join(f"{n} {x:+.4f}" for n, x in zip(NAMES, w)))


if __name__ == "__main__":
    main()
