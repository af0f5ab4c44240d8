"""Per-pose features for a learned re-ranker: a benchmark's --poses-cache (coordinates) joined
with its --poses-out rows (energies, confidence, potential), plus contacts with the protein's
heavy atoms. Usage: python3 feats.py POSES_CACHE.jsonl POSES.csv OUT.npz
(the complexes are read from ../shared/data, or $DISCO_DOCK_DATA)."""
import csv, gzip, json, math, os, sys, collections
import numpy as np
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..'))
from ranking import logit, rule_key
DATA = os.path.join(os.environ.get('DISCO_DOCK_DATA', os.path.join(HERE, '..', '..', '..', 'shared', 'data')), 'complexes')
METALS = {'ZN', 'MG', 'MN', 'FE', 'CA', 'CO', 'NI', 'CU', 'NA', 'K', 'CD', 'HG'}

def ligand_elements(cid):
    lines = open(f'{DATA}/{cid}/{cid}_ligand.sdf').read().split('\n')
    n = int(lines[3][:3])
    els = [l[31:34].strip().upper() for l in lines[4:4 + n]]
    return [e for e in els if e != 'H']

def protein_atoms(cid):
    xyz, el = [], []
    with gzip.open(f'{DATA}/{cid}/{cid}_protein.pdb.gz', 'rt') as f:
        for l in f:
            if l.startswith(('ATOM', 'HETATM')):
                if l[17:20] in ('HOH', 'WAT'):
                    continue
                e = l[76:78].strip().upper() or l[12:14].strip().upper()
                if e in ('H', 'D'):
                    continue
                xyz.append([float(l[30:38]), float(l[38:46]), float(l[46:54])]); el.append(e)
    return np.array(xyz), np.array(el)

NAMES = ['energy', 'affinity', 'logit', 'potential', 'pop', 'drift', 'pb', 'de', 'dlg', 'dpot', 'drule', 'rank_rule', 'rank_e', 'rank_lg',
         'n_lig', 'burial', 'exposed', 'hb', 'unpaired', 'hydrophobic', 'close', 'metal', 'consensus', 'n_tor_proxy']

def rmsd(a, b):
    return math.sqrt(((a - b) ** 2).sum(1).mean())

def featurise(cache, poses_csv):
    rows = collections.defaultdict(dict)
    for r in csv.DictReader(open(poses_csv)):
        rows[r['id']][int(r['rank'])] = r
    X, y, groups, ids = [], [], [], []
    for line in open(cache):
        try:
            c = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line still being written
        cid = c['id']
        if cid not in rows:
            continue
        els = ligand_elements(cid)
        P, pel = protein_atoms(cid)
        poses = sorted(c['poses'], key=lambda p: p['rank'])
        coords = [np.array(p['coords']) for p in poses]
        if len(els) != coords[0].shape[0]:
            print('skip', cid, len(els), coords[0].shape, file=sys.stderr); continue
        pr = [rows[cid][p['rank']] for p in poses]
        n = len(poses)
        e = np.array([float(r['energy']) for r in pr]); lg = np.array([logit(float(r['confidence'])) for r in pr])
        pot = np.array([float(r['potential']) for r in pr]); rule = np.array([rule_key(r)[1] for r in pr])
        keys = [rule_key(r) for r in pr]
        rank_rule = np.empty(n); rank_rule[sorted(range(n), key=lambda i: keys[i])] = np.arange(n)
        rank_e = np.empty(n); rank_e[np.argsort(e)] = np.arange(n)
        rank_lg = np.empty(n); rank_lg[np.argsort(-lg)] = np.arange(n)
        lig_polar = np.array([x in ('N', 'O') for x in els]); lig_c = np.array([x == 'C' for x in els])
        centre = np.mean([cc.mean(0) for cc in coords], 0)
        near = np.linalg.norm(P - centre, axis=1) < 25.0
        Pn, peln = P[near], pel[near]
        p_polar = np.isin(peln, ['N', 'O']); p_c = peln == 'C'; p_metal = np.isin(peln, list(METALS))
        top3 = sorted(range(n), key=lambda i: keys[i])[:3]
        for i in range(n):
            L = coords[i]
            D = np.linalg.norm(L[:, None, :] - Pn[None, :, :], axis=2)
            cnt45 = (D < 4.5).sum(1)
            burial = cnt45.mean(); exposed = (cnt45 < 2).mean()
            hbpair = ((D < 3.4) & p_polar[None, :]).any(1) & lig_polar
            hb = hbpair.sum()
            unpaired = (lig_polar & (cnt45 >= 6) & ~((D < 3.5) & p_polar[None, :]).any(1)).sum()
            hydro = ((D < 4.0) & p_c[None, :]).any(1)[lig_c].sum() / max(1, lig_c.sum())
            close = (D.min(1) < 2.8).sum()
            metal = ((D < 2.8) & p_metal[None, :]).any(1).sum()
            cons = np.mean([rmsd(L, coords[j]) for j in top3 if j != i]) if n > 1 else 0.0
            r = pr[i]
            X.append([e[i], float(r['affinity']), lg[i], pot[i], float(r['population']) / max(1, n - 1), float(r['drift']), r['pb_valid'] == 'true',
                      e[i] - e.min(), lg[i] - lg.max(), pot[i] - pot.min(), rule[i] - rule.min(), rank_rule[i] / n, rank_e[i] / n, rank_lg[i] / n,
                      len(els), burial, exposed, hb / max(1, lig_polar.sum()), unpaired, hydro, close, metal, cons,
                      (e[i] - float(r['affinity']))])
            y.append(float(r['rmsd'])); groups.append(len(ids))
        ids.append(cid)
    return np.array(X, dtype=float), np.array(y), np.array(groups), ids

if __name__ == '__main__':
    cache, poses_csv, out = sys.argv[1:4]
    X, y, g, ids = featurise(cache, poses_csv)
    np.savez(out, X=X, y=y, g=g, ids=np.array(ids))
    print(out, X.shape, len(ids))
