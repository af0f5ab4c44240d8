//! Rotation noise: the isotropic Gaussian on SO(3) (IGSO(3)), as in DiffDock's `utils/so3.py`.
//!
//! The density of the rotation angle omega is the series
//! `f(omega) = sum_l (2l+1) exp(-l(l+1) sigma^2) sin((l+1/2) omega) / sin(omega/2)`
//! (times `(1 - cos omega) / pi` for the marginal of the angle). For small sigma the series
//! converges slowly, so there its exact Poisson-summed form (a few Gaussians in omega) is used.
//! Sampling CDFs, scores and score norms are tabulated once, lazily, on a grid of omega and
//! sigma; `save_cache`/`load_cache` keep them in a folder of the user's choice.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rand::Rng;
use rayon::prelude::*;

use super::grid::{lerp, LogGrid};
use crate::chem::Vec3;
use crate::error::{Error, Result};

/// Intervals of the omega grid on [0, pi].
const N_OMEGA: usize = 2000;
/// Sigma grid of the tables (sigmas outside are clamped to it).
const SIGMAS: LogGrid = LogGrid {
    min: 0.01,
    max: 2.0,
    n: 1000,
};
/// From this sigma on the series is summed directly; below it the Poisson form is used.
const SERIES_FROM: f64 = 0.5;
/// File name of the cached tables inside the cache folder.
const CACHE_FILE: &str = "igso3_tables_v1.bin";
/// Magic bytes opening the cache file.
const CACHE_MAGIC: &[u8; 8] = b"IGSO3v1\0";

static TABLES: OnceLock<Tables> = OnceLock::new();

/// IGSO(3) tables over the omega and sigma grids: sampling CDF, angle score and score norm.
#[derive(Clone, Debug, PartialEq)]
pub struct Tables {
    cdf: Vec<f64>,
    score: Vec<f64>,
    norm: Vec<f64>,
}

/// One sigma row of the tables.
struct Row {
    cdf: Vec<f64>,
    score: Vec<f64>,
    norm: f64,
}

impl Tables {
    /// Computes the tables (in parallel over sigma); normally done once, lazily, by this module.
    pub fn build() -> Tables {
        let rows: Vec<Row> = (0..SIGMAS.n)
            .into_par_iter()
            .map(|i| build_row(SIGMAS.at(i)))
            .collect();
        let mut tables = Tables {
            cdf: Vec::new(),
            score: Vec::new(),
            norm: Vec::new(),
        };
        for row in rows {
            tables.cdf.extend(row.cdf);
            tables.score.extend(row.score);
            tables.norm.push(row.norm);
        }
        tables
    }

    fn row(values: &[f64], i: usize) -> &[f64] {
        values
            .get(i * (N_OMEGA + 1)..(i + 1) * (N_OMEGA + 1))
            .unwrap_or(&[])
    }

    fn sample_angle<R: Rng + ?Sized>(&self, sigma: f64, rng: &mut R) -> f64 {
        let cdf = Self::row(&self.cdf, SIGMAS.nearest(sigma));
        let u: f64 = rng.gen();
        let j = cdf.partition_point(|&c| c < u).clamp(1, N_OMEGA);
        let (lo, hi) = (cdf[j - 1], cdf[j]);
        let f = if hi > lo { (u - lo) / (hi - lo) } else { 0.0 };
        omega_at(j - 1) + f.clamp(0.0, 1.0) * (PI / N_OMEGA as f64)
    }

    fn angle_score(&self, sigma: f64, omega: f64) -> f64 {
        let (i, fs) = SIGMAS.position(sigma);
        let x = (omega / PI * N_OMEGA as f64).clamp(0.0, N_OMEGA as f64);
        let j = (x.floor() as usize).min(N_OMEGA - 1);
        let at = |row: usize| lerp(Self::row(&self.score, row), j, x - j as f64);
        at(i) * (1.0 - fs) + at(i + 1) * fs
    }
}

/// The lazily built (or loaded) tables.
fn tables() -> &'static Tables {
    TABLES.get_or_init(Tables::build)
}

/// Omega of grid point `j`.
fn omega_at(j: usize) -> f64 {
    PI * j as f64 / N_OMEGA as f64
}

