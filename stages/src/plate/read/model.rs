//! The recognition network: a user-supplied ONNX CTC text recogniser (PaddleOCR's PP-OCR
//! rec models and alike: input `[batch, channels, height, width]`, output
//! `[batch, frames, classes]` with the CTC blank at class 0), run in pure Rust with tract.
//!
//! The width of the input is dynamic in such models, but tract optimises a graph for one
//! concrete shape, so a plan is built per width bucket (a multiple of [`WIDTH_STEP`]) when
//! first needed and kept in a small cache. The graph is typed and decluttered once at load
//! with the width as a symbol, and its depthwise convolutions fused with the pointwise ops
//! around them (see `depthwise`), so that a new bucket costs only binding the width and
//! tract's code generation (about 15 ms for PP-OCRv4 in the CI profile); graphs whose shape
//! arithmetic tract cannot follow symbolically are typed per width instead. Before the first
//! model, `cpu` picks which of tract's matrix kernels suit the CPU.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::DimLike;
use tract_onnx::tract_hir::infer::Factoid;

use super::cpu::choose_tract_kernels;
use super::depthwise::fuse_depthwise;
use super::posteriors::{Posteriors, is_distribution};
use super::rewrite::{fold_hard_swish, widen_shape_casts};
use crate::plate::error::PlateError;

/// Input widths are rounded up to a multiple of this (the network's time stride is 8).
pub const WIDTH_STEP: usize = 32;
/// Plans kept at most (one per width bucket; each holds its own packed weights).
const MAX_PLANS: usize = 8;
/// Largest accepted model file (a recogniser is a few MB to a few hundred MB).
const MAX_MODEL_BYTES: u64 = 1 << 30;

type Plan = Arc<TypedRunnableModel>;

/// The graph plans are made from.
enum Graph {
    /// Typed and decluttered with the input width as `width`; a plan binds it.
    AnyWidth { model: TypedModel, width: Symbol },
    /// Typed from scratch for each width.
    PerWidth(InferenceModel),
}

/// What the model declares about its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputShape {
    /// 1 (gray) or 3 (colour; gray is replicated).
    pub channels: usize,
    /// Line height in pixels (declared, or the configured default when dynamic).
    pub height: usize,
    /// A fixed width when the model declares one.
    pub fixed_width: Option<usize>,
}

/// A loaded recogniser.
pub struct RecModel {
    path: PathBuf,
    graph: Graph,
    input: InputShape,
    classes: usize,
    metadata: Vec<(String, String)>,
    plans: Mutex<Vec<(usize, Plan)>>,
}

impl std::fmt::Debug for RecModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecModel")
            .field("path", &self.path)
            .field("input", &self.input)
            .field("classes", &self.classes)
            .finish_non_exhaustive()
    }
}

