//! Parser for OpenCV's cascade XML ("new" format written by
//! `opencv_traincascade`: `<cascade><stageType>BOOST</stageType>...`).

use std::path::Path;

use roxmltree::{Document, Node as XmlNode};

use super::model::{Cascade, FeatureKind, HaarFeature, HaarRect, LbpFeature, Node, Stage, Tree};
use crate::plate::error::PlateError;

/// OpenCV subtracts this from every stage threshold when loading.
const THRESHOLD_EPS: f32 = 1e-5;

struct Ctx<'p> {
    origin: &'p Path,
}

impl Ctx<'_> {
    fn err<T>(&self, detail: impl Into<String>) -> Result<T, PlateError> {
        Err(PlateError::cascade(self.origin, detail))
    }

    fn child<'a, 'i>(&self, node: XmlNode<'a, 'i>, name: &str) -> Result<XmlNode<'a, 'i>, PlateError> {
        match find(node, name) {
            Some(n) => Ok(n),
            None => self.err(format!("missing <{name}> in <{}>", node.tag_name().name())),
        }
    }

    fn text<'a>(&self, node: XmlNode<'a, '_>, name: &str) -> Result<&'a str, PlateError> {
        Ok(self.child(node, name)?.text().unwrap_or("").trim())
    }

    fn int(&self, token: &str) -> Result<i32, PlateError> {
        match token.parse::<i64>() {
            Ok(v) => i32::try_from(v).or_else(|_| self.err(format!("integer out of range: {token}"))),
            Err(_) => match token.parse::<f64>() {
                Ok(v) if v.fract() == 0.0 && v.abs() < 2_147_483_648.0 => Ok(v as i32),
                _ => self.err(format!("not an integer: {token:?}")),
            },
        }
    }

    fn real(&self, token: &str) -> Result<f64, PlateError> {
        token
            .parse::<f64>()
            .or_else(|_| self.err(format!("not a number: {token:?}")))
    }
}

