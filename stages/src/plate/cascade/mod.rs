//! A pure-Rust evaluator of OpenCV cascade classifiers ("new" XML format,
//! HAAR and LBP features, stumps and trees) with the multi-scale sliding
//! window and rectangle grouping of OpenCV's `detectMultiScale`.
//!
//! ```text
//! gray image ─► for each scale: bit-exact bilinear resize ─► integral images
//!            ─► slide the window (step 2 below scale 2, else 1) ─► stages
//!            ─► candidates in original pixels ─► groupRectangles(min_neighbors, 0.2)
//! ```

mod codemap;
mod detect;
mod evaluate;
mod features;
mod group;
mod integral;
mod model;
mod resize;
mod xml;

pub use detect::{MultiScale, ScanStats};
pub use group::group_rectangles;
pub use model::{Cascade, FeatureKind};
pub use resize::resize_linear_exact;