fn model_error(path: &Path, detail: impl Into<String>) -> PlateError {
    PlateError::Model {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

impl RecModel {
    /// Loads and checks an ONNX recogniser; `default_height` is used when the model leaves the
    /// input height dynamic (PP-OCR rec models do; they are trained at 48).
    pub fn load(path: &Path, default_height: usize) -> Result<Self, PlateError> {
        choose_tract_kernels();
        let meta = std::fs::metadata(path).map_err(|e| PlateError::io(path, e))?;
        if meta.len() > MAX_MODEL_BYTES {
            return Err(model_error(path, format!("{} bytes is larger than 1 GiB", meta.len())));
        }
        let bytes = std::fs::read(path).map_err(|e| PlateError::io(path, e))?;
        // tract reports malformed graphs as errors; a panic deep in a parser must not take
        // the worker down either, so it is turned into the same permanent error.
        let parsed = std::panic::catch_unwind(|| parse(&bytes, default_height))
            .map_err(|_| model_error(path, "the ONNX parser failed on this file"))?;
        let (graph, input, metadata) = parsed.map_err(|e| model_error(path, e))?;
        let mut rec = RecModel {
            path: path.to_path_buf(),
            graph,
            input,
            classes: 0,
            metadata,
            plans: Mutex::new(Vec::new()),
        };
        let probe = rec.input.fixed_width.unwrap_or(8 * WIDTH_STEP);
        let plan = rec.plan(probe)?;
        rec.classes = output_classes(&plan).map_err(|e| model_error(path, e))?;
        Ok(rec)
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The input the network expects.
    pub fn input(&self) -> InputShape {
        self.input
    }

    /// Output classes, the CTC blank included.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// A metadata entry of the ONNX file (`metadata_props`), if present.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The input width for a line of `width` pixels: the model's fixed width, else the
    /// nearest multiple of [`WIDTH_STEP`] (the line is stretched or shrunk to it).
    pub fn target_width(&self, width: usize) -> usize {
        self.input
            .fixed_width
            .unwrap_or_else(|| ((width + WIDTH_STEP / 2) / WIDTH_STEP).max(1) * WIDTH_STEP)
    }

    /// What a failed run of the network at `width` reports.
    fn failure(&self, width: usize) -> impl Fn(String) -> PlateError {
        let height = self.input.height;
        move |detail| PlateError::Inference { width, height, detail }
    }

    /// Runs the network on one normalised input, `channels x height x width`, row-major.
    pub fn run(&self, input: Vec<f32>, width: usize) -> Result<Posteriors, PlateError> {
        let (c, h) = (self.input.channels, self.input.height);
        let fail = self.failure(width);
        let plan = self.plan(width)?;
        let tensor = tract_ndarray::Array4::from_shape_vec((1, c, h, width), input)
            .map_err(|e| fail(e.to_string()))?
            .into_tensor();
        let out = plan.run(tvec!(tensor.into_tvalue())).map_err(|e| fail(e.to_string()))?;
        let out = out.into_iter().next().ok_or_else(|| fail("no output".into()))?;
        let view = out.to_plain_array_view::<f32>().map_err(|e| fail(e.to_string()))?;
        let shape = view.shape().to_vec();
        let (frames, classes) = match shape[..] {
            [1, t, k] if t > 0 && k == self.classes => (t, k),
            _ => {
                return Err(fail(format!(
                    "output shape {shape:?} is not [1, frames, {}]",
                    self.classes
                )));
            }
        };
        // A softmax inside the model (PP-OCR has one) leaves nothing to do and no copy.
        match view.to_slice() {
            Some(rows) if is_distribution(&rows[..classes]) => {
                Ok(Posteriors::from_output(out.clone(), frames, classes))
            }
            _ => Ok(Posteriors::from_vec(view.iter().copied().collect(), classes)),
        }
    }

    /// Times every node of the network at one input width (all-zero input, the minimum over
    /// `runs` runs): `(op, node, ms)` in execution order, the node with its output shape and
    /// what tract says of its implementation. For `plate_rec_bench --profile`.
    pub fn profile(&self, width: usize, runs: usize) -> Result<Vec<(String, String, f64)>, PlateError> {
        let (c, h) = (self.input.channels, self.input.height);
        let fail = self.failure(width);
        let plan = self.plan(width)?;
        let mut times: Vec<(String, String, f64)> = Vec::new();
        for _ in 0..runs.max(1) {
            let tensor = tract_ndarray::Array4::<f32>::zeros((1, c, h, width)).into_tensor();
            let mut state = TypedSimpleState::new(&plan).map_err(|e| fail(e.to_string()))?;
            let mut step = 0;
            state
                .run_plan_with_eval(tvec!(tensor.into_tvalue()), |ctx, op_state, node, inputs| {
                    let t0 = std::time::Instant::now();
                    let out = tract_onnx::tract_core::plan::eval(ctx, op_state, node, inputs);
                    let ms = t0.elapsed().as_secs_f64() * 1e3;
                    match times.get_mut(step) {
                        Some(t) => t.2 = t.2.min(ms),
                        None => {
                            let info = node.op().info().unwrap_or_default().join(" ");
                            let shape = &node.outputs[0].fact.shape;
                            times.push((
                                node.op().name().to_string(),
                                format!("{} {shape:?} {info}", node.name),
                                ms,
                            ));
                        }
                    }
                    step += 1;
                    out
                })
                .map_err(|e| fail(e.to_string()))?;
        }
        Ok(times)
    }

    /// The optimised plan for one input width (built on first use, then cached).
    fn plan(&self, width: usize) -> Result<Plan, PlateError> {
        let mut plans = self.plans.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = plans.iter().position(|(w, _)| *w == width) {
            let hit = plans.remove(i);
            let plan = hit.1.clone();
            plans.insert(0, hit);
            return Ok(plan);
        }
        let shape = [1, self.input.channels, self.input.height, width];
        let graph = &self.graph;
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || -> TractResult<Plan> {
            let mut typed = match graph {
                Graph::AnyWidth { model, width: sym } => {
                    model.set_symbols(&HashMap::from([(sym.clone(), TDim::from(width))]))?
                }
                Graph::PerWidth(model) => {
                    let mut typed = model
                        .clone()
                        .with_input_fact(0, f32::fact(shape).into())?
                        .into_typed()?
                        .into_decluttered()?;
                    fuse_depthwise(&mut typed)?;
                    typed
                }
            };
            // Decluttered (and fused) already: only tract's code generation is left.
            typed.optimize()?;
            typed.into_runnable()
        }))
        .map_err(|_| model_error(&self.path, format!("tract failed while optimising for input {shape:?}")))?
        .map_err(|e| model_error(&self.path, format!("cannot prepare input {shape:?}: {e:#}")))?;
        plans.insert(0, (width, built.clone()));
        plans.truncate(MAX_PLANS);
        Ok(built)
    }
}

type Parsed = (Graph, InputShape, Vec<(String, String)>);

fn parse(bytes: &[u8], default_height: usize) -> Result<Parsed, String> {
    let onnx = tract_onnx::onnx();
    let mut proto = onnx
        .proto_model_for_read(&mut &bytes[..])
        .map_err(|e| format!("not an ONNX model: {e}"))?;
    if proto.graph.as_ref().is_none_or(|g| g.node.is_empty()) {
        return Err("not an ONNX model: it has no graph".into());
    }
    let metadata = proto
        .metadata_props
        .iter()
        .map(|p| (p.key.clone(), p.value.clone()))
        .collect();
    // Exporter idioms tract runs slowly are replaced by equivalent forms (see `rewrite`).
    if let Some(g) = proto.graph.as_mut() {
        fold_hard_swish(g);
    }
    let mut widened = proto.clone();
    if let Some(g) = widened.graph.as_mut() {
        widen_shape_casts(g);
    }
    let model = load_graph(&widened)?;
    let input = input_shape(&model, default_height)?;
    let typed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| any_width(model, input)));
    let graph = match typed {
        Ok(Ok((model, width))) => Graph::AnyWidth { model, width },
        Ok(Err(e)) => per_width(&proto, &format!("{e:#}"))?,
        Err(_) => per_width(&proto, "tract panicked")?,
    };
    Ok((graph, input, metadata))
}