fn find<'a, 'i>(node: XmlNode<'a, 'i>, name: &str) -> Option<XmlNode<'a, 'i>> {
    node.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

fn items<'a, 'i>(node: XmlNode<'a, 'i>) -> impl Iterator<Item = XmlNode<'a, 'i>> {
    node.children().filter(|c| c.is_element())
}

/// Parses the XML text of a cascade.
pub(crate) fn parse(text: &str, origin: &Path) -> Result<Cascade, PlateError> {
    let cx = Ctx { origin };
    let doc = match Document::parse(text) {
        Ok(d) => d,
        Err(e) => return cx.err(format!("not well-formed XML: {e}")),
    };
    let storage = doc.root_element();
    let Some(root) = items(storage).next() else {
        return cx.err("empty <opencv_storage>");
    };
    if root.attribute("type_id") == Some("opencv-haar-classifier") || find(root, "stageType").is_none() {
        return cx.err(
            "old-format Haar cascade (opencv-haar-classifier); only the format written by \
             opencv_traincascade is supported",
        );
    }
    if cx.text(root, "stageType")? != "BOOST" {
        return cx.err("stageType is not BOOST");
    }
    let kind = match cx.text(root, "featureType")? {
        "HAAR" => FeatureKind::Haar,
        "LBP" => FeatureKind::Lbp,
        other => return cx.err(format!("unsupported featureType {other}")),
    };
    let width = cx.int(cx.text(root, "width")?)?;
    let height = cx.int(cx.text(root, "height")?)?;
    if width <= 0 || height <= 0 || width > 4096 || height > 4096 {
        return cx.err(format!("invalid window {width}x{height}"));
    }
    let ncat = match find(root, "featureParams").and_then(|p| find(p, "maxCatCount")) {
        Some(n) => cx.int(n.text().unwrap_or("0").trim())?,
        None => 0,
    };
    if !(0..=4096).contains(&ncat) || (kind == FeatureKind::Lbp) != (ncat > 0) {
        return cx.err(format!("maxCatCount {ncat} does not match featureType"));
    }
    let mut cascade = Cascade {
        kind,
        window: (width, height),
        subset_size: (ncat as usize).div_ceil(32),
        stages: Vec::new(),
        trees: Vec::new(),
        nodes: Vec::new(),
        leaves: Vec::new(),
        subsets: Vec::new(),
        stumps: Vec::new(),
        haar: Vec::new(),
        lbp: Vec::new(),
    };
    parse_stages(&cx, cx.child(root, "stages")?, &mut cascade)?;
    parse_features(&cx, cx.child(root, "features")?, &mut cascade)?;
    cascade.build_stumps();
    Ok(cascade)
}

fn parse_stages(cx: &Ctx, stages: XmlNode, c: &mut Cascade) -> Result<(), PlateError> {
    for stage in items(stages) {
        let threshold = cx.real(cx.text(stage, "stageThreshold")?)? as f32 - THRESHOLD_EPS;
        let first = c.trees.len();
        for weak in items(cx.child(stage, "weakClassifiers")?) {
            parse_weak(cx, weak, c)?;
        }
        let ntrees = c.trees.len() - first;
        if ntrees == 0 {
            return cx.err(format!("stage {} has no weak classifiers", c.stages.len()));
        }
        c.stages.push(Stage {
            first,
            ntrees,
            threshold,
        });
    }
    Ok(())
}

/// One weak classifier: `internalNodes` (left, right, feature, threshold or
/// category subset, per node) and `leafValues`.
fn parse_weak(cx: &Ctx, weak: XmlNode, c: &mut Cascade) -> Result<(), PlateError> {
    let node_step = 3 + if c.subset_size > 0 { c.subset_size } else { 1 };
    let internal: Vec<&str> = cx.text(weak, "internalNodes")?.split_ascii_whitespace().collect();
    let leaves: Vec<&str> = cx.text(weak, "leafValues")?.split_ascii_whitespace().collect();
    let node_count = internal.len() / node_step;
    if node_count == 0 || !internal.len().is_multiple_of(node_step) || leaves.len() != node_count + 1 {
        return cx.err(format!("malformed weak classifier in stage {}", c.stages.len()));
    }
    c.trees.push(Tree {
        first_node: c.nodes.len(),
        node_count,
        first_leaf: c.leaves.len(),
    });
    for chunk in internal.chunks(node_step) {
        let feature = cx.int(chunk[2])?;
        let threshold = if c.subset_size > 0 {
            for word in &chunk[3..] {
                c.subsets.push(cx.int(word)?);
            }
            0.0
        } else {
            cx.real(chunk[3])? as f32
        };
        c.nodes.push(Node {
            feature: usize::try_from(feature).or_else(|_| cx.err("negative feature index"))?,
            threshold,
            left: cx.int(chunk[0])?,
            right: cx.int(chunk[1])?,
        });
    }
    for leaf in leaves {
        c.leaves.push(cx.real(leaf)? as f32);
    }
    Ok(())
}

fn parse_features(cx: &Ctx, features: XmlNode, c: &mut Cascade) -> Result<(), PlateError> {
    for feature in items(features) {
        match c.kind {
            FeatureKind::Lbp => {
                let v = ints(cx, cx.text(feature, "rect")?)?;
                let [x, y, w, h] = v[..] else {
                    return cx.err("LBP <rect> needs 4 integers");
                };
                c.lbp.push(LbpFeature { x, y, w, h });
            }
            FeatureKind::Haar => c.haar.push(parse_haar(cx, feature)?),
        }
    }
    Ok(())
}

fn parse_haar(cx: &Ctx, feature: XmlNode) -> Result<HaarFeature, PlateError> {
    let mut out = HaarFeature::default();
    for (i, rect) in items(cx.child(feature, "rects")?).enumerate() {
        let tokens: Vec<&str> = rect.text().unwrap_or("").split_ascii_whitespace().collect();
        if i >= 3 || tokens.len() != 5 {
            return cx.err("a Haar feature has at most 3 rects of 5 numbers");
        }
        out.rects[i] = HaarRect {
            x: cx.int(tokens[0])?,
            y: cx.int(tokens[1])?,
            w: cx.int(tokens[2])?,
            h: cx.int(tokens[3])?,
            weight: cx.real(tokens[4])? as f32,
        };
    }
    out.tilted = match find(feature, "tilted") {
        Some(t) => cx.int(t.text().unwrap_or("0").trim())? != 0,
        None => false,
    };
    Ok(out)
}

fn ints(cx: &Ctx, text: &str) -> Result<Vec<i32>, PlateError> {
    text.split_ascii_whitespace().map(|t| cx.int(t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LBP: &str = r#"<?xml version="1.0"?>
<opencv_storage><cascade>
  <stageType>BOOST</stageType><featureType>LBP</featureType>
  <height>6</height><width>9</width>
  <featureParams><maxCatCount>256</maxCatCount></featureParams>
  <stageNum>1</stageNum>
  <stages><_>
    <maxWeakCount>1</maxWeakCount><stageThreshold>-0.5</stageThreshold>
    <weakClassifiers><_>
      <internalNodes>0 -1 0 -1 -1 -1 -1 -1 -1 -1 -1</internalNodes>
      <leafValues>-1. 1.</leafValues></_></weakClassifiers></_></stages>
  <features><_><rect>0 0 3 2</rect></_></features>
</cascade></opencv_storage>"#;

    #[test]
    fn parses_a_minimal_lbp_cascade() {
        let c = Cascade::from_xml(LBP, Path::new("mini.xml")).expect("valid cascade");
        assert_eq!(c.kind(), FeatureKind::Lbp);
        assert_eq!(c.window_size(), (9, 6));
        assert_eq!(c.stumps.len(), 1);
        assert_eq!(c.subsets.len(), 8);
        assert_eq!(c.stages[0].threshold, -0.5f32 - 1e-5f32);
    }

    #[test]
    fn rejects_features_outside_the_window() {
        let bad = LBP.replace("<rect>0 0 3 2</rect>", "<rect>1 0 3 2</rect>");
        let err = Cascade::from_xml(&bad, Path::new("bad.xml")).expect_err("must fail");
        assert!(err.to_string().contains("leaves the window"), "{err}");
    }

    #[test]
    fn rejects_old_format_and_garbage() {
        let old = r#"<opencv_storage><c type_id="opencv-haar-classifier"><size>20 20</size></c></opencv_storage>"#;
        assert!(Cascade::from_xml(old, Path::new("old.xml")).is_err());
        assert!(Cascade::from_xml("<not xml", Path::new("x.xml")).is_err());
    }
}
