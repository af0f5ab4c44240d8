#!/usr/bin/env python3
"""Rescore disco-dock's docked poses with AutoDock Vina itself, and compare the rankings.

Does disco-dock's own Vina-like energy (src/physics/vina.rs, with its own atom typing) rank the
poses worse than the reference program would? For every complex of a benchmark pose cache
(`disco-dock benchmark --poses-cache`), each pose is written as an SDF (the crystal ligand's
heavy atoms with the pose's coordinates; the atom order is the same), given hydrogens and
Gasteiger typing by Open Babel, and scored by the `vina` Python package (AutoDock Vina 1.2.7,
maps computed once per complex): `vina` is the score of the pose as it is, `vina_opt` after Vina's
local optimisation. The receptor is Open Babel's PDBQT of the protein (waters dropped, hydrogens
added). Each complex runs in a child process, since Vina aborts the process on some inputs; such
complexes are reported and skipped, and a complex's rows are written only when all its poses are
scored, so an interrupted run resumes where it stopped.

Usage:
  rescore.py score POSES_CACHE.jsonl OUT.csv [--data ../shared/data] [--work DIR] [--no-optimize]
  rescore.py summary OUT.csv BENCH_POSES.csv
The summary reads the benchmark's per-pose rows (`benchmark --poses-out`: confidence, potential)
and prints top-1 (% of complexes whose first pose lies within 2 Å) under the docking rule
(PB-valid poses first, then `E - c logit(confidence) + w potential`) with E disco-dock's energy
(inter + intra), its intermolecular affinity, or one of Vina's scores, over a grid of c and w (c = w = 0: the energy alone).
Needs: apt-get install openbabel; pip install vina.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from ranking import rule_key  # noqa: E402

FIELDS = ['id', 'pose', 'rmsd', 'rank', 'energy', 'vina', 'vina_inter', 'vina_opt']


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def prepare(data, work, cid):
    """Receptor PDBQT and the crystal ligand's heavy atoms (SDF) of one complex, made once."""
    w = os.path.join(work, cid)
    os.makedirs(w, exist_ok=True)
    src = os.path.join(data, 'complexes', cid)
    if not os.path.exists(f'{w}/rec.pdbqt'):
        sh(f'zcat {src}/{cid}_protein.pdb.gz | grep -v HOH > {w}/rec.pdb')
        sh(f'obabel -ipdb {w}/rec.pdb -xr -h -O {w}/rec.pdbqt')
        sh(f'obabel {src}/{cid}_ligand.sdf -d -O {w}/ref.sdf')
    return w


def reference(w):
    """Lines of the crystal ligand's (heavy-atom) molfile and its atom count."""
    lines = open(f'{w}/ref.sdf').read().split('$$$$')[0].rstrip('\n').split('\n')
    return lines, int(lines[3][:3])


def pose_files(w, lines, n, poses):
    """One ligand PDBQT per pose, from the crystal molfile (`reference`) with the pose's coordinates."""
    records = []
    for p in poses:
        if len(p['coords']) != n:
            raise ValueError(f'pose has {len(p["coords"])} atoms, crystal ligand {n}')
        block = list(lines)
        for i, (x, y, z) in enumerate(p['coords']):
            block[4 + i] = f'{x:10.4f}{y:10.4f}{z:10.4f}' + block[4 + i][30:]
        records.append('\n'.join(block) + '\n$$$$\n')
    open(f'{w}/poses.sdf', 'w').write(''.join(records))
    sh(f'rm -f {w}/pose*.pdbqt; obabel {w}/poses.sdf -h -O {w}/pose.pdbqt -m')
    files = [f'{w}/pose{i + 1}.pdbqt' for i in range(len(poses))]
    missing = [f for f in files if not os.path.exists(f)]
    if missing:
        raise ValueError(f'Open Babel wrote {len(files) - len(missing)} of {len(files)} pose PDBQTs')
    return files


