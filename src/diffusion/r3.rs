//! Translation noise: isotropic Gaussian in R^3.

use rand::Rng;
use rand_distr::StandardNormal;

use crate::chem::Vec3;

/// A translation drawn from N(0, sigma^2 I).
pub fn sample<R: Rng + ?Sized>(sigma: f64, rng: &mut R) -> Vec3 {
    sigma * standard_normal(rng)
}

/// A 3-vector of independent standard normal draws.
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> Vec3 {
    Vec3::from_fn(|_, _| rng.sample(StandardNormal))
}

/// Score of N(0, sigma^2 I) at translation `x`: `-x / sigma^2`.
pub fn score(x: &Vec3, sigma: f64) -> Vec3 {
    -x / (sigma * sigma)
}

/// Expected squared score per component, `1 / sigma^2`: the loss divides squared errors by it.
pub fn score_norm(sigma: f64) -> f64 {
    1.0 / (sigma * sigma)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn empirical_squared_score_matches_norm() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let sigma = 2.5;
        let n = 20_000;
        let mean: f64 = (0..n)
            .map(|_| score(&sample(sigma, &mut rng), sigma).norm_squared() / 3.0)
            .sum::<f64>()
            / n as f64;
        assert!((mean / score_norm(sigma) - 1.0).abs() < 0.03);
    }
}