/// CDF, score and DiffDock score norm of one sigma.
fn build_row(sigma: f64) -> Row {
    let coefficients = if sigma >= SERIES_FROM {
        series_coefficients(sigma)
    } else {
        Vec::new()
    };
    let expansion = |omega| {
        if sigma >= SERIES_FROM {
            Expansion::series(omega, &coefficients)
        } else {
            Expansion::poisson(omega, sigma)
        }
    };
    let mut pdf = vec![0.0; N_OMEGA + 1];
    let mut score = vec![0.0; N_OMEGA + 1];
    for j in 1..=N_OMEGA {
        let parts = expansion(omega_at(j));
        pdf[j] = parts.angle_density();
        score[j] = parts.score();
    }
    let mut cdf = vec![0.0; N_OMEGA + 1];
    for j in 1..=N_OMEGA {
        cdf[j] = cdf[j - 1] + 0.5 * (pdf[j - 1] + pdf[j]);
    }
    let total = cdf[N_OMEGA].max(f64::MIN_POSITIVE);
    cdf.iter_mut().for_each(|c| *c /= total);
    let weight: f64 = pdf.iter().sum();
    let weighted: f64 = pdf.iter().zip(&score).map(|(p, s)| p * s * s).sum();
    Row {
        cdf,
        score,
        norm: weighted / weight.max(f64::MIN_POSITIVE) / PI,
    }
}

/// Coefficients `(2l+1) exp(-l(l+1) sigma^2)` of the series, up to the first negligible one.
fn series_coefficients(sigma: f64) -> Vec<f64> {
    let t = sigma * sigma;
    (0..100_000)
        .map(|l| {
            let l = l as f64;
            (2.0 * l + 1.0) * (-l * (l + 1.0) * t).exp()
        })
        .take_while(|&c| c >= 1e-18)
        .collect()
}

/// The expansion `f(omega) = exp(log_scale) * s / sin(omega/2)` with `ds = d s / d omega` (times
/// the same scale), so that log-derivatives never see underflowing magnitudes.
struct Expansion {
    omega: f64,
    s: f64,
    ds: f64,
    log_scale: f64,
}

impl Expansion {
    fn new(omega: f64, sigma: f64) -> Self {
        if sigma >= SERIES_FROM {
            Self::series(omega, &series_coefficients(sigma))
        } else {
            Self::poisson(omega, sigma)
        }
    }

    /// Direct sum of the series with coefficients from `series_coefficients`; the sines and
    /// cosines of `(l + 1/2) omega` come from the angle-addition recurrence.
    fn series(omega: f64, coefficients: &[f64]) -> Self {
        let (step_sin, step_cos) = omega.sin_cos();
        let (mut sin, mut cos) = (omega / 2.0).sin_cos();
        let (mut s, mut ds) = (0.0, 0.0);
        for (l, c) in coefficients.iter().enumerate() {
            let u = l as f64 + 0.5;
            s += c * sin;
            ds += c * u * cos;
            (sin, cos) = (
                sin * step_cos + cos * step_sin,
                cos * step_cos - sin * step_sin,
            );
        }
        Expansion {
            omega,
            s,
            ds,
            log_scale: 0.0,
        }
    }

    /// Poisson-summed form: `exp(t/4) sqrt(pi) / (2 t^1.5) sum_k (-1)^k y e^{-y^2/4t}`, `y = omega + 2 pi k`.
    fn poisson(omega: f64, sigma: f64) -> Self {
        let t = sigma * sigma;
        let ys = || (-2..=2).map(|k: i32| (k, omega + 2.0 * PI * k as f64));
        let top = ys()
            .map(|(_, y)| -y * y / (4.0 * t))
            .fold(f64::NEG_INFINITY, f64::max);
        let (mut s, mut ds) = (0.0, 0.0);
        for (k, y) in ys() {
            let w = (-y * y / (4.0 * t) - top).exp() * if k % 2 == 0 { 1.0 } else { -1.0 };
            s += w * y;
            ds += w * (1.0 - y * y / (2.0 * t));
        }
        let log_scale = t / 4.0 + 0.5 * PI.ln() - 2f64.ln() - 1.5 * t.ln() + top;
        Expansion {
            omega,
            s,
            ds,
            log_scale,
        }
    }

    /// d/domega log f(omega).
    fn score(&self) -> f64 {
        if self.s.abs() < f64::MIN_POSITIVE {
            return 0.0;
        }
        self.ds / self.s - 0.5 / (self.omega / 2.0).tan()
    }

    /// Marginal density of the angle, `f(omega) (1 - cos omega) / pi`.
    fn angle_density(&self) -> f64 {
        // (1 - cos w) / sin(w/2) = 2 sin(w/2)
        (self.log_scale.exp() * self.s * 2.0 * (self.omega / 2.0).sin() / PI).max(0.0)
    }
}

/// Marginal density of the rotation angle `omega` in [0, pi] under IGSO(3) with `sigma` (direct).
pub fn angle_density(omega: f64, sigma: f64) -> f64 {
    if omega <= 0.0 {
        return 0.0;
    }
    Expansion::new(omega.min(PI), sigma).angle_density()
}

