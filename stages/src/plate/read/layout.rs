//! Where the text is on a plate crop: skew angle, text rows, left and right ends.
//!
//! Characters are made of vertical strokes, so the horizontal gradient `|dI/dx|` is strong
//! inside text rows and weak on the plate's ground, its border lines and the bumper. The
//! skew is the angle whose row profile of that energy is sharpest; rows are the runs of
//! the profile above a share of its peak; the ends are found on the column profile.

/// A working image: `w x h` gray values 0-255.
#[derive(Debug, Clone, PartialEq)]
pub struct Work {
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
    /// Pixels, row-major.
    pub px: Vec<f32>,
}

impl Work {
    /// Stroke edges: 1 where `|I(x+1, y) - I(x-1, y)|` passes a quarter of its 95th
    /// percentile, else 0. Counting edges rather than summing gradients keeps a few long
    /// strong lines (the plate's sides, a strip's edge) from outweighing the many short
    /// edges of characters.
    pub fn hgrad(&self) -> Vec<f32> {
        let mut g = vec![0f32; self.w * self.h];
        for y in 0..self.h {
            let row = &self.px[y * self.w..(y + 1) * self.w];
            for x in 1..self.w.saturating_sub(1) {
                g[y * self.w + x] = (row[x + 1] - row[x - 1]).abs();
            }
        }
        let mut sorted = g.clone();
        let k = (sorted.len() * 95 / 100).min(sorted.len().saturating_sub(1));
        let p95 = if sorted.is_empty() {
            0.0
        } else {
            *sorted.select_nth_unstable_by(k, f32::total_cmp).1
        };
        let t = (0.25 * p95).max(4.0);
        g.iter_mut().for_each(|v| *v = if *v >= t { 1.0 } else { 0.0 });
        g
    }
}

/// The angle of the text lines in radians, in image coordinates (positive: falling to the
/// right), among `-max_deg..=max_deg` in half degrees: the shear whose row profile of the
/// horizontal gradient is sharpest.
pub fn skew(work: &Work, grad: &[f32], max_deg: f32) -> f32 {
    let half = work.w as f32 / 2.0;
    let edges: Vec<(f32, f32)> = (0..work.h)
        .flat_map(|y| (0..work.w).map(move |x| (x, y)))
        .filter(|&(x, y)| grad[y * work.w + x] > 0.0)
        .map(|(x, y)| (x as f32 - half, y as f32))
        .collect();
    let off = half + 1.0;
    let n = work.h + work.w + 3;
    let mut rows = vec![0u32; n];
    let mut score = |deg: f32| -> u64 {
        let t = deg.to_radians().tan();
        rows.iter_mut().for_each(|r| *r = 0);
        for &(x, y) in &edges {
            let yy = (y - x * t + off + 0.5).max(0.0) as usize;
            rows[yy.min(n - 1)] += 1;
        }
        rows.iter().map(|&v| u64::from(v) * u64::from(v)).sum()
    };
    // Coarse steps of 1.5 degrees, then half degrees around the best.
    let mut best = (0.0f32, score(0.0));
    let coarse = (max_deg / 1.5).floor() as i32;
    for i in -coarse..=coarse {
        let deg = i as f32 * 1.5;
        let s = score(deg);
        if s > best.1 {
            best = (deg, s);
        }
    }
    let centre = best.0;
    for d in [-1.0, -0.5, 0.5, 1.0] {
        let deg = centre + d;
        let s = score(deg);
        if deg.abs() <= max_deg && s > best.1 {
            best = (deg, s);
        }
    }
    best.0.to_radians()
}

/// A run of rows `[top, bottom)` of the working image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    /// First row.
    pub top: usize,
    /// One past the last row.
    pub bottom: usize,
}

impl Band {
    /// Rows in the band.
    pub fn height(&self) -> usize {
        self.bottom - self.top
    }
}

/// Text rows: runs of the (smoothed) row energy above `level` of its peak, short gaps
/// bridged, and only rows at least `min_share` as tall as the tallest (small print such as
/// a state name or a dealer's line is dropped). Top to bottom.
pub fn rows(work: &Work, grad: &[f32], level: f32, min_share: f32) -> Vec<Band> {
    let profile: Vec<f32> = (0..work.h)
        .map(|y| grad[y * work.w..(y + 1) * work.w].iter().sum())
        .collect();
    let profile = smooth(&profile, 1);
    let peak = profile.iter().copied().fold(0.0, f32::max);
    if peak <= 0.0 {
        return Vec::new();
    }
    let mut bands: Vec<Band> = Vec::new();
    let mut start = None;
    for (y, &v) in profile.iter().chain(std::iter::once(&0.0)).enumerate() {
        match (v >= level * peak, start) {
            (true, None) => start = Some(y),
            (false, Some(s)) => {
                bands.push(Band { top: s, bottom: y });
                start = None;
            }
            _ => {}
        }
    }
    let tallest = bands.iter().map(Band::height).max().unwrap_or(0);
    let gap = (tallest / 8).max(1);
    let mut merged: Vec<Band> = Vec::new();
    for b in bands {
        match merged.last_mut() {
            Some(m) if b.top - m.bottom <= gap => m.bottom = b.bottom,
            _ => merged.push(b),
        }
    }
    for b in &mut merged {
        *b = half_plateau(&profile, *b);
    }
    let tallest = merged.iter().map(Band::height).max().unwrap_or(0);
    merged.retain(|b| b.height() as f32 >= min_share * tallest as f32);
    merged
}