/// The fallback when the graph cannot be typed for any width.
fn per_width(proto: &ModelProto, why: &str) -> Result<Graph, String> {
    tracing::debug!("the recogniser is typed per input width: {why}");
    Ok(Graph::PerWidth(load_graph(proto)?))
}

fn load_graph(proto: &ModelProto) -> Result<InferenceModel, String> {
    let model = tract_onnx::onnx()
        .model_for_proto_model(proto)
        .map_err(|e| format!("cannot load the graph: {e:#}"))?;
    if model.inputs.len() != 1 || model.outputs.is_empty() {
        return Err(format!(
            "expected one image input and an output, found {} inputs and {} outputs",
            model.inputs.len(),
            model.outputs.len()
        ));
    }
    Ok(model)
}

/// The graph typed and decluttered for any input width (a symbol).
fn any_width(model: InferenceModel, input: InputShape) -> TractResult<(TypedModel, Symbol)> {
    let width = model.symbols.sym("haul_input_width");
    let w = input.fixed_width.map_or_else(|| width.to_dim(), |w| w.to_dim());
    let fact = f32::fact([1.to_dim(), input.channels.to_dim(), input.height.to_dim(), w]);
    let mut typed = model
        .with_input_fact(0, fact.into())?
        .into_typed()?
        .into_decluttered()?;
    fuse_depthwise(&mut typed)?;
    Ok((typed, width))
}

/// Reads `[batch, channels, height, width]` from the model's declared input.
fn input_shape(model: &InferenceModel, default_height: usize) -> Result<InputShape, String> {
    let fact = model.input_fact(0).map_err(|e| e.to_string())?;
    let dims: Vec<Option<usize>> = if fact.shape.is_open() {
        vec![None; 4]
    } else {
        fact.shape
            .dims()
            .map(|d| d.concretize().and_then(|d| d.to_usize().ok()))
            .collect()
    };
    if dims.len() != 4 {
        return Err(format!(
            "input has rank {}, expected [batch, channels, height, width]",
            dims.len()
        ));
    }
    let channels = dims[1].unwrap_or(3);
    if channels != 1 && channels != 3 {
        return Err(format!("input has {channels} channels, expected 1 or 3"));
    }
    let height = dims[2].unwrap_or(default_height);
    if !(8..=512).contains(&height) {
        return Err(format!("input height {height} is outside 8..=512"));
    }
    Ok(InputShape {
        channels,
        height,
        fixed_width: dims[3],
    })
}

/// The class count from the output shape `[1, frames, classes]`.
fn output_classes(plan: &Plan) -> Result<usize, String> {
    let outlet = plan.model().output_outlets().map_err(|e| e.to_string())?[0];
    let fact = plan.model().outlet_fact(outlet).map_err(|e| e.to_string())?;
    let dims: Vec<Option<usize>> = fact.shape.iter().map(|d| d.to_usize().ok()).collect();
    match dims[..] {
        [_, _, Some(k)] if k >= 2 => Ok(k),
        _ => Err(format!(
            "output shape {:?} is not [batch, frames, classes] with classes >= 2",
            fact.shape
        )),
    }
}