/// Score of the angle, d/domega log f(omega), computed directly (0 at omega = 0).
pub fn angle_score(omega: f64, sigma: f64) -> f64 {
    if omega <= 1e-12 {
        return 0.0;
    }
    Expansion::new(omega.min(PI), sigma).score()
}

/// A rotation vector drawn from IGSO(3): random axis times an angle sampled by inverse CDF.
pub fn sample<R: Rng + ?Sized>(sigma: f64, rng: &mut R) -> Vec3 {
    let omega = tables().sample_angle(sigma, rng);
    random_axis(rng) * omega
}

/// A uniformly distributed unit vector.
pub fn random_axis<R: Rng + ?Sized>(rng: &mut R) -> Vec3 {
    loop {
        let v = super::r3::standard_normal(rng);
        let n = v.norm();
        if n > 1e-9 {
            return v / n;
        }
    }
}

/// Score of IGSO(3) at rotation vector `rotvec`: its axis times d/domega log f (tabulated).
pub fn score_vec(sigma: f64, rotvec: &Vec3) -> Vec3 {
    let omega = rotvec.norm();
    if omega < 1e-12 || !omega.is_finite() {
        return Vec3::zeros();
    }
    rotvec * (tables().angle_score(sigma, omega) / omega)
}

/// DiffDock's rotation normaliser squared: `E[score^2] / pi`; the loss divides squared errors by it.
/// (DiffDock's `so3.score_norm` is the square root of this value; the 1/pi is its convention.)
pub fn score_norm(sigma: f64) -> f64 {
    SIGMAS.interpolate(&tables().norm, sigma)
}

/// Builds the tables now (they are otherwise built on first use).
pub fn precompute() {
    tables();
}

