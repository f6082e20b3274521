//! Integer rectangles and overlap measures shared by both detectors.

use serde::{Deserialize, Serialize};

/// An axis-aligned rectangle in pixels, (x, y) being the top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Rect {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub const fn new(x: i32, y: i32, width: i32, height: i32) -> Self {
        Rect { x, y, width, height }
    }

    /// Area in pixels (0 for degenerate rectangles).
    pub fn area(&self) -> i64 {
        i64::from(self.width.max(0)) * i64::from(self.height.max(0))
    }

    /// Right edge (exclusive).
    pub fn right(&self) -> i32 {
        self.x + self.width
    }

    /// Bottom edge (exclusive).
    pub fn bottom(&self) -> i32 {
        self.y + self.height
    }

    /// The overlap of two rectangles (empty when they do not meet).
    pub fn intersect(&self, other: &Rect) -> Rect {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = self.right().min(other.right());
        let y1 = self.bottom().min(other.bottom());
        Rect::new(x0, y0, (x1 - x0).max(0), (y1 - y0).max(0))
    }

    /// Intersection over union, in [0, 1].
    pub fn iou(&self, other: &Rect) -> f64 {
        let inter = self.intersect(other).area() as f64;
        let union = self.area() as f64 + other.area() as f64 - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// The rectangle clipped to an image of `width` x `height`.
    pub fn clip(&self, width: u32, height: u32) -> Rect {
        let w = i32::try_from(width).unwrap_or(i32::MAX);
        let h = i32::try_from(height).unwrap_or(i32::MAX);
        let x0 = self.x.clamp(0, w);
        let y0 = self.y.clamp(0, h);
        let x1 = self.right().clamp(0, w);
        let y1 = self.bottom().clamp(0, h);
        Rect::new(x0, y0, x1 - x0, y1 - y0)
    }

    /// Centre point as floating point coordinates.
    pub fn center(&self) -> (f64, f64) {
        (
            f64::from(self.x) + f64::from(self.width) / 2.0,
            f64::from(self.y) + f64::from(self.height) / 2.0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_rects_is_one_and_disjoint_is_zero() {
        let a = Rect::new(10, 10, 20, 10);
        assert!((a.iou(&a) - 1.0).abs() < 1e-12);
        assert_eq!(a.iou(&Rect::new(100, 100, 5, 5)), 0.0);
        let half = Rect::new(20, 10, 20, 10);
        assert!((a.iou(&half) - 100.0 / 300.0).abs() < 1e-12);
    }

    #[test]
    fn clip_keeps_rect_inside_image() {
        let r = Rect::new(-5, 3, 20, 100).clip(10, 50);
        assert_eq!(r, Rect::new(0, 3, 10, 47));
    }
}