/// Narrows a band to where its profile stays above half its median: the characters'
/// bodies, without the tails of strokes and small print next to them.
fn half_plateau(profile: &[f32], b: Band) -> Band {
    let mut inside: Vec<f32> = profile[b.top..b.bottom].to_vec();
    inside.sort_by(f32::total_cmp);
    let half = 0.5 * inside[inside.len() / 2];
    let top = (b.top..b.bottom).find(|&y| profile[y] >= half).unwrap_or(b.top);
    let bottom = (b.top..b.bottom)
        .rev()
        .find(|&y| profile[y] >= half)
        .map_or(b.bottom, |y| y + 1);
    Band {
        top,
        bottom: bottom.max(top + 1),
    }
}

/// The text's left and right ends `[left, right)` inside `band`: the columns between the
/// first and last stretch whose horizontal gradient energy passes `level` of the typical
/// (median of the non-empty) column.
pub fn ends(work: &Work, grad: &[f32], band: Band, level: f32) -> (usize, usize) {
    let cols: Vec<f32> = (0..work.w)
        .map(|x| (band.top..band.bottom).map(|y| grad[y * work.w + x]).sum())
        .collect();
    let cols = smooth(&cols, (band.height() / 6).max(1));
    let mut sorted: Vec<f32> = cols.iter().copied().filter(|&v| v > 0.0).collect();
    if sorted.is_empty() {
        return (0, work.w);
    }
    sorted.sort_by(f32::total_cmp);
    let typical = sorted[sorted.len() * 3 / 4];
    let on = |v: &f32| *v >= level * typical;
    let left = cols.iter().position(on).unwrap_or(0);
    let right = cols.iter().rposition(on).map_or(work.w, |r| r + 1);
    (left, right.max(left + 1))
}

/// Mean of each value with its `r` neighbours on both sides.
fn smooth(v: &[f32], r: usize) -> Vec<f32> {
    (0..v.len())
        .map(|i| {
            let (a, b) = (i.saturating_sub(r), (i + r + 1).min(v.len()));
            v[a..b].iter().sum::<f32>() / (b - a) as f32
        })
        .collect()
}

/// The share of bright pixels (above Otsu's threshold) around the text: the band grown by
/// a quarter of its height up and down, middle two thirds of `[left, right)` (away from a
/// strip and the frame). Characters cover well under half of a plate, so a share under
/// one half means light text on a dark ground.
pub fn bright_share(work: &Work, band: Band, left: usize, right: usize) -> f32 {
    let span = right.min(work.w).saturating_sub(left);
    let (x0, x1) = (left + span / 6, left + span - span / 6);
    let grow = band.height() / 4;
    let (y0, y1) = (band.top.saturating_sub(grow), (band.bottom + grow).min(work.h));
    let mut hist = [0u32; 256];
    for y in y0..y1 {
        for &v in &work.px[y * work.w + x0..y * work.w + x1] {
            hist[v.clamp(0.0, 255.0) as usize] += 1;
        }
    }
    let t = otsu(&hist);
    let bright: u32 = hist[t + 1..].iter().sum();
    let total: u32 = hist.iter().sum();
    if total == 0 { 1.0 } else { bright as f32 / total as f32 }
}

/// Cuts wide dark blocks off the ends of `[left, right)` in `band` (dark text assumed):
/// the EU country strip, the frame, a bumper edge. A block is a run of columns mostly
/// (`>= 60 %`) darker than the band's Otsu threshold, wider than a third of the band's
/// height (a stroke is about a tenth), that starts near an end.
pub fn trim_blocks(px: &[f32], w: usize, band: Band, left: usize, right: usize) -> (usize, usize) {
    let mut hist = [0u32; 256];
    for y in band.top..band.bottom {
        for &v in &px[y * w + left..y * w + right] {
            hist[v.clamp(0.0, 255.0) as usize] += 1;
        }
    }
    let t = otsu(&hist) as f32;
    let h = band.height() as f32;
    let dark: Vec<bool> = (left..right)
        .map(|x| (band.top..band.bottom).filter(|&y| px[y * w + x] <= t).count() as f32 >= 0.6 * h)
        .collect();
    let min_run = (h / 3.0).ceil() as usize;
    let near = (h / 3.0).ceil() as usize;
    let run_end = |cols: &mut dyn Iterator<Item = (usize, bool)>| -> Option<usize> {
        let (mut start, mut last) = (None, None);
        for (i, d) in cols {
            match (d, start) {
                (true, None) if i <= near => start = Some(i),
                (true, Some(_)) => {}
                (false, Some(s)) => {
                    last = (i - s >= min_run).then_some(i);
                    break;
                }
                (false, None) if i > near => break,
                _ => {}
            }
            last = None;
        }
        last
    };
    let n = dark.len();
    let cut_left = run_end(&mut dark.iter().copied().enumerate()).unwrap_or(0);
    let cut_right = run_end(&mut dark.iter().rev().copied().enumerate()).unwrap_or(0);
    let (l, r) = (left + cut_left, right - cut_right.min(n));
    if r > l + min_run { (l, r) } else { (left, right) }
}

