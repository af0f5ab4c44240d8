//! The RDKit bridge: parsing (mol blocks, Mol2, SMILES), hydrogens, ETKDG embedding,
//! force-field clean-up and conformer coordinates, on top of rdkit-sys's `ROMol`.
//!
//! RDKit molecules are not `Send`: create, use and drop a [`Molecule`] inside one thread
//! (one rayon task), and move only the plain [`Ligand`](crate::chem::Ligand) out of it.

use crate::chem::types::{BondOrder, Chirality, Hybridization, Ligand, LigandAtom, LigandBond, Vec3};

#[cxx::bridge(namespace = "disco")]
mod ffi {
    unsafe extern "C++" {
        include!("disco-dock/cpp/rdkit_bridge.h");

        #[namespace = "RDKit"]
        type ROMol = rdkit_sys::ro_mol_ffi::ROMol;

        fn quiet_rdkit_logs();
        fn mol_from_molblock(block: &CxxString, sanitize: bool, remove_hs: bool) -> Result<SharedPtr<ROMol>>;
        fn mol_from_mol2block(block: &CxxString) -> Result<SharedPtr<ROMol>>;
        fn mol_from_smiles_checked(smiles: &CxxString) -> Result<SharedPtr<ROMol>>;
        fn with_hydrogens(mol: &SharedPtr<ROMol>, add_coords: bool) -> Result<SharedPtr<ROMol>>;
        fn without_hydrogens(mol: &SharedPtr<ROMol>) -> Result<SharedPtr<ROMol>>;
        fn embed_etkdg(mol: &SharedPtr<ROMol>, seed: i32) -> Result<i32>;
        fn force_field_cleanup(mol: &SharedPtr<ROMol>, max_iters: i32) -> Result<i32>;
        fn conformer_coords(mol: &SharedPtr<ROMol>) -> Result<Vec<f64>>;
        fn set_conformer_coords(mol: &SharedPtr<ROMol>, coords: &[f64]) -> Result<()>;
        fn atom_table(mol: &SharedPtr<ROMol>) -> Result<Vec<i32>>;
        fn bond_table(mol: &SharedPtr<ROMol>) -> Result<Vec<i32>>;
        fn molblock_kekule(mol: &SharedPtr<ROMol>) -> Result<String>;
        fn mol_name(mol: &SharedPtr<ROMol>) -> String;
    }
}

/// An error reported by RDKit (its exception message).
#[derive(Debug, Clone, PartialEq)]
pub struct RdkitError(pub String);

impl std::fmt::Display for RdkitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<cxx::Exception> for RdkitError {
    fn from(e: cxx::Exception) -> Self {
        RdkitError(e.what().to_string())
    }
}

type RdResult<T> = std::result::Result<T, RdkitError>;

const ATOM_STRIDE: usize = 8;
const BOND_STRIDE: usize = 6;

/// An RDKit molecule (not `Send`; keep it inside one thread).
pub struct Molecule {
    mol: cxx::SharedPtr<ffi::ROMol>,
}

/// Silences RDKit's own stderr logging; errors reach the user through our error types instead.
pub fn quiet_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(ffi::quiet_rdkit_logs);
}

impl Molecule {
    /// Parses a V2000/V3000 mol block (one SDF record without its data fields), sanitised, hydrogens removed.
    pub fn from_molblock(block: &str) -> RdResult<Self> {
        quiet_logs();
        cxx::let_cxx_string!(b = block);
        Ok(Molecule { mol: ffi::mol_from_molblock(&b, true, true)? })
    }

    /// Parses a Tripos Mol2 block, sanitised, hydrogens removed.
    pub fn from_mol2(block: &str) -> RdResult<Self> {
        quiet_logs();
        cxx::let_cxx_string!(b = block);
        Ok(Molecule { mol: ffi::mol_from_mol2block(&b)? })
    }

    /// Parses a SMILES string (sanitised).
    pub fn from_smiles(smiles: &str) -> RdResult<Self> {
        quiet_logs();
        cxx::let_cxx_string!(s = smiles);
        Ok(Molecule { mol: ffi::mol_from_smiles_checked(&s)? })
    }

    /// Number of atoms (hydrogens count only when explicit in the graph).
    pub fn atom_count(&self) -> usize {
        rdkit_sys::ro_mol_ffi::get_num_atoms(&self.mol, true) as usize
    }

    /// The molecule's title (`_Name`), possibly empty.
    pub fn name(&self) -> String {
        ffi::mol_name(&self.mol)
    }

