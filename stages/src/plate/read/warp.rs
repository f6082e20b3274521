//! Resampling: an affine map from output to source pixels with bilinear interpolation,
//! used to cut a (rotated) plate out of the photo at the network's line height.

use crate::plate::gray::Gray;

/// Maps output pixel (u, v) to the source point `(x0 + u*ux + v*vx, y0 + u*uy + v*vy)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// Source point of output (0, 0).
    pub origin: (f32, f32),
    /// Source step for one output column.
    pub du: (f32, f32),
    /// Source step for one output row.
    pub dv: (f32, f32),
}

impl Affine {
    /// An upright box `(x, y, w, h)` of the source scaled to `out_w x out_h`.
    pub fn scale(x: f32, y: f32, w: f32, h: f32, out_w: usize, out_h: usize) -> Self {
        let (sx, sy) = (w / out_w.max(1) as f32, h / out_h.max(1) as f32);
        Affine {
            origin: (x + 0.5 * sx - 0.5, y + 0.5 * sy - 0.5),
            du: (sx, 0.0),
            dv: (0.0, sy),
        }
    }

    /// A box of size `w x h` centred on `(cx, cy)` and rotated by `angle` radians
    /// (clockwise in image coordinates), scaled to `out_w x out_h`.
    pub fn rotated(cx: f32, cy: f32, w: f32, h: f32, angle: f32, out_w: usize, out_h: usize) -> Self {
        let (sx, sy) = (w / out_w.max(1) as f32, h / out_h.max(1) as f32);
        let (s, c) = angle.sin_cos();
        let du = (c * sx, s * sx);
        let dv = (-s * sy, c * sy);
        // Output centre maps to (cx, cy); pixel centres at half steps.
        let (hu, hv) = (out_w as f32 / 2.0 - 0.5, out_h as f32 / 2.0 - 0.5);
        Affine {
            origin: (cx - hu * du.0 - hv * dv.0 - 0.5, cy - hu * du.1 - hv * dv.1 - 0.5),
            du,
            dv,
        }
    }
}

/// Samples `out_w x out_h` pixels (0-255 as f32); outside the source the border is repeated.
pub fn warp(src: &Gray, map: &Affine, out_w: usize, out_h: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(out_w * out_h);
    if src.w == 0 || src.h == 0 {
        out.resize(out_w * out_h, 0.0);
        return out;
    }
    let (mx, my) = ((src.w - 1) as f32, (src.h - 1) as f32);
    for v in 0..out_h {
        let (rx, ry) = (map.origin.0 + v as f32 * map.dv.0, map.origin.1 + v as f32 * map.dv.1);
        for u in 0..out_w {
            let x = (rx + u as f32 * map.du.0).clamp(0.0, mx);
            let y = (ry + u as f32 * map.du.1).clamp(0.0, my);
            out.push(bilinear(src, x, y));
        }
    }
    out
}

#[inline]
fn bilinear(src: &Gray, x: f32, y: f32) -> f32 {
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(src.w - 1), (y0 + 1).min(src.h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |xx: usize, yy: usize| f32::from(src.px[yy * src.w + xx]);
    let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
    let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp() -> Gray {
        let (w, h) = (8, 4);
        Gray {
            w,
            h,
            px: (0..w * h).map(|i| ((i % w) * 10) as u8).collect(),
        }
    }

    #[test]
    fn scaling_the_whole_image_by_one_is_the_identity() {
        let g = ramp();
        let out = warp(&g, &Affine::scale(0.0, 0.0, 8.0, 4.0, 8, 4), 8, 4);
        let back: Vec<u8> = out.iter().map(|v| v.round() as u8).collect();
        assert_eq!(back, g.px);
    }

    #[test]
    fn a_half_turn_mirrors_the_ramp() {
        let g = ramp();
        let out = warp(
            &g,
            &Affine::rotated(4.0, 2.0, 8.0, 4.0, std::f32::consts::PI, 8, 4),
            8,
            4,
        );
        assert!((out[0] - 70.0).abs() < 1e-3, "{}", out[0]);
        assert!((out[7] - 0.0).abs() < 1e-3, "{}", out[7]);
    }
}
