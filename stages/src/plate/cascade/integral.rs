//! Integral images as OpenCV's `integral(img, sum, sqsum, tilted, CV_32S, CV_32S)`
//! computes them: 32-bit sums that wrap, so that window differences stay exact.

/// Integral planes of one pyramid level, all with row stride `stride`.
#[derive(Debug, Default)]
pub(crate) struct Planes {
    pub sum: Vec<i32>,
    pub sqsum: Vec<i32>,
    pub tilted: Vec<i32>,
}

/// Fills `sum` (and `sqsum` when asked) for a `w` x `h` image; the planes
/// have `h + 1` rows of `stride >= w + 1` entries, row 0 and column 0 zero.
pub(crate) fn upright(img: &[u8], w: usize, h: usize, stride: usize, planes: &mut Planes, squares: bool) {
    // Every entry of rows 0..=h, columns 0..=w is written below (row 0 and
    // column 0 as zeros), so reused buffers need no clearing.
    let len = stride * (h + 1);
    planes.sum.resize(len, 0);
    planes.sum[..w + 1].fill(0);
    if squares {
        planes.sqsum.resize(len, 0);
        planes.sqsum[..w + 1].fill(0);
    }
    for y in 0..h {
        let row = &img[y * w..(y + 1) * w];
        let (prev, cur) = planes.sum.split_at_mut((y + 1) * stride);
        let prev = &prev[y * stride..y * stride + w + 1];
        let cur = &mut cur[..w + 1];
        cur[0] = 0;
        let mut acc = 0i32;
        for x in 0..w {
            acc = acc.wrapping_add(i32::from(row[x]));
            cur[x + 1] = prev[x + 1].wrapping_add(acc);
        }
        if squares {
            let (prev, cur) = planes.sqsum.split_at_mut((y + 1) * stride);
            let prev = &prev[y * stride..y * stride + w + 1];
            let cur = &mut cur[..w + 1];
            cur[0] = 0;
            let mut acc = 0i32;
            for x in 0..w {
                let v = i32::from(row[x]);
                acc = acc.wrapping_add(v * v);
                cur[x + 1] = prev[x + 1].wrapping_add(acc);
            }
        }
    }
}

/// Fills the 45° rotated integral: `T(X, Y) = sum of I(x, y)` over `y < Y`
/// and `|x - X + 1| <= Y - y - 1`, for `0 <= X <= w`, `0 <= Y <= h`.
pub(crate) fn tilted(img: &[u8], w: usize, h: usize, stride: usize, out: &mut Vec<i32>) {
    // Work on a grid padded by h + 1 columns each side so the recurrence
    // T(X,Y) = T(X-1,Y-1) + T(X+1,Y-1) - T(X,Y-2) + I(X-1,Y-1) + I(X-1,Y-2)
    // never leaves it; pixels outside the image are zero.
    let pad = h + 1;
    let gw = w + 1 + 2 * pad;
    let px = |x: isize, y: isize| -> i32 {
        if x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h {
            i32::from(img[y as usize * w + x as usize])
        } else {
            0
        }
    };
    let mut grid = vec![0i32; gw * (h + 1)];
    for y in 1..=h {
        for gx in 1..gw - 1 {
            let x = gx as isize - pad as isize;
            let yi = y as isize;
            let mut v = grid[(y - 1) * gw + gx - 1]
                .wrapping_add(grid[(y - 1) * gw + gx + 1])
                .wrapping_add(px(x - 1, yi - 1))
                .wrapping_add(px(x - 1, yi - 2));
            if y >= 2 {
                v = v.wrapping_sub(grid[(y - 2) * gw + gx]);
            }
            grid[y * gw + gx] = v;
        }
    }
    out.clear();
    out.resize(stride * (h + 1), 0);
    for y in 0..=h {
        out[y * stride..y * stride + w + 1].copy_from_slice(&grid[y * gw + pad..y * gw + pad + w + 1]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: usize, h: usize) -> Vec<u8> {
        (0..w * h).map(|i| ((i * 37 + 11) % 251) as u8).collect()
    }

    #[test]
    fn upright_sums_match_brute_force() {
        let (w, h, stride) = (7, 5, 9);
        let img = image(w, h);
        let mut p = Planes::default();
        upright(&img, w, h, stride, &mut p, true);
        for y in 0..=h {
            for x in 0..=w {
                let mut s = 0i64;
                let mut q = 0i64;
                for yy in 0..y {
                    for xx in 0..x {
                        let v = i64::from(img[yy * w + xx]);
                        s += v;
                        q += v * v;
                    }
                }
                assert_eq!(i64::from(p.sum[y * stride + x]), s);
                assert_eq!(i64::from(p.sqsum[y * stride + x]), q);
            }
        }
    }

    #[test]
    fn tilted_sums_match_the_definition() {
        let (w, h, stride) = (6, 5, 8);
        let img = image(w, h);
        let mut t = Vec::new();
        tilted(&img, w, h, stride, &mut t);
        for yy in 0..=h as i64 {
            for xx in 0..=w as i64 {
                let mut s = 0i64;
                for y in 0..yy {
                    for x in 0..w as i64 {
                        if (x - xx + 1).abs() < yy - y {
                            s += i64::from(img[y as usize * w + x as usize]);
                        }
                    }
                }
                assert_eq!(i64::from(t[yy as usize * stride + xx as usize]), s, "at {xx},{yy}");
            }
        }
    }
}
