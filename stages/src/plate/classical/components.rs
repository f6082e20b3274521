//! 8-connected components of a bitmap, with their bounding boxes.

use super::binary::Bitmap;

/// A connected component: bounding box `[x0, x1) x [y0, y1)` and pixel count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Blob {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
    pub area: usize,
}

impl Blob {
    pub fn w(&self) -> usize {
        self.x1 - self.x0
    }

    pub fn h(&self) -> usize {
        self.y1 - self.y0
    }

    pub fn fill(&self) -> f64 {
        self.area as f64 / (self.w() * self.h()).max(1) as f64
    }

    pub fn cx(&self) -> f64 {
        (self.x0 + self.x1) as f64 / 2.0
    }

    pub fn cy(&self) -> f64 {
        (self.y0 + self.y1) as f64 / 2.0
    }
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Appends the runs of set pixels of `row` as `(y, x0, x1)`.
fn row_runs(row: &[u8], y: usize, runs: &mut Vec<(usize, usize, usize)>) {
    let mut x = 0;
    while x < row.len() {
        if row[x] == 0 {
            x += 1;
            continue;
        }
        let x0 = x;
        while x < row.len() && row[x] != 0 {
            x += 1;
        }
        runs.push((y, x0, x));
    }
}

/// Labels the set pixels of `b` (8-connectivity) by joining horizontal runs
/// that touch runs of the row above; components larger than `max_area`
/// pixels are dropped. Components come in row-major order of their first pixel.
pub(crate) fn components(b: &Bitmap, max_area: usize) -> Vec<Blob> {
    // (y, x0, x1) runs, row by row, left to right.
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut prev = 0..0;
    for y in 0..b.h {
        let start = runs.len();
        row_runs(&b.on[y * b.w..(y + 1) * b.w], y, &mut runs);
        parent.extend(start..runs.len());
        // Join with touching runs of the previous row (two pointers).
        let mut p = prev.start;
        for r in start..runs.len() {
            let (_, x0, x1) = runs[r];
            while p < prev.end && runs[p].2 < x0 {
                p += 1;
            }
            let mut q = p;
            while q < prev.end && runs[q].1 <= x1 {
                let (a, c) = (find(&mut parent, r), find(&mut parent, q));
                if a != c {
                    parent[a.max(c)] = a.min(c);
                }
                q += 1;
            }
        }
        prev = start..runs.len();
    }
    let mut slot = vec![usize::MAX; runs.len()];
    let mut out: Vec<Blob> = Vec::new();
    for (i, &(y, x0, x1)) in runs.iter().enumerate() {
        let root = find(&mut parent, i);
        if slot[root] == usize::MAX {
            slot[root] = out.len();
            out.push(Blob {
                x0,
                y0: y,
                x1,
                y1: y + 1,
                area: 0,
            });
        }
        let blob = &mut out[slot[root]];
        blob.x0 = blob.x0.min(x0);
        blob.x1 = blob.x1.max(x1);
        blob.y1 = blob.y1.max(y + 1);
        blob.area += x1 - x0;
    }
    out.retain(|b| b.area <= max_area);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_separate_and_diagonal_components() {
        let mut b = Bitmap::new(6, 4);
        for &(x, y) in &[(0, 0), (1, 1), (4, 0), (4, 1), (5, 3)] {
            b.on[y * 6 + x] = 1;
        }
        let blobs = components(&b, usize::MAX);
        assert_eq!(blobs.len(), 3);
        assert_eq!(
            blobs[0],
            Blob {
                x0: 0,
                y0: 0,
                x1: 2,
                y1: 2,
                area: 2
            }
        );
        assert_eq!(blobs[1].area, 2);
    }
}
