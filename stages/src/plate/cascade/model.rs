//! The in-memory form of a boosted cascade, laid out like OpenCV's
//! `CascadeClassifierImpl::Data` so that evaluation order and float rounding
//! are the same.

use std::path::Path;

use crate::plate::error::PlateError;

/// The feature family of a cascade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    /// Haar-like rectangle differences (ordered features, thresholds).
    Haar,
    /// Local binary patterns over 3x3 blocks (categorical features, subsets).
    Lbp,
}

/// One weighted rectangle of a Haar feature.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HaarRect {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
    pub weight: f32,
}

/// A Haar feature: up to three weighted rectangles, upright or tilted 45°.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HaarFeature {
    pub rects: [HaarRect; 3],
    pub tilted: bool,
}

/// An LBP feature: the top-left block of a 3x3 grid of `w` x `h` blocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LbpFeature {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

/// A decision-tree node; children > 0 are nodes, <= 0 are leaves (negated).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub feature: usize,
    pub threshold: f32,
    pub left: i32,
    pub right: i32,
}

/// A weak classifier: `node_count` nodes from `first_node`, leaves from `first_leaf`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tree {
    pub first_node: usize,
    pub node_count: usize,
    pub first_leaf: usize,
}

/// A stage: `ntrees` weak classifiers from `first`, accepted when the sum of
/// their leaves is at least `threshold`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stage {
    pub first: usize,
    pub ntrees: usize,
    pub threshold: f32,
}

/// A depth-1 tree, the common case, evaluated without the tree walk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stump {
    pub feature: usize,
    pub threshold: f32,
    pub left: f32,
    pub right: f32,
}

/// A loaded cascade classifier.
#[derive(Debug, Clone)]
pub struct Cascade {
    pub(crate) kind: FeatureKind,
    pub(crate) window: (i32, i32),
    pub(crate) subset_size: usize,
    pub(crate) stages: Vec<Stage>,
    pub(crate) trees: Vec<Tree>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) leaves: Vec<f32>,
    /// `subset_size` words per node (LBP only).
    pub(crate) subsets: Vec<i32>,
    /// Filled when every tree is a stump (OpenCV's `maxNodesPerTree == 1`).
    pub(crate) stumps: Vec<Stump>,
    pub(crate) haar: Vec<HaarFeature>,
    pub(crate) lbp: Vec<LbpFeature>,
}

impl Cascade {
    /// Loads an OpenCV cascade XML file ("new" format, as written by
    /// `opencv_traincascade`).
    pub fn load(path: &Path) -> Result<Self, PlateError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PlateError::cascade(path, format!("cannot read the file: {e}")))?;
        Self::from_xml(&text, path)
    }

    /// Parses cascade XML text; `origin` only names the source in errors.
    pub fn from_xml(text: &str, origin: &Path) -> Result<Self, PlateError> {
        let cascade = super::xml::parse(text, origin)?;
        cascade.validate(origin)?;
        Ok(cascade)
    }

    /// The feature family.
    pub fn kind(&self) -> FeatureKind {
        self.kind
    }

    /// The training window (width, height) in pixels.
    pub fn window_size(&self) -> (u32, u32) {
        (self.window.0.unsigned_abs(), self.window.1.unsigned_abs())
    }

    /// Number of stages.
    pub fn stage_count(&self) -> usize {
        self.stages.len()
    }

    /// True when any Haar feature is tilted (needs the rotated integral).
    pub(crate) fn has_tilted(&self) -> bool {
        self.haar.iter().any(|f| f.tilted)
    }

    /// Builds the stump table when every tree has one node.
    pub(crate) fn build_stumps(&mut self) {
        let max_nodes = self.trees.iter().map(|t| t.node_count).max().unwrap_or(0);
        if max_nodes != 1 {
            self.stumps.clear();
            return;
        }
        self.stumps = self
            .trees
            .iter()
            .map(|t| {
                let node = self.nodes[t.first_node];
                Stump {
                    feature: node.feature,
                    threshold: node.threshold,
                    left: self.leaves[t.first_leaf],
                    right: self.leaves[t.first_leaf + 1],
                }
            })
            .collect();
    }

    /// Checks every index so that evaluation can never go out of bounds or loop.
    fn validate(&self, origin: &Path) -> Result<(), PlateError> {
        let bad = |detail: String| Err(PlateError::cascade(origin, detail));
        let nfeatures = match self.kind {
            FeatureKind::Haar => self.haar.len(),
            FeatureKind::Lbp => self.lbp.len(),
        };
        if self.stages.is_empty() {
            return bad("no stages".into());
        }
        for (ti, tree) in self.trees.iter().enumerate() {
            let count = tree.node_count as i64;
            for local in 0..tree.node_count {
                let node = &self.nodes[tree.first_node + local];
                if node.feature >= nfeatures {
                    return bad(format!("tree {ti} uses feature {} of {nfeatures}", node.feature));
                }
                for child in [node.left, node.right] {
                    let child = i64::from(child);
                    let ok = if child > 0 {
                        child > local as i64 && child < count
                    } else {
                        -child <= count
                    };
                    if !ok {
                        return bad(format!("tree {ti} has an invalid child index {child}"));
                    }
                }
            }
        }
        self.validate_features(origin)
    }

    fn validate_features(&self, origin: &Path) -> Result<(), PlateError> {
        let (ww, wh) = self.window;
        let inside = |x: i32, y: i32, x1: i32, y1: i32| x >= 0 && y >= 0 && x1 <= ww && y1 <= wh;
        for (i, f) in self.lbp.iter().enumerate() {
            if f.w <= 0 || f.h <= 0 || !inside(f.x, f.y, f.x + 3 * f.w, f.y + 3 * f.h) {
                return Err(PlateError::cascade(
                    origin,
                    format!("LBP feature {i} leaves the window"),
                ));
            }
        }
        for (i, f) in self.haar.iter().enumerate() {
            for r in f.rects.iter().filter(|r| r.weight != 0.0) {
                let ok = if f.tilted {
                    inside(r.x - r.h, r.y, r.x + r.w, r.y + r.w + r.h)
                } else {
                    inside(r.x, r.y, r.x + r.w, r.y + r.h)
                };
                if !ok || r.w < 0 || r.h < 0 {
                    return Err(PlateError::cascade(
                        origin,
                        format!("Haar feature {i} leaves the window"),
                    ));
                }
            }
        }
        Ok(())
    }
}
