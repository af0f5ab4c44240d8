//! Protein sequence alignment for finding template complexes: local alignment (Smith–Waterman
//! with Gotoh's affine gaps) under BLOSUM62, the scoring BLAST uses for proteins. Unlike shared
//! sequence words, it pairs the residues of distant homologues (30–50 % identity) too, whose
//! pockets and ligand sites are often conserved.

/// Amino acids in the order of [`BLOSUM62`]'s rows; anything else scores as `X`.
const ALPHABET: &[u8; 20] = b"ARNDCQEGHILKMFPSTWYV";

/// BLOSUM62 (Henikoff & Henikoff 1992), rows and columns in [`ALPHABET`] order.
#[rustfmt::skip]
const BLOSUM62: [[i8; 20]; 20] = [
    [ 4, -1, -2, -2,  0, -1, -1,  0, -2, -1, -1, -1, -1, -2, -1,  1,  0, -3, -2,  0],
    [-1,  5,  0, -2, -3,  1,  0, -2,  0, -3, -2,  2, -1, -3, -2, -1, -1, -3, -2, -3],
    [-2,  0,  6,  1, -3,  0,  0,  0,  1, -3, -3,  0, -2, -3, -2,  1,  0, -4, -2, -3],
    [-2, -2,  1,  6, -3,  0,  2, -1, -1, -3, -4, -1, -3, -3, -1,  0, -1, -4, -3, -3],
    [ 0, -3, -3, -3,  9, -3, -4, -3, -3, -1, -1, -3, -1, -2, -3, -1, -1, -2, -2, -1],
    [-1,  1,  0,  0, -3,  5,  2, -2,  0, -3, -2,  1,  0, -3, -1,  0, -1, -2, -1, -2],
    [-1,  0,  0,  2, -4,  2,  5, -2,  0, -3, -3,  1, -2, -3, -1,  0, -1, -3, -2, -2],
    [ 0, -2,  0, -1, -3, -2, -2,  6, -2, -4, -4, -2, -3, -3, -2,  0, -2, -2, -3, -3],
    [-2,  0,  1, -1, -3,  0,  0, -2,  8, -3, -3, -1, -2, -1, -2, -1, -2, -2,  2, -3],
    [-1, -3, -3, -3, -1, -3, -3, -4, -3,  4,  2, -3,  1,  0, -3, -2, -1, -3, -1,  3],
    [-1, -2, -3, -4, -1, -2, -3, -4, -3,  2,  4, -2,  2,  0, -3, -2, -1, -2, -1,  1],
    [-1,  2,  0, -1, -3,  1,  1, -2, -1, -3, -2,  5, -1, -3, -1,  0, -1, -3, -2, -2],
    [-1, -1, -2, -3, -1,  0, -2, -3, -2,  1,  2, -1,  5,  0, -2, -1, -1, -1, -1,  1],
    [-2, -3, -3, -3, -2, -3, -3, -3, -1,  0,  0, -3,  0,  6, -4, -2, -2,  1,  3, -1],
    [-1, -2, -2, -1, -3, -1, -1, -2, -2, -3, -3, -1, -2, -4,  7, -1, -1, -4, -3, -2],
    [ 1, -1,  1,  0, -1,  0,  0,  0, -1, -2, -2,  0, -1, -2, -1,  4,  1, -3, -2, -2],
    [ 0, -1,  0, -1, -1, -1, -1, -2, -2, -1, -1, -1, -1, -2, -1,  1,  5, -2, -2,  0],
    [-3, -3, -4, -4, -2, -2, -3, -2, -2, -3, -2, -3, -1,  1, -4, -3, -2, 11,  2, -3],
    [-2, -2, -2, -3, -2, -1, -2, -3,  2, -1, -1, -2, -1,  3, -3, -2, -2,  2,  7, -1],
    [ 0, -3, -3, -3, -1, -2, -2, -3, -3,  3,  1, -2,  1, -1, -2, -2,  0, -3, -1,  4],
];

/// Score of an unknown residue (`X`) against anything (BLOSUM62's usual −1).
const UNKNOWN: i32 = -1;

