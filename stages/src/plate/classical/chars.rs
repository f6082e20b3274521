//! Second candidate source: character-like blobs grouped into text lines.
//!
//! A plate is a row of glyphs of one height on a plain background. Blobs of
//! the locally dark (or light) map whose size and fill look like glyphs are
//! linked when they have similar heights, share a baseline and sit close
//! together; chains of three or more become text lines.

use super::components::Blob;

/// A chain of glyph-like blobs.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub chars: Vec<Blob>,
    /// Median glyph height.
    pub hc: f64,
}

impl Line {
    /// Bounding box of the glyphs, `(x0, y0, x1, y1)`.
    pub fn extent(&self) -> (f64, f64, f64, f64) {
        let x0 = self.chars.iter().map(|b| b.x0).min().unwrap_or(0) as f64;
        let y0 = self.chars.iter().map(|b| b.y0).min().unwrap_or(0) as f64;
        let x1 = self.chars.iter().map(|b| b.x1).max().unwrap_or(0) as f64;
        let y1 = self.chars.iter().map(|b| b.y1).max().unwrap_or(0) as f64;
        (x0, y0, x1, y1)
    }
}

/// Blobs whose size, aspect and fill look like a glyph in an image `img_h` high.
pub(crate) fn glyphs(blobs: &[Blob], img_h: usize) -> Vec<Blob> {
    let max_h = (img_h as f64 * 0.4).max(10.0);
    blobs
        .iter()
        .filter(|b| {
            let (w, h) = (b.w() as f64, b.h() as f64);
            h >= 8.0 && h <= max_h && w <= 1.2 * h && w >= 0.08 * h && (0.12..=0.95).contains(&b.fill())
        })
        .copied()
        .collect()
}

fn linked(a: &Blob, b: &Blob) -> bool {
    let (ha, hb) = (a.h() as f64, b.h() as f64);
    let (hmin, hmax) = (ha.min(hb), ha.max(hb));
    if hmax > 1.35 * hmin {
        return false;
    }
    let gap = b.x0 as f64 - a.x1 as f64;
    let overlap_ok = gap >= -0.25 * hmin;
    let near = gap <= 1.4 * hmax;
    let baseline = (a.y1 as f64 - b.y1 as f64).abs() <= 0.3 * hmax;
    let centre = (a.cy() - b.cy()).abs() <= 0.3 * hmax;
    overlap_ok && near && baseline && centre
}

fn find(p: &mut [usize], mut i: usize) -> usize {
    while p[i] != i {
        p[i] = p[p[i]];
        i = p[i];
    }
    i
}

/// Chains of at least `min_chars` linked glyphs, with height outliers removed.
pub(crate) fn lines(glyphs: &[Blob], min_chars: usize) -> Vec<Line> {
    let mut g: Vec<Blob> = glyphs.to_vec();
    g.sort_by_key(|b| (b.x0, b.y0));
    let mut parent: Vec<usize> = (0..g.len()).collect();
    for i in 0..g.len() {
        let reach = g[i].x1 as f64 + 1.4 * 1.35 * g[i].h() as f64;
        for j in i + 1..g.len() {
            if g[j].x0 as f64 > reach {
                break;
            }
            if linked(&g[i], &g[j]) {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: Vec<Vec<Blob>> = vec![Vec::new(); g.len()];
    for (i, blob) in g.iter().enumerate() {
        let r = find(&mut parent, i);
        groups[r].push(*blob);
    }
    groups
        .into_iter()
        .filter(|grp| grp.len() >= min_chars)
        .filter_map(|grp| clean(grp, min_chars))
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Drops glyphs whose height is far from the group's median.
fn clean(group: Vec<Blob>, min_chars: usize) -> Option<Line> {
    let hc = median(group.iter().map(|b| b.h() as f64).collect());
    let chars: Vec<Blob> = group
        .into_iter()
        .filter(|b| (b.h() as f64 - hc).abs() <= 0.25 * hc)
        .collect();
    (chars.len() >= min_chars).then(|| Line {
        hc: median(chars.iter().map(|b| b.h() as f64).collect()),
        chars,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glyph(x: usize, y: usize, w: usize, h: usize) -> Blob {
        Blob {
            x0: x,
            y0: y,
            x1: x + w,
            y1: y + h,
            area: w * h / 2,
        }
    }

    #[test]
    fn a_row_of_glyphs_is_one_line_and_strays_are_not() {
        let mut blobs: Vec<Blob> = (0..6).map(|i| glyph(10 + i * 14, 50, 10, 20)).collect();
        blobs.push(glyph(200, 10, 10, 20));
        blobs.push(glyph(30, 120, 40, 9));
        let g = glyphs(&blobs, 300);
        let lines = lines(&g, 3);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].chars.len(), 6);
        assert!((lines[0].hc - 20.0).abs() < 1e-9);
    }
}
