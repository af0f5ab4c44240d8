"""Writes pocket-cropped copies (residues with any atom within R Å of the ligand centroid) of
the listed complexes, to carry them to the GPU machine under the 64 MiB limit.

Usage: python3 crop_pockets.py SRC_COMPLEXES DST_COMPLEXES IDS_FILE RADIUS
(V2000 ligand SDF files; the PDB keeps its other records and the ANISOU lines of kept residues; CONECT is dropped)."""
import gzip, math, os, shutil, sys
src, dst, ids, R = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
def centroid(sdf):
    lines = open(sdf).read().splitlines()
    n = int(lines[3][:3])
    xyz = [(float(l[0:10]), float(l[10:20]), float(l[20:30])) for l in lines[4:4 + n]]
    return [sum(c[i] for c in xyz) / n for i in range(3)]
for cid in open(ids).read().split():
    d = os.path.join(dst, cid); os.makedirs(d, exist_ok=True)
    sdf = os.path.join(src, cid, f"{cid}_ligand.sdf"); shutil.copy(sdf, d)
    c = centroid(sdf)
    lines = gzip.open(os.path.join(src, cid, f"{cid}_protein.pdb.gz"), "rt").read().splitlines()
    keep = set()
    for l in lines:
        if l.startswith(("ATOM", "HETATM")):
            x, y, z = float(l[30:38]), float(l[38:46]), float(l[46:54])
            if math.dist((x, y, z), c) < R:
                keep.add(l[17:27])
    def kept(line):
        if line.startswith("CONECT"):
            return False
        return not line.startswith(("ATOM", "HETATM", "ANISOU")) or line[17:27] in keep
    out = [l for l in lines if kept(l)]
    with gzip.open(os.path.join(d, f"{cid}_protein.pdb.gz"), "wt") as f:
        f.write("\n".join(out) + "\n")
