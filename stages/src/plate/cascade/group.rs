//! OpenCV's `groupRectangles`: cluster similar candidates (`partition` with
//! `SimilarRects(eps)`), average each cluster, drop clusters with too few
//! members and clusters nested inside a stronger one.

use crate::plate::geometry::Rect;

fn similar(a: &Rect, b: &Rect, eps: f64) -> bool {
    let delta = eps * f64::from(a.width.min(b.width) + a.height.min(b.height)) * 0.5;
    let d = |u: i32, v: i32| f64::from((u - v).abs()) <= delta;
    d(a.x, b.x) && d(a.y, b.y) && d(a.right(), b.right()) && d(a.bottom(), b.bottom())
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Connected components of the similarity graph; labels numbered in order of
/// first appearance.
fn partition(rects: &[Rect], eps: f64) -> (Vec<usize>, usize) {
    let n = rects.len();
    let mut parent: Vec<usize> = (0..n).collect();
    // Sort indices by x so that only rectangles whose left edges are within
    // the largest possible delta are compared (same result as all pairs).
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| rects[i].x);
    let max_delta = rects
        .iter()
        .map(|r| eps * f64::from(r.width + r.height) * 0.5)
        .fold(0.0, f64::max);
    for (k, &i) in order.iter().enumerate() {
        for &j in &order[k + 1..] {
            if f64::from(rects[j].x - rects[i].x) > max_delta {
                break;
            }
            if similar(&rects[i], &rects[j], eps) {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                if a != b {
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }
    let mut label = vec![usize::MAX; n];
    let mut classes = 0;
    let labels = (0..n)
        .map(|i| {
            let root = find(&mut parent, i);
            if label[root] == usize::MAX {
                label[root] = classes;
                classes += 1;
            }
            label[root]
        })
        .collect();
    (labels, classes)
}

fn round_f32(v: f32) -> i32 {
    v.round_ties_even() as i32
}

/// Groups candidates as OpenCV does; returns each kept cluster's averaged
/// rectangle with its member count (OpenCV's "neighbours").
pub fn group_rectangles(rects: &[Rect], group_threshold: i32, eps: f64) -> Vec<(Rect, i32)> {
    if group_threshold <= 0 || rects.is_empty() {
        return rects.iter().map(|r| (*r, 1)).collect();
    }
    let (labels, nclasses) = partition(rects, eps);
    let mut sums = vec![[0i32; 4]; nclasses];
    let mut counts = vec![0i32; nclasses];
    for (r, &cls) in rects.iter().zip(&labels) {
        let s = &mut sums[cls];
        s[0] = s[0].wrapping_add(r.x);
        s[1] = s[1].wrapping_add(r.y);
        s[2] = s[2].wrapping_add(r.width);
        s[3] = s[3].wrapping_add(r.height);
        counts[cls] += 1;
    }
    let avg: Vec<Rect> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &n)| {
            let k = 1.0f32 / n as f32;
            Rect::new(
                round_f32(s[0] as f32 * k),
                round_f32(s[1] as f32 * k),
                round_f32(s[2] as f32 * k),
                round_f32(s[3] as f32 * k),
            )
        })
        .collect();
    let mut out = Vec::new();
    for i in 0..nclasses {
        let (r1, n1) = (avg[i], counts[i]);
        if n1 <= group_threshold {
            continue;
        }
        let nested = (0..nclasses).any(|j| {
            let (r2, n2) = (avg[j], counts[j]);
            if j == i || n2 <= group_threshold {
                return false;
            }
            let dx = (f64::from(r2.width) * eps).round_ties_even() as i32;
            let dy = (f64::from(r2.height) * eps).round_ties_even() as i32;
            r1.x >= r2.x - dx
                && r1.y >= r2.y - dy
                && r1.right() <= r2.right() + dx
                && r1.bottom() <= r2.bottom() + dy
                && (n2 > 3.max(n1) || n1 < 3)
        });
        if !nested {
            out.push((r1, n1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_are_averaged_and_thin_ones_dropped() {
        let mut rects = vec![
            Rect::new(100, 100, 50, 20),
            Rect::new(102, 101, 50, 20),
            Rect::new(98, 99, 52, 20),
            Rect::new(101, 100, 50, 21),
        ];
        rects.push(Rect::new(300, 300, 50, 20));
        let out = group_rectangles(&rects, 3, 0.2);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1, 4);
        assert_eq!(out[0].0, Rect::new(100, 100, 50, 20)); // 50.5 rounds to even
    }

    #[test]
    fn zero_threshold_returns_candidates_unchanged() {
        let rects = vec![Rect::new(1, 2, 3, 4)];
        assert_eq!(group_rectangles(&rects, 0, 0.2), vec![(rects[0], 1)]);
    }

    #[test]
    fn pruned_partition_equals_all_pairs() {
        let rects: Vec<Rect> = (0..200)
            .map(|i| Rect::new((i * 37) % 180, (i * 53) % 90, 40 + i % 13, 12 + i % 5))
            .collect();
        let (labels, _) = partition(&rects, 0.2);
        for i in 0..rects.len() {
            for j in 0..rects.len() {
                if similar(&rects[i], &rects[j], 0.2) {
                    assert_eq!(labels[i], labels[j]);
                }
            }
        }
    }
}
