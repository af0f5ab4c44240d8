//! A log-spaced grid of sigma values shared by the tabulated densities (IGSO(3), wrapped normal).

/// `n` sigma values spaced evenly in log between `min` and `max`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LogGrid {
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl LogGrid {
    /// The `i`-th sigma of the grid.
    pub fn at(&self, i: usize) -> f64 {
        let f = i as f64 / (self.n.max(2) - 1) as f64;
        (self.min.ln() * (1.0 - f) + self.max.ln() * f).exp()
    }

    /// Lower index and fraction towards the next one for `sigma`, clamped to the grid (NaN -> 0).
    pub fn position(&self, sigma: f64) -> (usize, f64) {
        let last = (self.n.max(2) - 1) as f64;
        let x = (sigma.ln() - self.min.ln()) / (self.max.ln() - self.min.ln()) * last;
        let x = x.max(0.0).min(last); // max/min also map NaN to the grid
        let i = (x.floor() as usize).min(self.n.saturating_sub(2));
        (i, x - i as f64)
    }

    /// Index of the grid value nearest to `sigma` (in log).
    pub fn nearest(&self, sigma: f64) -> usize {
        let (i, f) = self.position(sigma);
        if f > 0.5 {
            i + 1
        } else {
            i
        }
    }

    /// Linear interpolation in log-sigma of `values` (one per grid point).
    pub fn interpolate(&self, values: &[f64], sigma: f64) -> f64 {
        let (i, f) = self.position(sigma);
        lerp(values, i, f)
    }
}

/// `values[i] * (1 - f) + values[i + 1] * f`, with missing entries read as the last one.
pub(crate) fn lerp(values: &[f64], i: usize, f: f64) -> f64 {
    let get = |k: usize| values.get(k).or(values.last()).copied().unwrap_or(0.0);
    get(i) * (1.0 - f) + get(i + 1) * f
}