/// Cost of opening a gap (its first residue); BLAST's default for BLOSUM62.
const GAP_OPEN: i32 = 11;

/// Cost of each further residue of a gap.
const GAP_EXTEND: i32 = 1;

/// A sequence as row indices of [`BLOSUM62`] (20 for an unknown residue).
pub fn encode(sequence: &[u8]) -> Vec<u8> {
    sequence.iter().map(|c| ALPHABET.iter().position(|a| a == &c.to_ascii_uppercase()).unwrap_or(20) as u8).collect()
}

fn substitution(a: u8, b: u8) -> i32 {
    if a >= 20 || b >= 20 {
        UNKNOWN
    } else {
        BLOSUM62[a as usize][b as usize] as i32
    }
}

/// The best local alignment of two encoded sequences.
#[derive(Clone, Debug, PartialEq)]
pub struct Alignment {
    /// Alignment score (BLOSUM62 units).
    pub score: i32,
    /// Aligned residue pairs (index in the first sequence, index in the second), in order.
    pub pairs: Vec<(usize, usize)>,
    /// Pairs of identical residues.
    pub identities: usize,
}

impl Alignment {
    /// Identical residues as a share of the shorter sequence (`len_a`, `len_b`): 1 for a
    /// sequence aligned with a copy of itself or of a longer protein containing it.
    pub fn identity(&self, len_a: usize, len_b: usize) -> f64 {
        self.identities as f64 / len_a.min(len_b).max(1) as f64
    }
}

/// Scores of each residue kind (rows, [`encode`]'s indices 0–20) against each residue of `b`,
/// so that the inner loops read one contiguous row.
fn profile(b: &[u8]) -> Vec<Vec<i32>> {
    (0..=20u8).map(|a| b.iter().map(|&y| substitution(a, y)).collect()).collect()
}

/// Score of the best local alignment, in linear memory (a quick pass before [`align`]).
pub fn local_score(a: &[u8], b: &[u8]) -> i32 {
    fill::<false>(a, b, &mut []).0
}

/// Traceback bits of one cell: where H came from, and whether E and F opened there.
const FROM_DIAGONAL: u8 = 1;
const FROM_E: u8 = 2;
const FROM_F: u8 = 3;
const E_OPENED: u8 = 4;
const F_OPENED: u8 = 8;

/// The best local alignment of two encoded sequences (Smith–Waterman–Gotoh), with its residue
/// pairs; memory is one byte per cell.
pub fn align(a: &[u8], b: &[u8]) -> Alignment {
    let width = b.len() + 1;
    let mut trace = vec![0u8; (a.len() + 1) * width];
    let (score, at) = fill::<true>(a, b, &mut trace);
    let (pairs, identities) = trace_back(&trace, width, at, a, b);
    Alignment { score, pairs, identities }
}

/// The Smith–Waterman–Gotoh recurrence over `a` (rows) and `b` (columns) in linear memory: the
/// best score and its cell (the first one reaching it). With `TRACE`, each cell's traceback
/// bits go into `trace` (row width `b.len() + 1`); without, that bookkeeping is compiled out.
fn fill<const TRACE: bool>(a: &[u8], b: &[u8], trace: &mut [u8]) -> (i32, (usize, usize)) {
    let m = b.len();
    let rows = profile(b);
    let mut h_prev = vec![0i32; m + 1];
    let mut h_row = vec![0i32; m + 1];
    let mut f = vec![i32::MIN / 2; m + 1];
    let (mut best, mut at) = (0, (0, 0));
    for (i, &x) in a.iter().enumerate() {
        let scores = &rows[x.min(20) as usize];
        let mut e = i32::MIN / 2;
        for j in 1..=m {
            let (e_open, e_ext) = (h_row[j - 1] - GAP_OPEN, e - GAP_EXTEND);
            let (f_open, f_ext) = (h_prev[j] - GAP_OPEN, f[j] - GAP_EXTEND);
            e = e_open.max(e_ext);
            f[j] = f_open.max(f_ext);
            let diagonal = h_prev[j - 1] + scores[j - 1];
            let h = diagonal.max(e).max(f[j]).max(0);
            if TRACE {
                let from = if h == 0 { 0 } else if h == diagonal { FROM_DIAGONAL } else if h == e { FROM_E } else { FROM_F };
                let opened = if e_open >= e_ext { E_OPENED } else { 0 } | if f_open >= f_ext { F_OPENED } else { 0 };
                trace[(i + 1) * (m + 1) + j] = from | opened;
            }
            h_row[j] = h;
            if h > best {
                (best, at) = (h, (i + 1, j));
            }
        }
        std::mem::swap(&mut h_prev, &mut h_row);
    }
    (best, at)
}

