//! Spatial helpers for the scoring function: a regular grid with trilinear interpolation and a
//! cell list for neighbour queries.

use crate::chem::Vec3;

/// Values on a regular 3D lattice, interpolated trilinearly (value and gradient).
#[derive(Clone, Debug)]
pub(crate) struct Grid {
    /// Position of lattice point (0, 0, 0).
    origin: Vec3,
    /// Lattice spacing in Å.
    spacing: f64,
    /// Number of points along x, y, z (each at least 2).
    dims: [usize; 3],
    /// Values, x slowest, z fastest.
    values: Vec<f32>,
}

impl Grid {
    /// A grid from its values (x slowest, z fastest); `None` unless each dimension has at least two
    /// points and the value count matches.
    pub(crate) fn from_values(origin: Vec3, spacing: f64, dims: [usize; 3], values: Vec<f32>) -> Option<Self> {
        let ok = dims.iter().all(|&d| d >= 2) && values.len() == dims.iter().product::<usize>();
        ok.then_some(Grid { origin, spacing, dims, values })
    }

    /// Corner of the grid opposite to the origin.
    pub(crate) fn upper(&self) -> Vec3 {
        self.origin + Vec3::new(self.dims[0] as f64 - 1.0, self.dims[1] as f64 - 1.0, self.dims[2] as f64 - 1.0) * self.spacing
    }

    /// Nearest point of the grid's box to `p` (p itself when inside).
    pub(crate) fn clamp(&self, p: &Vec3) -> Vec3 {
        let hi = self.upper();
        Vec3::new(p.x.clamp(self.origin.x, hi.x), p.y.clamp(self.origin.y, hi.y), p.z.clamp(self.origin.z, hi.z))
    }

    fn at(&self, i: usize, j: usize, k: usize) -> f64 {
        self.values[(i * self.dims[1] + j) * self.dims[2] + k] as f64
    }

    /// Trilinear interpolation at `p` (clamped into the grid): value and gradient.
    pub(crate) fn interpolate(&self, p: &Vec3) -> (f64, Vec3) {
        let q = (self.clamp(p) - self.origin) / self.spacing;
        let mut cell = [0usize; 3];
        let mut frac = [0f64; 3];
        for a in 0..3 {
            let i = (q[a].floor() as usize).min(self.dims[a] - 2);
            cell[a] = i;
            frac[a] = q[a] - i as f64;
        }
        let [i, j, k] = cell;
        let [fx, fy, fz] = frac;
        let mut value = 0.0;
        let mut grad = Vec3::zeros();
        for (di, wx, dwx) in [(0, 1.0 - fx, -1.0), (1, fx, 1.0)] {
            for (dj, wy, dwy) in [(0, 1.0 - fy, -1.0), (1, fy, 1.0)] {
                for (dk, wz, dwz) in [(0, 1.0 - fz, -1.0), (1, fz, 1.0)] {
                    let c = self.at(i + di, j + dj, k + dk);
                    value += c * wx * wy * wz;
                    grad += c * Vec3::new(dwx * wy * wz, wx * dwy * wz, wx * wy * dwz);
                }
            }
        }
        (value, grad / self.spacing)
    }
}

/// Indices of the lattice points `origin + k h`, `k < n`, within `reach` of `centre`.
pub(crate) fn lattice_range(centre: f64, reach: f64, origin: f64, h: f64, n: usize) -> std::ops::Range<usize> {
    let lo = ((centre - reach - origin) / h).ceil().max(0.0);
    let hi = ((centre + reach - origin) / h).floor() + 1.0;
    let hi = hi.clamp(0.0, n as f64);
    lo.min(hi) as usize..hi as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trilinear_reproduces_linear_functions() {
        let f = |p: Vec3| 2.0 * p.x - 3.0 * p.y + 0.5 * p.z + 1.0;
        let (origin, dims) = (Vec3::new(-1.0, 0.0, 2.0), [5, 6, 7]);
        let mut values = Vec::new();
        for i in 0..dims[0] {
            for j in 0..dims[1] {
                for k in 0..dims[2] {
                    values.push(f(origin + Vec3::new(i as f64, j as f64, k as f64) * 0.5) as f32);
                }
            }
        }
        let grid = Grid::from_values(origin, 0.5, dims, values).unwrap();
        let p = Vec3::new(0.3, 1.1, 3.7);
        let (v, g) = grid.interpolate(&p);
        assert!((v - f(p)).abs() < 1e-5);
        assert!((g - Vec3::new(2.0, -3.0, 0.5)).norm() < 1e-5);
    }
}