/// Otsu's threshold: pixels `<= t` are one class.
pub fn otsu(hist: &[u32; 256]) -> usize {
    let total: f64 = hist.iter().map(|&c| f64::from(c)).sum();
    let sum: f64 = hist.iter().enumerate().map(|(i, &c)| i as f64 * f64::from(c)).sum();
    let (mut w0, mut s0, mut best, mut t) = (0.0, 0.0, -1.0, 0);
    for (i, &c) in hist.iter().enumerate().take(255) {
        w0 += f64::from(c);
        s0 += i as f64 * f64::from(c);
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let (m0, m1) = (s0 / w0, (sum - s0) / w1);
        let between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if between > best {
            (best, t) = (between, i);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w x h` image of ground `bg` with vertical strokes of `fg` (3 px wide every 8 px)
    /// in rows `[top, bottom)`, text starting at column 20.
    fn strokes(w: usize, h: usize, bg: f32, fg: f32, rows: &[(usize, usize)]) -> Work {
        let mut px = vec![bg; w * h];
        for &(top, bottom) in rows {
            for y in top..bottom {
                for x in (20..w - 20).filter(|x| (x - 20) % 8 < 3) {
                    px[y * w + x] = fg;
                }
            }
        }
        Work { w, h, px }
    }

    #[test]
    fn text_rows_are_found_and_small_print_is_dropped() {
        let two = strokes(200, 64, 220.0, 30.0, &[(8, 26), (34, 52)]);
        let bands = rows(&two, &two.hgrad(), 0.2, 0.55);
        assert_eq!(bands.len(), 2, "{bands:?}");
        assert!(
            bands[0].top.abs_diff(8) <= 2 && bands[1].bottom.abs_diff(52) <= 2,
            "{bands:?}"
        );
        let small = strokes(200, 64, 220.0, 30.0, &[(10, 40), (50, 56)]);
        let bands = rows(&small, &small.hgrad(), 0.2, 0.55);
        assert_eq!(bands.len(), 1, "the 6-row line is small print: {bands:?}");
    }

    #[test]
    fn light_text_on_a_dark_ground_has_a_small_bright_share() {
        let band = Band { top: 10, bottom: 40 };
        let dark_text = strokes(200, 50, 220.0, 30.0, &[(10, 40)]);
        let light_text = strokes(200, 50, 30.0, 220.0, &[(10, 40)]);
        assert!(bright_share(&dark_text, band, 0, 200) > 0.5);
        assert!(bright_share(&light_text, band, 0, 200) < 0.5);
    }

    #[test]
    fn a_dark_block_at_an_end_is_cut_but_a_stroke_is_not() {
        let band = Band { top: 10, bottom: 40 };
        let mut w = strokes(200, 50, 220.0, 30.0, &[(10, 40)]);
        let (l, r) = trim_blocks(&w.px, w.w, band, 0, 200);
        assert_eq!((l, r), (0, 200), "strokes only");
        // A 16 px wide strip (more than a third of the 30-row band) at the left.
        for y in 0..50 {
            w.px[y * 200..y * 200 + 16].fill(20.0);
        }
        let (l, _) = trim_blocks(&w.px, w.w, band, 0, 200);
        assert!((16..=20).contains(&l), "cut at {l}");
    }

    #[test]
    fn the_skew_of_sheared_strokes_is_recovered() {
        let (w, h) = (240, 64);
        let mut px = vec![220.0; w * h];
        let slope = 5f32.to_radians().tan();
        for x in (20..220).filter(|x| (x - 20) % 8 < 3) {
            for y in 20..44 {
                let yy = (y as f32 + (x as f32 - 120.0) * slope).round() as usize;
                px[yy * w + x] = 30.0;
            }
        }
        let work = Work { w, h, px };
        let deg = skew(&work, &work.hgrad(), 15.0).to_degrees();
        assert!((deg - 5.0).abs() <= 0.6, "{deg}");
    }
}
