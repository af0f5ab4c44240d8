//! Pocket selection and cropping of a protein to a set of residues.

use crate::chem::{Protein, Residue, Vec3};
use crate::error::{Error, Result};

/// The amino-acid residues (those with a C-alpha) having any heavy atom, or the C-alpha, within
/// `radius` of `center`, in increasing order. An empty pocket is [`Error::Invalid`].
pub fn pocket_residues(protein: &Protein, center: &Vec3, radius: f64) -> Result<Vec<usize>> {
    let r2 = radius * radius;
    let near = |p: &Vec3| (p - center).norm_squared() <= r2;
    let pocket: Vec<usize> = protein
        .residues
        .iter()
        .enumerate()
        .filter(|(_, residue)| residue.ca.is_some_and(|ca| near(&ca) || atoms_of(protein, residue).any(near)))
        .map(|(i, _)| i)
        .collect();
    if pocket.is_empty() {
        return Err(Error::invalid(
            format!("protein {}", protein.name),
            format!(
                "no amino-acid residue within {radius:.1} Å of the pocket centre ({:.2}, {:.2}, {:.2}); \
                 check the centre or enlarge the radius",
                center.x, center.y, center.z
            ),
        ));
    }
    Ok(pocket)
}

/// Coordinates of a residue's atoms (an out-of-range atom range yields nothing).
fn atoms_of<'a>(protein: &'a Protein, residue: &Residue) -> impl Iterator<Item = &'a Vec3> + 'a {
    protein.atoms.get(residue.atoms.clone()).unwrap_or(&[]).iter().map(|a| &a.coord)
}

/// A copy of the protein with only the given residues (in increasing index order, duplicates and
/// out-of-range indices ignored) and their atoms, with atom ranges and residue indices renumbered.
pub fn crop(protein: &Protein, residues: &[usize]) -> Protein {
    let mut keep: Vec<usize> = residues.iter().copied().filter(|&i| i < protein.residues.len()).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut cropped = Protein { name: protein.name.clone(), residues: Vec::with_capacity(keep.len()), atoms: Vec::new() };
    for (new_index, &old) in keep.iter().enumerate() {
        let residue = &protein.residues[old];
        let atoms = protein.atoms.get(residue.atoms.clone()).unwrap_or(&[]);
        let start = cropped.atoms.len();
        cropped.atoms.extend(atoms.iter().map(|a| {
            let mut atom = a.clone();
            atom.residue = new_index;
            atom
        }));
        cropped.residues.push(Residue { atoms: start..cropped.atoms.len(), ..residue.clone() });
    }
    cropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::protein::read_protein;
    use crate::io::protein::tests::{complex_protein, shared_data_dir};

    /// Heavy-atom coordinates of an SDF's first record (V2000 atom block), enough for a centre.
    fn sdf_coords(text: &str) -> Vec<Vec3> {
        let lines: Vec<&str> = text.lines().collect();
        let count: usize = lines.get(3).and_then(|l| l.get(0..3)).and_then(|c| c.trim().parse().ok()).unwrap_or(0);
        lines[4..4 + count]
            .iter()
            .map(|l| {
                let v: Vec<f64> = l.split_whitespace().take(3).map(|x| x.parse().expect("coordinate")).collect();
                Vec3::new(v[0], v[1], v[2])
            })
            .collect()
    }

    #[test]
    fn pocket_of_a_real_complex() {
        let Some(path) = complex_protein("1a30") else { return };
        let Some(dir) = shared_data_dir() else { return };
        let protein = read_protein(&path).expect("1a30");
        let sdf = std::fs::read_to_string(dir.join("complexes/1a30/1a30_ligand.sdf")).expect("ligand");
        let ligand = sdf_coords(&sdf);
        let center = crate::chem::centroid(&ligand);
        let pocket = pocket_residues(&protein, &center, 10.0).expect("pocket");
        let brute: Vec<usize> = (0..protein.residues.len())
            .filter(|&i| {
                let r = &protein.residues[i];
                r.ca.is_some() && protein.atoms[r.atoms.clone()].iter().any(|a| (a.coord - center).norm() <= 10.0)
            })
            .collect();
        assert_eq!(pocket, brute);
        assert!(pocket.len() >= 10 && pocket.len() < protein.amino_acids().len(), "{}", pocket.len());
        // Every ligand atom has a pocket residue atom within 5 Å.
        let cropped = crop(&protein, &pocket);
        assert_eq!(cropped.residues.len(), pocket.len());
        assert!(ligand.iter().all(|l| cropped.atoms.iter().any(|a| (a.coord - l).norm() < 5.0)));
        let far = pocket_residues(&protein, &Vec3::repeat(1000.0), 10.0).expect_err("empty pocket");
        assert!(matches!(far, Error::Invalid { .. }) && far.to_string().contains("1a30_protein"), "{far}");
    }

    #[test]
    fn crop_renumbers() {
        let Some(path) = complex_protein("1a30") else { return };
        let protein = read_protein(&path).expect("1a30");
        let cropped = crop(&protein, &[5, 2, 2, 9, usize::MAX]);
        assert_eq!(cropped.residues.len(), 3);
        assert_eq!(cropped.residues[0], Residue { atoms: 0..protein.residues[2].atoms.len(), ..protein.residues[2].clone() });
        for (i, residue) in cropped.residues.iter().enumerate() {
            assert!(cropped.atoms[residue.atoms.clone()].iter().all(|a| a.residue == i));
        }
        let last = &cropped.residues[2];
        assert_eq!(last.atoms.end, cropped.atoms.len());
        assert_eq!(cropped.atoms[last.atoms.start].coord, protein.atoms[protein.residues[9].atoms.start].coord);
        assert!(crop(&protein, &[]).atoms.is_empty());
    }
}