/// Writes the tables (building them if needed) into `dir`, creating it; returns the file path.
pub fn save_cache(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join(CACHE_FILE);
    let t = tables();
    let mut bytes = Vec::with_capacity(64 + 8 * (t.cdf.len() + t.score.len() + t.norm.len()));
    bytes.extend_from_slice(CACHE_MAGIC);
    for value in header().iter().chain(&t.cdf).chain(&t.score).chain(&t.norm) {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

/// Loads tables saved by `save_cache` from `dir`. Returns `false` (and keeps the tables in memory)
/// when they were already built or loaded.
pub fn load_cache(dir: &Path) -> Result<bool> {
    let path = dir.join(CACHE_FILE);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let tables = parse_cache(&bytes)
        .map_err(|m| Error::parse(&path, None, format!("{m}; delete the file to rebuild it")))?;
    Ok(TABLES.set(tables).is_ok())
}

/// Grid parameters stored in the cache header.
fn header() -> [f64; 5] {
    [
        N_OMEGA as f64,
        SIGMAS.n as f64,
        SIGMAS.min,
        SIGMAS.max,
        SERIES_FROM,
    ]
}

/// Decodes a cache file, checking magic, grid and size.
fn parse_cache(bytes: &[u8]) -> std::result::Result<Tables, String> {
    let body = bytes
        .strip_prefix(CACHE_MAGIC.as_slice())
        .ok_or("not an IGSO(3) table cache")?;
    let values: Vec<f64> = body
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    let cells = SIGMAS.n * (N_OMEGA + 1);
    let expected = header().len() + 2 * cells + SIGMAS.n;
    if body.len() % 8 != 0 || values.len() != expected {
        return Err(format!(
            "cache has {} values, expected {expected}",
            values.len()
        ));
    }
    let (head, rest) = values.split_at(header().len());
    if head != header() {
        return Err("cache was built on another grid".into());
    }
    let (cdf, rest) = rest.split_at(cells);
    let (score, norm) = rest.split_at(cells);
    Ok(Tables {
        cdf: cdf.to_vec(),
        score: score.to_vec(),
        norm: norm.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diffusion::torus::tests::{chi_square, integrate};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// DiffDock's plain series with 2000 terms (slow but independent of the module's code paths).
    fn reference_expansion(omega: f64, sigma: f64) -> f64 {
        (0..2000)
            .map(|l| {
                let l = l as f64;
                (2.0 * l + 1.0) * (-l * (l + 1.0) * sigma * sigma).exp() * ((l + 0.5) * omega).sin()
                    / (omega / 2.0).sin()
            })
            .sum()
    }

    #[test]
    fn poisson_form_equals_the_series() {
        for sigma in [0.1, 0.2, 0.35, 0.49, 0.6] {
            for omega in [0.01, 0.1, 0.5, 1.0, 2.0, 3.0] {
                let reference = reference_expansion(omega, sigma) * (1.0 - omega.cos()) / PI;
                let poisson = Expansion::poisson(omega, sigma).angle_density();
                let series = Expansion::series(omega, &series_coefficients(sigma)).angle_density();
                assert!(
                    (poisson - reference).abs() < 1e-9 * (1.0 + reference),
                    "{sigma} {omega}: {poisson} vs {reference}"
                );
                assert!((series - reference).abs() < 1e-9 * (1.0 + reference));
            }
        }
    }

    #[test]
    fn angle_density_is_normalised() {
        for sigma in [0.03, 0.2, 0.8, 1.55] {
            let total = integrate(|w| angle_density(w, sigma), 0.0, PI);
            assert!((total - 1.0).abs() < 1e-3, "sigma {sigma}: {total}");
        }
    }

    #[test]
    fn angle_score_matches_finite_difference() {
        for sigma in [0.05, 0.3, 0.7, 1.5] {
            // the plain series cancels catastrophically far in the tail, so stay within 8 sigma
            for omega in [0.05, 0.4, 1.3, 2.5, 3.1]
                .into_iter()
                .filter(|&w| w <= 8.0 * sigma)
            {
                let h = 1e-6;
                let log_f = |w: f64| reference_expansion(w, sigma).ln();
                let fd = (log_f(omega + h) - log_f(omega - h)) / (2.0 * h);
                let s = angle_score(omega, sigma);
                assert!(
                    (s - fd).abs() < 1e-4 * (1.0 + fd.abs()),
                    "sigma {sigma} omega {omega}: {s} vs {fd}"
                );
            }
        }
    }

    #[test]
    fn tabulated_score_matches_direct_series() {
        for sigma in [0.03, 0.1, 0.5, 1.0, 1.55] {
            for omega in [0.02, 0.3, 1.0, 2.0, 3.0] {
                let v = Vec3::new(1.0, -2.0, 0.5).normalize() * omega;
                let tabulated = score_vec(sigma, &v).dot(&v.normalize());
                let direct = angle_score(omega, sigma);
                assert!(
                    (tabulated - direct).abs() < 2e-3 * (1.0 + direct.abs()),
                    "sigma {sigma} omega {omega}: {tabulated} vs {direct}"
                );
            }
        }
    }

    #[test]
    fn score_norm_matches_diffdock_definition() {
        // E[s^2]/pi by quadrature; small sigma behaves like the 3D Gaussian: E[s^2] ~ 3/(2 sigma^2)
        for sigma in [0.05, 0.3, 1.2] {
            let e = integrate(
                |w| angle_density(w, sigma) * angle_score(w, sigma).powi(2),
                1e-9,
                PI,
            );
            assert!(
                (score_norm(sigma) / (e / PI) - 1.0).abs() < 0.02,
                "sigma {sigma}"
            );
        }
        assert!((score_norm(0.05) * PI * 2.0 * 0.05f64.powi(2) / 3.0 - 1.0).abs() < 0.05);
    }

    #[test]
    fn sampled_angles_follow_the_density_chi_square() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for sigma in [0.1, 0.6, 1.4] {
            let (bins, n) = (20, 20_000);
            let hi = PI.min(12.0 * sigma);
            let mut counts = vec![0usize; bins];
            for _ in 0..n {
                let omega = sample(sigma, &mut rng).norm();
                counts[((omega / hi * bins as f64) as usize).min(bins - 1)] += 1;
            }
            let chi2 = chi_square(
                &counts,
                n,
                |a, b| integrate(|w| angle_density(w, sigma), a, b),
                0.0,
                hi,
            );
            // 19 degrees of freedom: the 0.9999 quantile is about 50
            assert!(chi2 < 50.0, "sigma {sigma}: chi2 {chi2}");
        }
    }

    #[test]
    fn sampled_axes_are_isotropic() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let n = 20_000;
        let mean = (0..n)
            .map(|_| random_axis(&mut rng))
            .fold(Vec3::zeros(), |a, v| a + v)
            / n as f64;
        assert!(mean.norm() < 0.03);
    }

    #[test]
    fn cache_round_trip_and_rejects_garbage() {
        let dir = std::env::temp_dir().join(format!("disco-dock-so3-test-{}", std::process::id()));
        let path = save_cache(&dir).expect("save");
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(&parse_cache(&bytes).expect("parse"), tables());
        assert!(!load_cache(&dir).expect("load")); // already in memory
        std::fs::write(&path, b"nonsense").expect("write");
        assert!(load_cache(&dir).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn build_is_fast_enough() {
        let start = std::time::Instant::now();
        let t = Tables::build();
        assert_eq!(t.norm.len(), SIGMAS.n);
        eprintln!("IGSO(3) tables built in {:?}", start.elapsed());
    }
}
