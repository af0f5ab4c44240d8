//! Benchmarks of the pose diffusion core: IGSO(3) table build, one pose update of a 50-atom
//! ligand with 10 torsions, and symmetry-corrected RMSD of a 26-atom ligand.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use disco_dock::chem::{Torsion, Vec3};
use disco_dock::diffusion::pose::{apply_update, PoseUpdate};
use disco_dock::diffusion::so3;
use disco_dock::geometry::{automorphisms, symmetry_rmsd};

/// A 50-atom non-planar chain with 10 rotatable bonds.
fn chain_ligand() -> (Vec<Vec3>, Vec<Torsion>) {
    let coords = (0..50)
        .map(|i| {
            Vec3::new(
                1.25 * i as f64,
                0.8 * (i % 2) as f64,
                0.3 * (i as f64).sin(),
            )
        })
        .collect();
    let torsions = (0..10)
        .map(|k| Torsion {
            axis: (4 * k + 2, 4 * k + 3),
            moving: (4 * k + 4..50).collect(),
        })
        .collect();
    (coords, torsions)
}

/// A 26-atom ligand: phenyl-butyl chain, para-phenylene, hexanoate, with N and O substituents
/// (8 automorphisms: two ring flips and the carboxylate).
fn symmetric_ligand() -> (Vec<u8>, Vec<(usize, usize)>, Vec<Vec3>) {
    let mut elements = vec![6u8; 26];
    elements[22] = 8;
    elements[23] = 8;
    elements[24] = 7;
    elements[25] = 8;
    let mut bonds: Vec<(usize, usize)> = (0..6).map(|i| (i, (i + 1) % 6)).collect();
    bonds.extend((0..6).map(|i| (10 + i, 10 + (i + 1) % 6)));
    bonds.extend([
        (0, 6),
        (6, 7),
        (7, 8),
        (8, 9),
        (9, 10),
        (13, 16),
        (16, 17),
        (17, 18),
        (18, 19),
        (19, 20),
        (20, 21),
    ]);
    bonds.extend([(21, 22), (21, 23), (7, 24), (18, 25)]);
    let coords = (0..26)
        .map(|i| {
            Vec3::new(
                (i as f64 * 1.7).sin() * 4.0,
                (i as f64 * 0.9).cos() * 3.0,
                i as f64 * 0.5,
            )
        })
        .collect();
    (elements, bonds, coords)
}

fn bench(c: &mut Criterion) {
    c.bench_function("so3 table build", |b| b.iter(so3::Tables::build));

    let (coords, torsions) = chain_ligand();
    let update = PoseUpdate {
        translation: Vec3::new(0.5, -0.3, 0.2),
        rotation: Vec3::new(0.2, 0.1, -0.3),
        torsions: (0..10).map(|k| 0.1 * k as f64 - 0.4).collect(),
    };
    c.bench_function("pose update 50 atoms 10 torsions", |b| {
        b.iter(|| apply_update(black_box(&coords), &torsions, &update))
    });

    let (elements, bonds, reference) = symmetric_ligand();
    let pose: Vec<Vec3> = reference
        .iter()
        .map(|p| p + Vec3::new(0.3, -0.2, 0.1))
        .collect();
    let autos = automorphisms(&elements, &bonds, 1000);
    c.bench_function("automorphisms 26 atoms", |b| {
        b.iter(|| automorphisms(black_box(&elements), &bonds, 1000))
    });
    c.bench_function("symmetry rmsd 26 atoms (given automorphisms)", |b| {
        b.iter(|| symmetry_rmsd(black_box(&pose), &reference, &autos))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
