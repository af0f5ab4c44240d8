"""The CSV-only features of feats.py (no coordinates: geometric columns left 0) for pose sets kept
without a --poses-cache, so the re-ranker is judged on more val runs.
Usage: python3 feats_csv.py POSES.csv OUT.npz"""
import csv, os, sys, collections, numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from ranking import logit, rule_key
from feats import NAMES, ligand_elements

def featurise_csv(poses_csv):
    rows = collections.defaultdict(list)
    for r in csv.DictReader(open(poses_csv)):
        rows[r['id']].append(r)
    X, y, g = [], [], []
    for k, (cid, pr) in enumerate(rows.items()):
        n = len(pr)
        e = np.array([float(r['energy']) for r in pr]); lg = np.array([logit(float(r['confidence'])) for r in pr])
        pot = np.array([float(r['potential']) for r in pr]); keys = [rule_key(r) for r in pr]; rule = np.array([q[1] for q in keys])
        rank_rule = np.empty(n); rank_rule[sorted(range(n), key=lambda i: keys[i])] = np.arange(n)
        rank_e = np.empty(n); rank_e[np.argsort(e)] = np.arange(n)
        rank_lg = np.empty(n); rank_lg[np.argsort(-lg)] = np.arange(n)
        nl = len(ligand_elements(cid))
        for i, r in enumerate(pr):
            row = dict.fromkeys(NAMES, 0.0)
            row.update(energy=e[i], affinity=float(r['affinity']), logit=lg[i], potential=pot[i], pop=float(r['population']) / max(1, n - 1),
                       drift=float(r['drift']), pb=float(r['pb_valid'] == 'true'), de=e[i] - e.min(), dlg=lg[i] - lg.max(), dpot=pot[i] - pot.min(),
                       drule=rule[i] - rule.min(), rank_rule=rank_rule[i] / n, rank_e=rank_e[i] / n, rank_lg=rank_lg[i] / n, n_lig=nl,
                       n_tor_proxy=e[i] - float(r['affinity']))
            X.append([row[c] for c in NAMES]); y.append(float(r['rmsd'])); g.append(k)
    return np.array(X), np.array(y), np.array(g)

if __name__ == '__main__':
    X, y, g = featurise_csv(sys.argv[1])
    np.savez(sys.argv[2], X=X, y=y, g=g)
    print(sys.argv[2], X.shape)