    /// A copy with explicit hydrogens; `add_coords` places them geometrically on an existing conformer.
    pub fn with_hydrogens(&self, add_coords: bool) -> RdResult<Self> {
        Ok(Molecule { mol: ffi::with_hydrogens(&self.mol, add_coords)? })
    }

    /// A copy without hydrogens (heavy-atom order kept).
    pub fn without_hydrogens(&self) -> RdResult<Self> {
        Ok(Molecule { mol: ffi::without_hydrogens(&self.mol)? })
    }

    /// Generates one 3D conformer with ETKDGv3 and the given seed (replacing existing ones).
    pub fn embed(&mut self, seed: u32) -> RdResult<()> {
        ffi::embed_etkdg(&self.mol, (seed & 0x7fff_ffff) as i32)?;
        Ok(())
    }

    /// Relaxes the conformer with MMFF94 (UFF when MMFF lacks parameters); returns whether it converged.
    pub fn force_field_cleanup(&mut self, max_iters: u32) -> RdResult<bool> {
        let code = ffi::force_field_cleanup(&self.mol, max_iters as i32)?;
        if code < 0 {
            return Err(RdkitError("no MMFF or UFF parameters for this molecule".into()));
        }
        Ok(code == 0 || code == 2)
    }

    /// Coordinates of the (first) conformer.
    pub fn coords(&self) -> RdResult<Vec<Vec3>> {
        let flat = ffi::conformer_coords(&self.mol)?;
        Ok(flat.chunks_exact(3).map(|c| Vec3::new(c[0], c[1], c[2])).collect())
    }

    /// Replaces the coordinates of the first conformer (creating one if needed).
    pub fn set_coords(&mut self, coords: &[Vec3]) -> RdResult<()> {
        let flat: Vec<f64> = coords.iter().flat_map(|p| [p.x, p.y, p.z]).collect();
        ffi::set_conformer_coords(&self.mol, &flat)?;
        Ok(())
    }

    /// The molecule as a Kekulé V2000 mol block (with the current conformer).
    pub fn molblock(&self) -> RdResult<String> {
        Ok(ffi::molblock_kekule(&self.mol)?)
    }

    /// Atom features and bonds as plain data, with the given coordinates (heavy atoms only expected).
    pub fn to_ligand(&self, name: &str, coords: Vec<Vec3>) -> RdResult<Ligand> {
        let atoms: Vec<LigandAtom> = ffi::atom_table(&self.mol)?.chunks_exact(ATOM_STRIDE).map(atom_from_row).collect();
        let bonds: Vec<LigandBond> = ffi::bond_table(&self.mol)?.chunks_exact(BOND_STRIDE).map(bond_from_row).collect();
        if coords.len() != atoms.len() {
            return Err(RdkitError(format!("{} coordinates for {} atoms", coords.len(), atoms.len())));
        }
        Ok(Ligand { name: name.to_string(), atoms, bonds, coords })
    }
}

fn atom_from_row(r: &[i32]) -> LigandAtom {
    LigandAtom {
        element: r[0].clamp(0, 255) as u8,
        formal_charge: r[1].clamp(-128, 127) as i8,
        aromatic: r[2] != 0,
        hybridization: match r[3] {
            1 => Hybridization::Sp,
            2 => Hybridization::Sp2,
            3 => Hybridization::Sp3,
            _ => Hybridization::Other,
        },
        degree: r[4].clamp(0, 255) as u8,
        num_hs: r[5].clamp(0, 255) as u8,
        in_ring: r[6] != 0,
        chirality: match r[7] {
            1 => Chirality::Cw,
            2 => Chirality::Ccw,
            _ => Chirality::None,
        },
    }
}

fn order_from_code(code: i32) -> BondOrder {
    match code {
        2 => BondOrder::Double,
        3 => BondOrder::Triple,
        12 => BondOrder::Aromatic,
        _ => BondOrder::Single,
    }
}