def score_complex(args, complex_line):
    """Scores one complex's poses: its CSV rows."""
    from vina import Vina
    c = json.loads(complex_line)
    w = prepare(args.data, args.work, c['id'])
    lines, n = reference(w)
    files = pose_files(w, lines, n, c['poses'])
    coords = [x for p in c['poses'] for x in p['coords']]
    crystal = [[float(lines[4 + i][k * 10:(k + 1) * 10]) for k in range(3)] for i in range(n)]
    centre = [sum(a[k] for a in crystal) / n for k in range(3)]
    half = max(abs(x[k] - centre[k]) for x in coords for k in range(3))
    v = Vina(sf_name='vina', verbosity=0, cpu=1)
    v.set_receptor(f'{w}/rec.pdbqt')
    v.compute_vina_maps(center=centre, box_size=[max(32.0, 2 * half + 4.0)] * 3)
    rows = []
    for i, (p, f) in enumerate(zip(c['poses'], files)):
        v.set_ligand_from_file(f)
        e = v.score()
        opt = v.optimize()[0] if args.optimize else float('nan')
        rows.append([c['id'], i, f"{p['rmsd']:.3f}", p.get('rank'), p.get('energy'), f'{e[0]:.3f}', f'{e[1]:.3f}', f'{opt:.3f}'])
    return rows


def score(args):
    new = not os.path.exists(args.out)
    done = set() if new else {r['id'] for r in csv.DictReader(open(args.out))}
    out = open(args.out, 'a', newline='')
    writer = csv.writer(out)
    if new:
        writer.writerow(FIELDS)
    for line in open(args.cache):
        cid = json.loads(line)['id']
        if cid in done:
            continue
        # a child process per complex: Vina aborts the process on some inputs
        with ProcessPoolExecutor(max_workers=1) as child:
            try:
                rows = child.submit(score_complex, args, line).result()
            except BrokenProcessPool:
                print(f'{cid}: skipped: Vina aborted', file=sys.stderr)
                continue
            except Exception as e:
                print(f'{cid}: skipped: {type(e).__name__}: {e}', file=sys.stderr)
                continue
        writer.writerows(rows)
        out.flush()


def summary(args):
    rows = defaultdict(list)
    for r in csv.DictReader(open(args.rescored)):
        rows[r['id']].append(r)
    bench = defaultdict(dict)
    for r in csv.DictReader(open(args.poses)):
        bench[r['id']][int(r['rank'])] = r
    ids = sorted(i for i in rows if i in bench)

    def top1(energy, c=0.0, w=0.0):
        hits = 0
        for i in ids:
            def key(r):
                b = bench[i][int(r['rank'])]
                e = float(b[energy]) if energy == 'affinity' else float(r[energy])
                return rule_key(b, energy=e, c=c, w=w)
            hits += float(min(rows[i], key=key)['rmsd']) < 2
        return 100 * hits / len(ids)

    print(f'{len(ids)} complexes; top-1 RMSD < 2 Å (%)')
    print(f"{'disco-dock rank 1 (the shipped rule)':40s} {top1('rank'):5.1f}")
    oracle = 100 * sum(any(float(r['rmsd']) < 2 for r in rows[i]) for i in ids) / len(ids)
    print(f"{'a pose within 2 Å among them':40s} {oracle:5.1f}")
    for energy in ['energy', 'affinity', 'vina', 'vina_opt']:
        print(f'E = {energy}: rows c (confidence weight), columns w (potential weight)')
        print('   c\\w ' + ' '.join(f'{w:5.1f}' for w in [0, 1, 2.5, 4]))
        for c in [0, 1, 2, 3, 5]:
            print(f'{c:6.1f} ' + ' '.join(f'{top1(energy, c, w):5.1f}' for w in [0, 1, 2.5, 4]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    s = sub.add_parser('score')
    s.add_argument('cache')
    s.add_argument('out')
    s.add_argument('--data', default='../shared/data')
    s.add_argument('--work', default='vina-rescore')
    s.add_argument('--no-optimize', dest='optimize', action='store_false')
    m = sub.add_parser('summary')
    m.add_argument('rescored')
    m.add_argument('poses')
    args = parser.parse_args()
    score(args) if args.command == 'score' else summary(args)


if __name__ == '__main__':
    main()
