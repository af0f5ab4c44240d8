//! The periodic table subset disco-dock needs: element symbols and atomic numbers.

const SYMBOLS: [&str; 87] = [
    "*", "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar", "K", "Ca",
    "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",
    "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce",
    "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir",
    "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn",
];

/// Element symbol of an atomic number (`*` when unknown).
pub fn symbol(atomic_number: u8) -> &'static str {
    SYMBOLS.get(atomic_number as usize).copied().unwrap_or("*")
}

/// Atomic number of an element symbol, case-insensitive (`None` when unknown).
pub fn atomic_number(symbol: &str) -> Option<u8> {
    let s = symbol.trim();
    SYMBOLS.iter().position(|e| e.eq_ignore_ascii_case(s)).filter(|&z| z > 0).map(|z| z as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_round_trip() {
        for z in 1..=86u8 {
            assert_eq!(atomic_number(symbol(z)), Some(z));
        }
        assert_eq!(atomic_number("CL"), Some(17));
        assert_eq!(atomic_number("Xx"), None);
    }
}
