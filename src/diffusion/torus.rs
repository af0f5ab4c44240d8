//! Torsion noise: the wrapped normal distribution on angles, as in DiffDock's `utils/torus.py`.

use std::f64::consts::PI;
use std::sync::OnceLock;

use rand::Rng;
use rand_distr::StandardNormal;

use super::grid::LogGrid;

/// Wraps summed on each side of the principal one.
const WRAPS: i32 = 10;
/// Below this sigma the wrapped normal's expected squared score is `1 / sigma^2` to machine precision.
const SMALL_SIGMA: f64 = 0.25;
/// Sigma grid of the tabulated expected squared score.
const NORM_GRID: LogGrid = LogGrid {
    min: SMALL_SIGMA,
    max: 20.0,
    n: 200,
};
/// Quadrature points on (-pi, pi] for the expected squared score.
const QUADRATURE_POINTS: usize = 2000;

/// Angle `x` wrapped into (-pi, pi].
pub fn wrap(x: f64) -> f64 {
    let y = x.rem_euclid(2.0 * PI);
    if y > PI {
        y - 2.0 * PI
    } else {
        y
    }
}

/// An angle drawn from the wrapped normal with scale `sigma`, in (-pi, pi].
pub fn sample<R: Rng + ?Sized>(sigma: f64, rng: &mut R) -> f64 {
    let z: f64 = rng.sample(StandardNormal);
    wrap(sigma * z)
}

/// Density of the wrapped normal at angle `x` (normalised on (-pi, pi]).
pub fn density(x: f64, sigma: f64) -> f64 {
    let x = wrap(x);
    let sum: f64 = (-WRAPS..=WRAPS)
        .map(|k| (-(x + 2.0 * PI * k as f64).powi(2) / (2.0 * sigma * sigma)).exp())
        .sum();
    sum / (sigma * (2.0 * PI).sqrt())
}

/// Score d/dx log p(x) of the wrapped normal (sum over wraps, stable for small sigma).
pub fn score(x: f64, sigma: f64) -> f64 {
    let x = wrap(x);
    let var = sigma * sigma;
    let shifts = || (-WRAPS..=WRAPS).map(|k| x + 2.0 * PI * k as f64);
    let top = shifts()
        .map(|y| -y * y / (2.0 * var))
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut weight, mut slope) = (0.0, 0.0);
    for y in shifts() {
        let w = (-y * y / (2.0 * var) - top).exp();
        weight += w;
        slope -= w * y / var;
    }
    if weight > 0.0 {
        slope / weight
    } else {
        0.0
    }
}

/// Expected squared score E[score(x)^2] under the wrapped normal: the loss divides squared
/// errors by it (DiffDock's `score_norm`). `1 / sigma^2` for small sigma, tabulated otherwise.
pub fn score_norm(sigma: f64) -> f64 {
    if sigma < SMALL_SIGMA {
        return 1.0 / (sigma * sigma);
    }
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..NORM_GRID.n)
            .map(|i| expected_squared_score(NORM_GRID.at(i)))
            .collect()
    });
    NORM_GRID.interpolate(table, sigma)
}

/// E[score^2] by midpoint quadrature over (-pi, pi].
fn expected_squared_score(sigma: f64) -> f64 {
    let h = 2.0 * PI / QUADRATURE_POINTS as f64;
    (0..QUADRATURE_POINTS)
        .map(|j| {
            let x = -PI + (j as f64 + 0.5) * h;
            density(x, sigma) * score(x, sigma).powi(2) * h
        })
        .sum()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn wrap_lands_in_half_open_interval() {
        assert_eq!(wrap(PI), PI);
        assert!((wrap(-PI) - PI).abs() < 1e-15);
        assert!((wrap(3.0 * PI + 0.1) - (-PI + 0.1)).abs() < 1e-12);
        assert!((wrap(-0.2) + 0.2).abs() < 1e-15);
    }

    #[test]
    fn score_matches_finite_difference_of_log_density() {
        for sigma in [0.05, 0.3, 1.0, 2.5] {
            // skip the far tail where the density itself underflows
            for x in [-3.0, -1.2, -0.01, 0.4, 2.9]
                .into_iter()
                .filter(|&x| density(x, sigma) > 1e-200)
            {
                let h = 1e-5;
                let fd = ((density(x + h, sigma)).ln() - (density(x - h, sigma)).ln()) / (2.0 * h);
                let s = score(x, sigma);
                assert!(
                    (s - fd).abs() < 1e-5 * (1.0 + fd.abs()),
                    "sigma {sigma} x {x}: {s} vs {fd}"
                );
            }
        }
        // far in the tail of a narrow wrapped normal the density underflows, the score does not
        assert!((score(3.0, 0.01) + 30000.0).abs() < 1e-6);
    }

    #[test]
    fn density_is_normalised() {
        for sigma in [0.1, 1.0, 4.0] {
            let n = 4000;
            let h = 2.0 * PI / n as f64;
            let total: f64 = (0..n)
                .map(|j| density(-PI + (j as f64 + 0.5) * h, sigma) * h)
                .sum();
            assert!((total - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn score_norm_is_continuous_and_matches_monte_carlo() {
        let below = score_norm(SMALL_SIGMA * 0.999_999);
        let above = score_norm(SMALL_SIGMA);
        assert!((below / above - 1.0).abs() < 1e-4);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for sigma in [0.5, 1.5, 3.0] {
            let n = 40_000;
            let mc: f64 = (0..n)
                .map(|_| score(sample(sigma, &mut rng), sigma).powi(2))
                .sum::<f64>()
                / n as f64;
            assert!(
                (mc / score_norm(sigma) - 1.0).abs() < 0.05,
                "sigma {sigma}: {mc} vs {}",
                score_norm(sigma)
            );
        }
    }

    #[test]
    fn samples_follow_the_density_chi_square() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for sigma in [0.3, 1.2, 2.5] {
            let (bins, n) = (24, 24_000);
            let mut counts = vec![0usize; bins];
            for _ in 0..n {
                let x = sample(sigma, &mut rng);
                let b = (((x + PI) / (2.0 * PI)) * bins as f64) as usize;
                counts[b.min(bins - 1)] += 1;
            }
            let chi2 = chi_square(
                &counts,
                n,
                |a, b| integrate(|x| density(x, sigma), a, b),
                -PI,
                PI,
            );
            // 23 degrees of freedom: the 0.9999 quantile is about 58
            assert!(chi2 < 58.0, "sigma {sigma}: chi2 {chi2}");
        }
    }

    /// Midpoint-rule integral of `f` on [a, b].
    pub(crate) fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
        let n = 1000;
        let h = (b - a) / n as f64;
        (0..n).map(|j| f(a + (j as f64 + 0.5) * h) * h).sum()
    }

    /// Pearson chi-square of `counts` over equal bins of [lo, hi] against bin probabilities.
    pub(crate) fn chi_square(
        counts: &[usize],
        n: usize,
        prob: impl Fn(f64, f64) -> f64,
        lo: f64,
        hi: f64,
    ) -> f64 {
        let w = (hi - lo) / counts.len() as f64;
        counts
            .iter()
            .enumerate()
            .map(|(b, &c)| {
                let expected = n as f64 * prob(lo + b as f64 * w, lo + (b + 1) as f64 * w);
                (c as f64 - expected).powi(2) / expected.max(1e-12)
            })
            .sum()
    }
}
