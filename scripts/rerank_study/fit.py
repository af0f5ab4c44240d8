"""Fit a pose classifier (right = RMSD < 2 Å) on training complexes' docked poses; report top-1 on
val pose sets for the model alone and blended with the docking rule (rule - b * score).
Usage: python3 fit.py TRAIN.npz --coord A.npz [B.npz ...] --csv C.npz [D.npz ...]
(needs scikit-learn: pip install scikit-learn)."""
import argparse, numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from feats import NAMES

def load(f):
    d = np.load(f); return d['X'], d['y'], d['g']

def top1(score, X, y, g, b=None):
    hits = 0
    for k in np.unique(g):
        m = g == k
        pb = X[m, NAMES.index('pb')]
        rule = X[m, NAMES.index('drule')]
        s = -score[m] if b is None else rule - b * score[m]
        order = np.lexsort((s, 1 - pb))
        hits += y[m][order[0]] < 2
    return int(hits)

GEOM = ['burial', 'exposed', 'hb', 'unpaired', 'hydrophobic', 'close', 'metal', 'consensus']
BS = (0.5, 1, 2, 4)

def models(Xt, lab, cols, seed=0):
    out = {}
    gb = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0, random_state=seed).fit(Xt[:, cols], lab)
    out['gbdt'] = lambda X: gb.decision_function(X[:, cols])
    sc = StandardScaler().fit(Xt[:, cols]); lr = LogisticRegression(C=1.0, max_iter=5000).fit(sc.transform(Xt[:, cols]), lab)
    out['logreg'] = lambda X: lr.decision_function(sc.transform(X[:, cols]))
    return out

def report(name, predict, sets):
    base = sum(top1(np.zeros(len(y)), X, y, g, b=0.0) for X, y, g in sets)
    alone = sum(top1(predict(X), X, y, g) for X, y, g in sets)
    per_b = [[top1(predict(X), X, y, g, b=b) for X, y, g in sets] for b in BS]
    print(f'{name:22s} sets {len(sets)} rule {base} alone {alone} ' + ' '.join(f'b{b}:{sum(r)}({"/".join(map(str, r))})' for b, r in zip(BS, per_b)))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('train')
    ap.add_argument('--coord', nargs='+', default=[], help='val sets featurised by feats.py')
    ap.add_argument('--csv', nargs='+', default=[], help='val sets featurised by feats_csv.py')
    args = ap.parse_args()
    Xt, yt, gt = load(args.train)
    lab = yt < 2
    print('train poses', len(yt), 'complexes', len(np.unique(gt)), 'right share %.3f' % lab.mean())
    coord = [load(f) for f in args.coord]
    csvs = [load(f) for f in args.csv]
    all_cols = list(range(len(NAMES)))
    csv_cols = [i for i, n in enumerate(NAMES) if n not in GEOM]
    for mname, pred in models(Xt, lab, all_cols).items():
        if coord:
            report('all/' + mname + ' coord', pred, coord)
    for mname, pred in models(Xt, lab, csv_cols).items():
        if coord:
            report('csv/' + mname + ' coord', pred, coord)
        if csvs:
            report('csv/' + mname + ' csv', pred, csvs)

if __name__ == "__main__":
    main()
