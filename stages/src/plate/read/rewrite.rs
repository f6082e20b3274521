//! Rewrites of the recogniser's ONNX graph before tract loads it: idioms of exporters such as
//! paddle2onnx that tract runs slowly or cannot follow with a symbolic width, replaced by
//! equivalent forms. Each rewrite keeps the function the graph computes.

use std::collections::HashMap;

use tract_onnx::pb::{GraphProto, NodeProto, TensorProto};

/// ONNX `TensorProto.DataType` codes.
const ONNX_FLOAT: i32 = 1;
const ONNX_INT32: i64 = 6;
const ONNX_INT64: i64 = 7;

/// Exporters compute reshape targets as `Shape -> Cast(int32) -> ... -> Cast(int64)`; tract
/// follows a symbolic dimension through int64 shape arithmetic but not through int32, so such
/// casts of a `Shape` output are made to int64 (shapes fit either). Returns how many were
/// changed. A graph this breaks is typed per width instead (see `model.rs`).
pub fn widen_shape_casts(graph: &mut GraphProto) -> usize {
    let shapes: Vec<String> = graph
        .node
        .iter()
        .filter(|n| n.op_type == "Shape")
        .flat_map(|n| n.output.iter().cloned())
        .collect();
    let mut changed = 0;
    for node in graph.node.iter_mut() {
        if node.op_type != "Cast" || !node.input.first().is_some_and(|i| shapes.contains(i)) {
            continue;
        }
        for a in node
            .attribute
            .iter_mut()
            .filter(|a| a.name == "to" && a.i == ONNX_INT32)
        {
            a.i = ONNX_INT64;
            changed += 1;
        }
    }
    changed
}

/// Hard-swish written out as `Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)` becomes one
/// `HardSwish(x)` node (ONNX's: `x * clip(x / 6 + 1/2, 0, 1)`, the same function), which
/// tract runs as one vectorised pass over the tensor instead of four. Only chains whose
/// intermediate values are used nowhere else are folded. Returns how many were.
pub fn fold_hard_swish(graph: &mut GraphProto) -> usize {
    let g = Uses::of(graph);
    let folds: Vec<(usize, String, [usize; 3])> = graph
        .node
        .iter()
        .enumerate()
        .filter_map(|(clip, _)| hard_swish_at(graph, &g, clip))
        .collect();
    let mut dropped = vec![false; graph.node.len()];
    for (div, x, chain) in &folds {
        let node = &mut graph.node[*div];
        node.op_type = "HardSwish".into();
        node.input = vec![x.clone()];
        node.attribute.clear();
        chain.iter().for_each(|&i| dropped[i] = true);
    }
    let mut i = 0;
    graph.node.retain(|_| {
        i += 1;
        !dropped[i - 1]
    });
    folds.len()
}

/// The hard-swish chain around the `Clip` node at `clip`: the `Div` ending it, `x`, and the
/// `Add`, `Clip` and `Mul` nodes it replaces.
fn hard_swish_at(graph: &GraphProto, g: &Uses, clip: usize) -> Option<(usize, String, [usize; 3])> {
    let node = |i: usize| &graph.node[i];
    let c = node(clip);
    if c.op_type != "Clip" || !clip_bounds(c, g, 0.0, 6.0) {
        return None;
    }
    let add = *g.producer.get(c.input.first()?)?;
    let x = match node(add) {
        a if a.op_type != "Add" || a.input.len() != 2 => return None,
        a if g.is_scalar(&a.input[1], 3.0) => a.input[0].clone(),
        a if g.is_scalar(&a.input[0], 3.0) => a.input[1].clone(),
        _ => return None,
    };
    if g.sole_user(node(add)) != Some(clip) {
        return None;
    }
    let mul = g.sole_user(c)?;
    let m = node(mul);
    if m.op_type != "Mul" || !m.input.contains(&x) {
        return None;
    }
    let div = g.sole_user(m)?;
    let d = node(div);
    (d.op_type == "Div" && d.input.len() == 2 && g.is_scalar(&d.input[1], 6.0)).then_some((div, x, [add, clip, mul]))
}

/// Clip's bounds, as inputs (opset 11 on) or attributes (before).
fn clip_bounds(clip: &NodeProto, g: &Uses, low: f32, high: f32) -> bool {
    match clip.input.len() {
        3 => g.is_scalar(&clip.input[1], low) && g.is_scalar(&clip.input[2], high),
        1 => {
            let attr = |name: &str| clip.attribute.iter().find(|a| a.name == name).map(|a| a.f);
            attr("min") == Some(low) && attr("max") == Some(high)
        }
        _ => false,
    }
}

/// Who produces and who consumes each value, and the scalar float constants.
struct Uses {
    producer: HashMap<String, usize>,
    consumers: HashMap<String, Vec<usize>>,
    scalars: HashMap<String, f32>,
}