/// The aligned pairs ending at cell `at` of the traceback matrix (row width `width`), in order,
/// and how many are identical.
fn trace_back(trace: &[u8], width: usize, at: (usize, usize), a: &[u8], b: &[u8]) -> (Vec<(usize, usize)>, usize) {
    enum State {
        H,
        E,
        F,
    }
    let (mut i, mut j) = at;
    let mut state = State::H;
    let mut pairs = Vec::new();
    while i > 0 && j > 0 {
        let bits = trace[i * width + j];
        state = match state {
            State::H => match bits & 3 {
                FROM_DIAGONAL => {
                    pairs.push((i - 1, j - 1));
                    i -= 1;
                    j -= 1;
                    State::H
                }
                FROM_E => State::E,
                FROM_F => State::F,
                _ => break,
            },
            State::E => {
                j -= 1;
                if bits & E_OPENED != 0 { State::H } else { State::E }
            }
            State::F => {
                i -= 1;
                if bits & F_OPENED != 0 { State::H } else { State::F }
            }
        };
    }
    pairs.reverse();
    let identities = pairs.iter().filter(|&&(x, y)| a[x] == b[y] && a[x] < 20).count();
    (pairs, identities)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blosum62_is_symmetric_with_positive_diagonal() {
        for i in 0..20 {
            assert!(BLOSUM62[i][i] > 0);
            for j in 0..20 {
                assert_eq!(BLOSUM62[i][j], BLOSUM62[j][i], "{} {}", ALPHABET[i] as char, ALPHABET[j] as char);
            }
        }
        assert_eq!(BLOSUM62[17][17], 11, "W-W");
        assert_eq!(substitution(encode(b"C")[0], encode(b"C")[0]), 9);
    }

    #[test]
    fn a_sequence_aligns_to_itself_inside_a_longer_one() {
        let a = encode(b"MKTAYIAKQRQISFVKSHFSRQ");
        let b = encode(b"GGGGGMKTAYIAKQRQISFVKSHFSRQPPPP");
        let al = align(&a, &b);
        assert_eq!(al.pairs.len(), a.len());
        assert_eq!(al.pairs[0], (0, 5));
        assert_eq!(al.identities, a.len());
        assert_eq!(al.identity(a.len(), b.len()), 1.0);
        assert_eq!(al.score, local_score(&a, &b));
    }

    #[test]
    fn an_insertion_becomes_a_gap_and_pairs_stay_in_register() {
        let a = encode(b"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ");
        // five residues inserted after position 15
        let b = encode(b"MKTAYIAKQRQISFVKWWWWWSHFSRQLEERLGLIEVQ");
        let al = align(&a, &b);
        assert_eq!(al.score, local_score(&a, &b));
        assert_eq!(al.identities, a.len());
        assert!(al.pairs.contains(&(15, 15)) && al.pairs.contains(&(16, 21)), "{:?}", al.pairs);
        assert!(al.pairs.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1));
    }

    #[test]
    fn unrelated_sequences_align_poorly() {
        let a = encode(b"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ");
        let b = encode(b"PGPGNNGGSSDDPPGGAACCPPGGNNSSTTPPG");
        assert!(local_score(&a, &b) < 20, "{}", local_score(&a, &b));
        assert_eq!(align(&[], &b).pairs, vec![]);
    }
}