fn bond_from_row(r: &[i32]) -> LigandBond {
    LigandBond {
        begin: r[0] as usize,
        end: r[1] as usize,
        order: order_from_code(r[2]),
        kekule_order: match order_from_code(r[3]) {
            BondOrder::Double => 2,
            BondOrder::Triple => 3,
            _ => 1,
        },
        in_ring: r[4] != 0,
        conjugated: r[5] != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smiles_embed_and_tables() {
        let mut m = Molecule::from_smiles("c1ccccc1CC(=O)O").unwrap().with_hydrogens(false).unwrap();
        m.embed(7).unwrap();
        assert!(m.force_field_cleanup(200).is_ok());
        let heavy = m.without_hydrogens().unwrap();
        let lig = heavy.to_ligand("x", heavy.coords().unwrap()).unwrap();
        assert_eq!(lig.atoms.len(), 10);
        assert_eq!(lig.bonds.len(), 10);
        assert_eq!(lig.atoms.iter().filter(|a| a.aromatic).count(), 6);
        let kek_double = lig.bonds.iter().filter(|b| b.kekule_order == 2).count();
        assert_eq!(kek_double, 4, "three ring double bonds plus C=O");
    }

    #[test]
    fn bad_smiles_is_an_error() {
        assert!(Molecule::from_smiles("C1CC(").is_err());
        assert!(Molecule::from_smiles("c1cccc1").is_err(), "non-kekulizable aromatic ring");
    }

    /// A mol block as query-aware tools write it: aromatic bond type 4 with ring/chain topology
    /// (query bonds to RDKit) and a data SGroup naming an explicit hydrogen (2wti of the data).
    const QUERY_TOLUENE: &str = concat!(
        "toluene_query\n",
        "     test          3D\n",
        "\n",
        "  8  8  0  0  0  0  0  0  0  0999 V2000\n",
        "    1.3900    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n",
        "    0.6950    1.2038    0.1000 C   0  0  0  0  0  0  0  0  0  0  0  0\n",
        "   -0.6950    1.2038    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n",
        "   -1.3900    0.0000    0.1000 C   0  0  0  0  0  0  0  0  0  0  0  0\n",
        "   -0.6950   -1.2038    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n",
        "    0.6950   -1.2038    0.1000 C   0  0  0  0  0  0  0  0  0  0  0  0\n",
        "    2.9000    0.0000    0.0500 C   0  0  0  0  0  0  0  0  0  0  0  0\n",
        "   -2.4700    0.0000    0.0000 H   0  0  0  0  0  0  0  0  0  0  0  0\n",
        "  1  2  4  0  0  1\n",
        "  2  3  4  0  0  1\n",
        "  3  4  4  0  0  1\n",
        "  4  5  4  0  0  1\n",
        "  5  6  4  0  0  1\n",
        "  6  1  4  0  0  1\n",
        "  1  7  1  0  0  2\n",
        "  4  8  1  0  0  2\n",
        "M  STY  1   1 DAT\n",
        "M  SAL   1  1   8\n",
        "M  SED   1 [#1]\n",
        "M  END\n",
    );

    #[test]
    fn query_bonds_and_sgroups_are_read_as_plain_chemistry_and_embed() {
        let m = Molecule::from_molblock(QUERY_TOLUENE).unwrap();
        assert_eq!(m.atom_count(), 7, "the hydrogen the SGroup names is removed too");
        let mut h = m.with_hydrogens(false).unwrap();
        h.embed(42).unwrap();
        let lig = m.to_ligand("toluene", m.coords().unwrap()).unwrap();
        assert_eq!(lig.atoms.iter().filter(|a| a.aromatic).count(), 6);
    }

    /// trans-but-2-ene with query bonds (chain topology): its E label must survive them.
    const QUERY_TRANS_BUTENE: &str = concat!(
        "trans_butene\n",
        "     test          3D\n",
        "\n",
        "  4  3  0  0  0  0  0  0  0  0999 V2000\n",
        "   -1.9000   -1.1000    0.0100 C   0  0  0  0  0  0  0  0  0  0  0  0\n",
        "   -0.6700   -0.2500    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n",
        "    0.6700    0.2500    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n",
        "    1.9000    1.1000    0.0100 C   0  0  0  0  0  0  0  0  0  0  0  0\n",
        "  1  2  1  0  0  2\n",
        "  2  3  2  0  0  2\n",
        "  3  4  1  0  0  2\n",
        "M  END\n",
    );

    #[test]
    fn double_bond_geometry_survives_query_bonds() {
        let m = Molecule::from_molblock(QUERY_TRANS_BUTENE).unwrap();
        for seed in [1, 2, 3] {
            let mut h = m.with_hydrogens(false).unwrap();
            h.embed(seed).unwrap();
            let p = h.coords().unwrap();
            let torsion = crate::geometry::dihedral(&p[0], &p[1], &p[2], &p[3]).to_degrees().abs();
            assert!(torsion > 150.0, "seed {seed}: C-C=C-C dihedral {torsion:.0} degrees, not trans");
        }
    }

    #[test]
    fn garbage_molblock_is_an_error() {
        assert!(Molecule::from_molblock("").is_err());
        assert!(Molecule::from_molblock("\u{0}\u{1}binary\n\n\n").is_err());
    }
}
