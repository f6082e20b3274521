//! First candidate source: dense vertical edges.
//!
//! Glyph strokes make many strong vertical edges close together. Strong
//! `|Sobel_x|` pixels are closed horizontally (bridging the gaps between
//! strokes and glyphs), opened vertically (dropping thin horizontal
//! structures), and the connected regions with a plate-like shape are kept.

use super::binary::{Bitmap, close_h_open_v, vertical_edges};
use super::components::{Blob, components};
use crate::plate::gray::Gray;

/// Edge regions shaped like plates, as `(x0, y0, x1, y1)` boxes.
pub(crate) fn edge_regions(g: &Gray) -> Vec<(f64, f64, f64, f64)> {
    let edges = vertical_edges(g, 0.90, 40);
    let mut out = Vec::new();
    // Two closing widths: small for small plates, wider for large ones.
    for (rx, ry) in [(3usize, 2usize), (7, 3)] {
        let closed = close_h_open_v(&edges, rx, ry);
        for b in components(&closed, g.w * g.h / 8) {
            if plate_shaped(&b, g) && dense(&edges, &b) {
                // Closing grows the region by up to rx on each side.
                let pad = rx as f64 * 0.5;
                out.push((b.x0 as f64 + pad, b.y0 as f64, b.x1 as f64 - pad, b.y1 as f64));
            }
        }
    }
    out
}

fn plate_shaped(b: &Blob, g: &Gray) -> bool {
    let (w, h) = (b.w() as f64, b.h() as f64);
    let aspect = w / h.max(1.0);
    h >= 8.0
        && h <= 0.35 * g.h as f64
        && w >= 24.0
        && w <= 0.9 * g.w as f64
        && (1.5..=9.0).contains(&aspect)
        && b.fill() >= 0.45
}

/// At least 12% of the box's pixels are raw edge pixels.
fn dense(edges: &Bitmap, b: &Blob) -> bool {
    let mut n = 0usize;
    for y in b.y0..b.y1 {
        n += edges.on[y * edges.w + b.x0..y * edges.w + b.x1]
            .iter()
            .map(|&v| usize::from(v))
            .sum::<usize>();
    }
    n as f64 >= 0.12 * (b.w() * b.h()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn striped_band_becomes_one_region() {
        let mut g = Gray::filled(200, 120, 128);
        for y in 50..70 {
            for x in 40..140 {
                if (x / 4) % 2 == 0 {
                    g.px[y * 200 + x] = 20;
                } else {
                    g.px[y * 200 + x] = 230;
                }
            }
        }
        let regions = edge_regions(&g);
        assert!(
            regions.iter().any(|&(x0, y0, x1, y1)| (x0 - 40.0).abs() < 8.0
                && (x1 - 140.0).abs() < 8.0
                && (y0 - 50.0).abs() < 6.0
                && (y1 - 70.0).abs() < 6.0),
            "{regions:?}"
        );
    }
}