impl Uses {
    fn of(graph: &GraphProto) -> Self {
        let mut u = Uses {
            producer: HashMap::new(),
            consumers: HashMap::new(),
            scalars: HashMap::new(),
        };
        for (i, n) in graph.node.iter().enumerate() {
            n.output.iter().for_each(|o| {
                u.producer.insert(o.clone(), i);
            });
            n.input
                .iter()
                .for_each(|v| u.consumers.entry(v.clone()).or_default().push(i));
            let value = n
                .attribute
                .iter()
                .find(|a| a.name == "value")
                .and_then(|a| a.t.as_ref());
            if let (true, Some(v), Some(o)) = (n.op_type == "Constant", value.and_then(scalar), n.output.first()) {
                u.scalars.insert(o.clone(), v);
            }
        }
        for t in &graph.initializer {
            if let Some(v) = scalar(t) {
                u.scalars.insert(t.name.clone(), v);
            }
        }
        // A graph output has a user outside the graph.
        for o in &graph.output {
            u.consumers.entry(o.name.clone()).or_default().push(usize::MAX);
        }
        u
    }

    fn is_scalar(&self, name: &str, value: f32) -> bool {
        self.scalars.get(name).is_some_and(|v| (v - value).abs() <= 1e-6)
    }

    /// The one node that uses `node`'s single output.
    fn sole_user(&self, node: &NodeProto) -> Option<usize> {
        match (
            node.output.as_slice(),
            node.output.first().and_then(|o| self.consumers.get(o)),
        ) {
            ([_], Some(users)) if users.len() == 1 && users[0] != usize::MAX => Some(users[0]),
            _ => None,
        }
    }
}

/// The value of a one-element float tensor.
fn scalar(t: &TensorProto) -> Option<f32> {
    if t.data_type != ONNX_FLOAT || t.dims.iter().product::<i64>() != 1 {
        return None;
    }
    match (t.float_data.as_slice(), t.raw_data.as_slice()) {
        ([v], _) => Some(*v),
        ([], raw) => Some(f32::from_le_bytes(raw.try_into().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::{AttributeProto, ValueInfoProto};

    fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            ..NodeProto::default()
        }
    }

    fn with_to(mut n: NodeProto, to: i64) -> NodeProto {
        n.attribute.push(AttributeProto {
            name: "to".into(),
            i: to,
            ..AttributeProto::default()
        });
        n
    }

    fn constant(name: &str, v: f32) -> TensorProto {
        TensorProto {
            name: name.into(),
            data_type: ONNX_FLOAT,
            raw_data: v.to_le_bytes().to_vec(),
            ..TensorProto::default()
        }
    }

    fn hard_swish_graph(six: f32) -> GraphProto {
        GraphProto {
            node: vec![
                node("Add", &["x", "three"], "a"),
                node("Clip", &["a", "zero", "six"], "c"),
                node("Mul", &["c", "x"], "m"),
                node("Div", &["m", "six"], "y"),
                node("Relu", &["y"], "z"),
            ],
            initializer: vec![constant("three", 3.0), constant("zero", 0.0), constant("six", six)],
            output: vec![ValueInfoProto {
                name: "z".into(),
                ..ValueInfoProto::default()
            }],
            ..GraphProto::default()
        }
    }

    #[test]
    fn only_int32_casts_of_shapes_are_widened() {
        let mut g = GraphProto {
            node: vec![
                node("Shape", &["x"], "s"),
                with_to(node("Cast", &["s"], "s32"), ONNX_INT32),
                with_to(node("Cast", &["x"], "x32"), ONNX_INT32),
                with_to(node("Cast", &["s"], "sf"), ONNX_FLOAT.into()),
            ],
            ..GraphProto::default()
        };
        assert_eq!(widen_shape_casts(&mut g), 1);
        let to: Vec<i64> = g.node[1..].iter().map(|n| n.attribute[0].i).collect();
        assert_eq!(to, [ONNX_INT64, ONNX_INT32, 1]);
    }

    #[test]
    fn written_out_hard_swish_becomes_one_node() {
        let mut g = hard_swish_graph(6.0);
        assert_eq!(fold_hard_swish(&mut g), 1);
        let ops: Vec<(&str, &[String], &str)> = g
            .node
            .iter()
            .map(|n| (n.op_type.as_str(), n.input.as_slice(), n.output[0].as_str()))
            .collect();
        assert_eq!(
            ops,
            [
                ("HardSwish", &["x".to_string()][..], "y"),
                ("Relu", &["y".to_string()][..], "z")
            ]
        );
    }

    #[test]
    fn other_chains_are_left_alone() {
        let mut g = hard_swish_graph(5.0);
        assert_eq!(fold_hard_swish(&mut g), 0);
        let mut g = hard_swish_graph(6.0);
        g.output[0].name = "m".into();
        assert_eq!(fold_hard_swish(&mut g), 0, "an intermediate value is an output");
        let mut g = hard_swish_graph(6.0);
        g.node[2].input[1] = "w".into();
        assert_eq!(fold_hard_swish(&mut g), 0, "the product is not with x");
        assert_eq!(g.node.len(), 5);
    }
}
