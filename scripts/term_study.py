#!/usr/bin/env python3
"""Re-weights the Vina-like terms for pose ranking (pure Python, no numpy).

Reads the per-pose term tables written by `cargo run --release --example pose_terms` for a
training and a validation pose cache, fits a linear ranking score (lower = better, as energy)
on the training poses with a listwise loss (per complex, -log of the softmax mass on the poses
within 2 Å), and prints the validation top-1 success of Vina's own weights, of the fitted
weights and, when a confidence-score file is given, of each combined with the confidence logit.

Usage: python3 scripts/term_study.py TRAIN_TERMS.csv VAL_TERMS.csv [VAL_SCORES.csv]
(VAL_SCORES.csv: `confidence_val_scores.csv` of a confidence run, joined by id and rank.)
"""
import csv
import math
import sys
from collections import defaultdict

TERMS = ["gauss1", "gauss2", "repulsion", "hydrophobic", "hbond"]
VINA = [-0.035579, -0.005156, 0.840245, -0.035069, -0.587439]


def features(row, n_poses):
    """Per-pose features: inter terms, intra terms, population share."""
    inter = [float(row["inter_" + t]) for t in TERMS]
    intra = [float(row["intra_" + t]) for t in TERMS]
    pop = float(row["population"] or 0) / max(n_poses - 1, 1)
    return inter + intra + [pop]


NAMES = ["inter_" + t for t in TERMS] + ["intra_" + t for t in TERMS] + ["population_share"]
VINA_WEIGHTS = VINA + VINA + [0.0]


def read_groups(path):
    """CSV rows grouped by their `id` column, in file order."""
    rows = defaultdict(list)
    with open(path) as f:
        for r in csv.DictReader(f):
            rows[r["id"]].append(r)
    return rows


def load(path):
    """Complexes: id -> list of (features, rmsd, rank)."""
    rows = read_groups(path)
    return {cid: [(features(r, len(rs)), float(r["rmsd"]), int(r["rank"] or 0)) for r in rs] for cid, rs in rows.items()}


def scales(complexes):
    """Feature standard deviations over all poses, for conditioning."""
    xs = [p[0] for poses in complexes.values() for p in poses]
    n = len(xs)
    out = []
    for k in range(len(xs[0])):
        m = sum(x[k] for x in xs) / n
        v = sum((x[k] - m) ** 2 for x in xs) / n
        out.append(math.sqrt(v) or 1.0)
    return out


def top1(complexes, key):
    """Share of complexes whose lowest-key pose is within 2 Å."""
    hits = 0
    for cid, poses in complexes.items():
        best = min(range(len(poses)), key=lambda i: key(cid, i, poses[i]))
        hits += poses[best][1] < 2.0
    return 100.0 * hits / len(complexes)


def fit(complexes, scale, l2, iters=400, lr=0.05, start=None):
    """Listwise fit of weights w (score = w . x / scale, lower is better)."""
    groups = [poses for poses in complexes.values() if any(p[1] < 2 for p in poses) and any(p[1] >= 2 for p in poses)]
    dim = len(scale)
    w = [s * v for s, v in zip(scale, start)] if start else [0.0] * dim
    m, v = [0.0] * dim, [0.0] * dim
    for it in range(1, iters + 1):
        grad = [2 * l2 * wk for wk in w]
        loss = 0.0
        for poses in groups:
            xs = [[xk / sk for xk, sk in zip(p[0], scale)] for p in poses]
            s = [-sum(wk * xk for wk, xk in zip(w, x)) for x in xs]  # logits: higher = better
            mx = max(s)
            e = [math.exp(si - mx) for si in s]
            z = sum(e)
            pos = [i for i, p in enumerate(poses) if p[1] < 2]
            zp = sum(e[i] for i in pos)
            loss -= math.log(zp / z)
            # d(-log zp/z)/d s_i = p_i - q_i (p: softmax, q: softmax over positives)
            for i, x in enumerate(xs):
                g = e[i] / z - (e[i] / zp if i in pos else 0.0)
                for k in range(dim):
                    grad[k] -= g * x[k] / len(groups)  # ds/dw = -x
        for k in range(dim):
            m[k] = 0.9 * m[k] + 0.1 * grad[k]
            v[k] = 0.999 * v[k] + 0.001 * grad[k] ** 2
            w[k] -= lr * (m[k] / (1 - 0.9**it)) / (math.sqrt(v[k] / (1 - 0.999**it)) + 1e-8)
        if it % 100 == 0:
            print(f"  iter {it}: listwise loss {loss / len(groups):.4f}", file=sys.stderr)
    return [wk / sk for wk, sk in zip(w, scale)]


def linear(w):
    return lambda cid, i, p: sum(wk * xk for wk, xk in zip(w, p[0]))


def main():
    train, val = load(sys.argv[1]), load(sys.argv[2])
    logits = {}
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            for r in csv.DictReader(f):
                logits[(r["id"], int(r["rank"]))] = float(r["confidence"])
    scale = scales(train)
    print(f"train {len(train)} complexes, val {len(val)}")
    print(f"Vina weights: train top-1 {top1(train, linear(VINA_WEIGHTS)):.1f} %, val {top1(val, linear(VINA_WEIGHTS)):.1f} %")
    results = {}
    for l2 in [1e-3, 1e-2, 1e-1]:
        w = fit(train, scale, l2, start=VINA_WEIGHTS)
        results[l2] = w
        print(f"fitted (l2 {l2}): train top-1 {top1(train, linear(w)):.1f} %, val {top1(val, linear(w)):.1f} %")
        print("  weights: " + ", ".join(f"{n} {x:+.5f}" for n, x in zip(NAMES, w)))
    if logits:
        for label, w in [("Vina", VINA_WEIGHTS)] + [(f"fitted l2 {l2}", w) for l2, w in results.items()]:
            base = linear(w)
            cells = []
            for c in [0.0, 0.5, 1.0, 2.0, 3.0, 5.0]:
                key = lambda cid, i, p, c=c: base(cid, i, p) - c * logits.get((cid, p[2]), 0.0)
                cells.append(f"c={c}: {top1(val, key):.1f}")
            print(f"{label} - c logit: " + ", ".join(cells))


if __name__ == "__main__":
    main()
