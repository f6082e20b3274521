//! A depthwise convolution with the pointwise operations around it, as one tract operation.
//!
//! Mobile recognisers (PP-OCR's PP-LCNet and MobileNet backbones) alternate 1x1
//! convolutions with depthwise k x k ones, each wrapped in scalar affines and a
//! hard-swish. tract runs these as separate passes over memory, and its depthwise
//! convolution handles the borders and the horizontal stride 2 point by point; on the
//! PP-OCRv4 recogniser that was a fifth of the network's time. [`fuse_depthwise`] replaces
//! `pre-ops -> depthwise conv -> post-ops` by one [`FusedDepthwise`], which per channel
//! writes the input once (pre-ops applied) into a zero-padded plane, split into one
//! plane per horizontal phase when the stride is 2, so that every tap reads contiguous
//! memory, then accumulates all taps of a run of outputs in vector registers (AVX2/FMA or
//! NEON when the CPU has it, chosen at run time by `pulp`) and applies the post-ops before
//! the single store. Zero padding stays exact: the pre-ops are applied to the input, and the
//! padding, as in the original graph, is added after them.

use std::sync::Arc;

use pulp::{Simd, WithSimd};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec};
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
use tract_onnx::tract_core::ops::nn::DataFormat;

/// Output points accumulated together: 64, in 8 vectors of AVX2 or 4 of AVX-512, enough
/// independent sums to keep two FMA units busy through their latency without wasting much of
/// a narrow row.
const RUN: usize = 64;

/// An element-wise operation folded into the convolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pointwise {
    /// `x * k`
    Mul(f32),
    /// `x + k`
    Add(f32),
    /// `max(x, k)` (a ReLU when `k` is 0)
    Max(f32),
    /// `min(x, k)`
    Min(f32),
    /// `x * clamp(x / 6 + 1/2, 0, 1)`, ONNX's HardSwish.
    HardSwish,
}

impl Pointwise {
    #[inline(always)]
    fn apply(self, x: f32) -> f32 {
        match self {
            Pointwise::Mul(k) => x * k,
            Pointwise::Add(k) => x + k,
            Pointwise::Max(k) => x.max(k),
            Pointwise::Min(k) => x.min(k),
            Pointwise::HardSwish => x * (x * (1.0 / 6.0) + 0.5).clamp(0.0, 1.0),
        }
    }

    /// Applies `ops` in turn to a few vectors (held in registers: the choice of operation
    /// is made once per op for all of them). Plain loops, no closures: a closure would not
    /// inherit the vector instruction set of the function it is in, and in the CI profile it
    /// is not inlined.
    #[inline(always)]
    fn apply_vectors<S: Simd, const V: usize>(simd: S, ops: &[Pointwise], vs: &mut [S::f32s; V]) {
        for op in ops {
            match *op {
                Pointwise::Mul(k) => {
                    let k = simd.splat_f32s(k);
                    for v in vs.iter_mut() {
                        *v = simd.mul_f32s(*v, k);
                    }
                }
                Pointwise::Add(k) => {
                    let k = simd.splat_f32s(k);
                    for v in vs.iter_mut() {
                        *v = simd.add_f32s(*v, k);
                    }
                }
                Pointwise::Max(k) => {
                    let k = simd.splat_f32s(k);
                    for v in vs.iter_mut() {
                        *v = simd.max_f32s(*v, k);
                    }
                }
                Pointwise::Min(k) => {
                    let k = simd.splat_f32s(k);
                    for v in vs.iter_mut() {
                        *v = simd.min_f32s(*v, k);
                    }
                }
                Pointwise::HardSwish => {
                    let (sixth, half) = (simd.splat_f32s(1.0 / 6.0), simd.splat_f32s(0.5));
                    let (zero, one) = (simd.splat_f32s(0.0), simd.splat_f32s(1.0));
                    for v in vs.iter_mut() {
                        let t = simd.mul_add_e_f32s(*v, sixth, half);
                        let t = simd.min_f32s(simd.max_f32s(t, zero), one);
                        *v = simd.mul_f32s(*v, t);
                    }
                }
            }
        }
    }

    /// `to[i] = ops(from[i])`, one pass, `V` vectors at a time.
    #[inline(always)]
    fn map<S: Simd, const V: usize>(simd: S, ops: &[Pointwise], from: &[f32], to: &mut [f32]) {
        let (from_v, from_t) = S::as_simd_f32s(from);
        let (to_v, to_t) = S::as_mut_simd_f32s(to);
        let mut from_chunks = from_v.chunks_exact(V);
        let mut to_chunks = to_v.chunks_exact_mut(V);
        for (t, f) in (&mut to_chunks).zip(&mut from_chunks) {
            let mut vs = [simd.splat_f32s(0.0); V];
            vs.copy_from_slice(f);
            Pointwise::apply_vectors(simd, ops, &mut vs);
            t.copy_from_slice(&vs);
        }
        for (t, f) in to_chunks.into_remainder().iter_mut().zip(from_chunks.remainder()) {
            let mut vs = [*f];
            Pointwise::apply_vectors(simd, ops, &mut vs);
            *t = vs[0];
        }
        for (t, f) in to_t.iter_mut().zip(from_t) {
            let mut v = *f;
            for op in ops {
                v = op.apply(v);
            }
            *t = v;
        }
    }
}

/// `post(conv(pre(x)))` for a depthwise convolution (one k x k filter per channel, zero
/// padding, no dilation) on `[1, C, H, W]` or `[C, H, W]` f32 input.
#[derive(Debug, Clone, PartialEq)]
pub struct FusedDepthwise {
    channels: usize,
    /// (height, width)
    kernel: (usize, usize),
    /// (vertical, horizontal)
    strides: (usize, usize),
    /// top, left, bottom, right
    pads: [usize; 4],
    /// `channels x kh x kw`
    weights: Arc<Vec<f32>>,
    /// one per channel
    bias: Arc<Vec<f32>>,
    pre: Vec<Pointwise>,
    post: Vec<Pointwise>,
}

impl Eq for FusedDepthwise {}

impl FusedDepthwise {
    fn padding(&self) -> PaddingSpec {
        let [t, l, b, r] = self.pads;
        PaddingSpec::Explicit(tvec![t, l], tvec![b, r])
    }

    /// Output height and width for an input of `h x w`.
    fn output_hw<D: DimLike>(&self, h: &D, w: &D) -> (D, D) {
        let padding = self.padding();
        let ho = padding.compute_one(0, h, self.kernel.0, 1, self.strides.0).convoluted;
        let wo = padding.compute_one(1, w, self.kernel.1, 1, self.strides.1).convoluted;
        (ho, wo)
    }

    fn check_input_rank(&self, rank: usize) -> TractResult<()> {
        ensure!(
            rank == 3 || rank == 4,
            "FusedDepthwise expects [1, C, H, W] or [C, H, W], got rank {rank}"
        );
        Ok(())
    }
}

impl Op for FusedDepthwise {
    fn name(&self) -> StaticName {
        "FusedDepthwise".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "kernel {:?} strides {:?} pads {:?} pre {:?} post {:?}",
            self.kernel, self.strides, self.pads, self.pre, self.post
        )])
    }

    op_as_typed_op!();
}

impl EvalOp for FusedDepthwise {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        ensure!(inputs.len() == 1, "FusedDepthwise takes one input");
        let input = inputs[0].to_plain_array_view::<f32>()?;
        let shape = input.shape().to_vec();
        self.check_input_rank(shape.len())?;
        let r = shape.len();
        let (c, h, w) = (shape[r - 3], shape[r - 2], shape[r - 1]);
        ensure!(
            c == self.channels,
            "FusedDepthwise for {} channels given {c}",
            self.channels
        );
        ensure!(
            r == 3 || shape[0] == 1,
            "FusedDepthwise takes a batch of one, got {}",
            shape[0]
        );
        let (ho, wo) = self.output_hw(&h, &w);
        let mut out_shape = shape.clone();
        out_shape[r - 2] = ho;
        out_shape[r - 1] = wo;
        let owned;
        let x = match input.as_slice() {
            Some(x) => x,
            None => {
                owned = input.iter().copied().collect::<Vec<f32>>();
                &owned
            }
        };
        let mut output = Tensor::zero::<f32>(&out_shape)?;
        let mut view = output.to_plain_array_view_mut::<f32>()?;
        let out = view.as_slice_mut().context("a new tensor is contiguous")?;
        let run = Run {
            op: self,
            x,
            h,
            w,
            out,
            ho,
            wo,
        };
        run.dispatch();
        drop(view);
        Ok(tvec![output.into_tvalue()])
    }
}

impl TypedOp for FusedDepthwise {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(
            inputs.len() == 1 && inputs[0].datum_type == f32::datum_type(),
            "FusedDepthwise takes one f32 input"
        );
        let shape = &inputs[0].shape;
        self.check_input_rank(shape.rank())?;
        let r = shape.rank();
        let (ho, wo) = self.output_hw(&shape[r - 2], &shape[r - 1]);
        let mut dims: TVec<TDim> = shape.iter().cloned().collect();
        dims[r - 2] = ho;
        dims[r - 1] = wo;
        Ok(tvec![f32::fact(dims)])
    }

    fn cost(&self, inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let shape = &inputs[0].shape;
        let r = shape.rank();
        let (ho, wo) = self.output_hw(&shape[r - 2], &shape[r - 1]);
        let taps = self.kernel.0 * self.kernel.1;
        Ok(tvec![(Cost::FMA(f32::datum_type()), ho * wo * (self.channels * taps))])
    }

    as_op!();
}

/// One evaluation, run with the widest vectors the CPU has.
struct Run<'a> {
    op: &'a FusedDepthwise,
    x: &'a [f32],
    h: usize,
    w: usize,
    out: &'a mut [f32],
    ho: usize,
    wo: usize,
}

impl Run<'_> {
    /// Runs with AVX2 rather than AVX-512 on x86 (a run of 64 outputs is 8 vectors of it, and
    /// on the cores measured the wider registers were slower here: split 512-bit loads and
    /// FMAs), else with the widest vectors the CPU has.
    fn dispatch(self) {
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = pulp::x86::V3::try_new() {
            return Simd::vectorize(simd, self);
        }
        pulp::Arch::new().dispatch(self);
    }
}

impl WithSimd for Run<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        match std::mem::size_of::<S::f32s>() / std::mem::size_of::<f32>() {
            16 => self.convolve::<S, { RUN / 16 }>(simd),
            8 => self.convolve::<S, { RUN / 8 }>(simd),
            _ => self.convolve::<S, 8>(simd),
        }
    }
}

impl Run<'_> {
    /// The convolution with `V` vectors of `S` per run of outputs.
    #[inline(always)]
    fn convolve<S: Simd, const V: usize>(self, simd: S) {
        let Run {
            op,
            x,
            h,
            w,
            out,
            ho,
            wo,
        } = self;
        let lanes = std::mem::size_of::<S::f32s>() / std::mem::size_of::<f32>();
        let run = lanes * V;
        let (kh, kw) = op.kernel;
        let (sh, sw) = op.strides;
        let [pt, pl, pb, _] = op.pads;
        // Phase plane p holds the padded columns p, p + sw, p + 2 sw ...; tap kx reads plane
        // kx % sw from column kx / sw on. Rows are long enough for whole runs.
        let wo_runs = wo.div_ceil(run) * run;
        let row_len = (w + pl + op.pads[3]).div_ceil(sw).max(wo_runs + (kw - 1) / sw);
        let rows = h + pt + pb;
        let plane_len = rows * row_len;
        let mut planes = vec![0f32; plane_len * sw];
        let mut line = vec![0f32; if sw == 1 { 0 } else { w }];
        let mut acc_row = vec![0f32; run];
        // Where tap (ky, kx) of the first output of a row run reads, from that run's start.
        let offsets: Vec<usize> = (0..kh * kw)
            .map(|t| (t % kw % sw) * plane_len + (t / kw) * row_len + t % kw / sw)
            .collect();
        // The padding is never written: zero once, every channel rewrites the same inside.
        for ch in 0..op.channels {
            for y in 0..h {
                let input = &x[(ch * h + y) * w..][..w];
                let row = (y + pt) * row_len;
                if sw == 1 {
                    Pointwise::map::<S, V>(simd, &op.pre, input, &mut planes[row + pl..][..w]);
                } else {
                    Pointwise::map::<S, V>(simd, &op.pre, input, &mut line);
                    for phase in 0..sw {
                        // The first input column landing in this phase, and where it lands.
                        let first = (phase + sw - pl % sw) % sw;
                        let to = phase * plane_len + row + (first + pl) / sw;
                        let count = (w + sw - 1 - first.min(w)) / sw;
                        let dst = &mut planes[to..to + count];
                        for (k, d) in dst.iter_mut().enumerate() {
                            *d = line[first + k * sw];
                        }
                    }
                }
            }
            let taps = &op.weights[ch * kh * kw..][..kh * kw];
            let bias = op.bias[ch];
            for oy in 0..ho {
                for start in (0..wo_runs).step_by(run) {
                    let base = oy * sh * row_len + start;
                    let mut acc = [simd.splat_f32s(bias); V];
                    for (&tap, &offset) in taps.iter().zip(&offsets) {
                        let tap = simd.splat_f32s(tap);
                        let (src, _) = S::as_simd_f32s(&planes[base + offset..][..run]);
                        for (a, s) in acc.iter_mut().zip(src) {
                            *a = simd.mul_add_e_f32s(*s, tap, *a);
                        }
                    }
                    Pointwise::apply_vectors(simd, &op.post, &mut acc);
                    // Whole runs go straight to the output; the last one of a row through a
                    // scratch row, of which only the outputs that exist are copied.
                    let out_row = &mut out[(ch * ho + oy) * wo..][..wo];
                    let dst = if start + run <= wo {
                        &mut out_row[start..start + run]
                    } else {
                        &mut acc_row[..]
                    };
                    let (dst, _) = S::as_mut_simd_f32s(dst);
                    dst.copy_from_slice(&acc);
                    if start + run > wo {
                        out_row[start..].copy_from_slice(&acc_row[..wo - start]);
                    }
                }
            }
        }
    }
}

/// Replaces every f32 depthwise convolution of `model` (with the scalar element-wise ops
/// right before and after it that feed nothing else) by a [`FusedDepthwise`]; returns how
/// many. Graphs without the pattern are left as they are.
pub fn fuse_depthwise(model: &mut TypedModel) -> TractResult<usize> {
    let mut fused = 0;
    let candidates: Vec<usize> = model.eval_order()?;
    for id in candidates {
        let Some((op, first_input, last)) = match_fusion(model, id)? else {
            continue;
        };
        let mut patch = TypedModelPatch::default();
        let tap = patch.tap_model(model, first_input)?;
        let name = format!("{}.fused", model.node(id).name);
        let wire = patch.wire_node(name, op, &[tap])?[0];
        patch.shunt_outside(model, last, wire)?;
        patch.apply(model)?;
        fused += 1;
    }
    if fused > 0 {
        model.compact()?;
    }
    Ok(fused)
}

/// For a depthwise conv node: the fused op, the outlet it reads, and the outlet it replaces.
fn match_fusion(model: &TypedModel, id: usize) -> TractResult<Option<(FusedDepthwise, OutletId, OutletId)>> {
    let node = model.node(id);
    let Some(conv) = node.op_as::<Conv>() else {
        return Ok(None);
    };
    let Some(mut fused) = depthwise(model, node, conv)? else {
        return Ok(None);
    };
    // Walk back over pointwise ops that feed only this chain, up to the first hard-swish
    // (scalar ops before it stay: tract folds them into the matrix product that made them).
    let mut input = node.inputs[0];
    let mut pre = vec![];
    while let Some(prev) = single_use(model, input)?
        .map(|o| pointwise(model, o))
        .transpose()?
        .flatten()
    {
        pre.push(prev.0);
        input = model.node(input.node).inputs[prev.1];
        if prev.0 == Pointwise::HardSwish {
            break;
        }
    }
    pre.reverse();
    // Walk forward over pointwise ops fed only by this chain.
    let mut output = OutletId::new(id, 0);
    let mut post = vec![];
    loop {
        if model.output_outlets()?.contains(&output) {
            break;
        }
        let succ = model.outlet_successors(output);
        if succ.len() != 1 {
            break;
        }
        let next = OutletId::new(succ[0].node, 0);
        match pointwise(model, next)? {
            Some((p, from)) if model.node(next.node).inputs[from] == output => {
                post.push(p);
                output = next;
            }
            _ => break,
        }
    }
    fused.pre = pre;
    fused.post = post;
    Ok(Some((fused, input, output)))
}

/// The op of a depthwise convolution this module can run.
fn depthwise(model: &TypedModel, node: &TypedNode, conv: &Conv) -> TractResult<Option<FusedDepthwise>> {
    let spec = &conv.pool_spec;
    let c = spec.input_channels;
    let input = model.outlet_fact(node.inputs[0])?;
    let rank = input.shape.rank();
    let plain_layout = match spec.data_format {
        DataFormat::NCHW => rank == 4 && input.shape[0] == 1.to_dim(),
        DataFormat::CHW => rank == 3,
        _ => false,
    };
    if conv.q_params.is_some()
        || input.datum_type != f32::datum_type()
        || !plain_layout
        || node.inputs.len() != 3
        || c < 2
        || conv.group != c
        || spec.output_channels != c
        || spec.kernel_shape.len() != 2
        || conv.kernel_fmt != KernelFormat::OIHW
        || spec.dilations.as_ref().is_some_and(|d| d.iter().any(|&d| d != 1))
    {
        return Ok(None);
    }
    let (kh, kw) = (spec.kernel_shape[0], spec.kernel_shape[1]);
    let strides = spec.strides.clone().unwrap_or_else(|| tvec![1, 1]);
    let pads = match &spec.padding {
        PaddingSpec::Valid => [0; 4],
        PaddingSpec::Explicit(b, a) if b.len() == 2 && a.len() == 2 => [b[0], b[1], a[0], a[1]],
        _ => return Ok(None),
    };
    if strides.len() != 2 || strides.iter().any(|&s| !(1..=4).contains(&s)) || kh == 0 || kw == 0 {
        return Ok(None);
    }
    let Some(weights) = const_f32(model, node.inputs[1])? else {
        return Ok(None);
    };
    let Some(bias) = const_f32(model, node.inputs[2])? else {
        return Ok(None);
    };
    if weights.len() != c * kh * kw {
        return Ok(None);
    }
    let bias = match bias.len() {
        n if n == c => bias,
        1 => vec![bias[0]; c],
        0 => vec![0.0; c],
        _ => return Ok(None),
    };
    Ok(Some(FusedDepthwise {
        channels: c,
        kernel: (kh, kw),
        strides: (strides[0], strides[1]),
        pads,
        weights: Arc::new(weights),
        bias: Arc::new(bias),
        pre: vec![],
        post: vec![],
    }))
}

/// `outlet`, when it feeds exactly one node and is not an output of the model.
fn single_use(model: &TypedModel, outlet: OutletId) -> TractResult<Option<OutletId>> {
    let used_once = model.outlet_successors(outlet).len() == 1 && !model.output_outlets()?.contains(&outlet);
    Ok(used_once.then_some(outlet))
}

/// The node making `outlet`, when it is a scalar pointwise op: the op and which of its
/// inputs carries the data.
fn pointwise(model: &TypedModel, outlet: OutletId) -> TractResult<Option<(Pointwise, usize)>> {
    if outlet.slot != 0 {
        return Ok(None);
    }
    let node = model.node(outlet.node);
    if model.outlet_fact(outlet)?.datum_type != f32::datum_type() {
        return Ok(None);
    }
    if let Some(ew) = node.op_as::<ElementWiseOp>() {
        return Ok((ew.0.name() == "HardSwish" && ew.1.is_none()).then_some((Pointwise::HardSwish, 0)));
    }
    let Some(bin) = node.op_as::<TypedBinOp>() else {
        return Ok(None);
    };
    if node.inputs.len() != 2 || bin.1.is_some() {
        return Ok(None);
    }
    // The constant is a single value, and the data input has the output's shape.
    for (k, data) in [(0, 1), (1, 0)] {
        let Some(values) = const_f32(model, node.inputs[k])? else {
            continue;
        };
        if values.len() != 1 || model.outlet_fact(node.inputs[data])?.shape != model.outlet_fact(outlet)?.shape {
            continue;
        }
        let v = values[0];
        let op = match bin.0.name() {
            "Mul" => Pointwise::Mul(v),
            "Add" => Pointwise::Add(v),
            "Max" => Pointwise::Max(v),
            "Min" => Pointwise::Min(v),
            _ => return Ok(None),
        };
        return Ok(Some((op, data)));
    }
    Ok(None)
}

/// The values of a constant f32 outlet.
fn const_f32(model: &TypedModel, outlet: OutletId) -> TractResult<Option<Vec<f32>>> {
    let fact = model.outlet_fact(outlet)?;
    match &fact.konst {
        Some(t) if t.datum_type() == f32::datum_type() => {
            Ok(Some(t.to_plain_array_view::<f32>()?.iter().copied().collect()))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convolution written out point by point.
    fn reference(op: &FusedDepthwise, x: &[f32], h: usize, w: usize) -> (Vec<f32>, usize, usize) {
        let (kh, kw) = op.kernel;
        let (sh, sw) = op.strides;
        let [pt, pl, _, _] = op.pads;
        let (ho, wo) = op.output_hw(&h, &w);
        let mut out = vec![];
        for c in 0..op.channels {
            for oy in 0..ho {
                for ox in 0..wo {
                    let mut sum = op.bias[c];
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let (y, xx) = (
                                (oy * sh + ky) as isize - pt as isize,
                                (ox * sw + kx) as isize - pl as isize,
                            );
                            if y >= 0 && xx >= 0 && (y as usize) < h && (xx as usize) < w {
                                let v = op
                                    .pre
                                    .iter()
                                    .fold(x[(c * h + y as usize) * w + xx as usize], |v, p| p.apply(v));
                                sum += op.weights[(c * kh + ky) * kw + kx] * v;
                            }
                        }
                    }
                    out.push(op.post.iter().fold(sum, |v, p| p.apply(v)));
                }
            }
        }
        (out, ho, wo)
    }

    fn op(c: usize, kernel: (usize, usize), strides: (usize, usize), pads: [usize; 4]) -> FusedDepthwise {
        let n = c * kernel.0 * kernel.1;
        FusedDepthwise {
            channels: c,
            kernel,
            strides,
            pads,
            weights: Arc::new((0..n).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.1).collect()),
            bias: Arc::new((0..c).map(|i| i as f32 * 0.25 - 0.5).collect()),
            pre: vec![Pointwise::HardSwish, Pointwise::Mul(1.5), Pointwise::Add(-0.25)],
            post: vec![
                Pointwise::Add(0.5),
                Pointwise::HardSwish,
                Pointwise::Max(-0.2),
                Pointwise::Min(3.0),
            ],
        }
    }

    #[test]
    fn matches_the_convolution_written_out() -> TractResult<()> {
        let cases = [
            (3, (3, 3), (1, 1), [1, 1, 1, 1], 5, 37),
            (4, (5, 5), (1, 1), [2, 2, 2, 2], 7, 64),
            (2, (3, 3), (1, 2), [1, 1, 1, 1], 6, 41),
            (2, (5, 5), (2, 1), [2, 2, 2, 2], 9, 33),
            (2, (3, 3), (2, 2), [0, 1, 1, 0], 8, 70),
            (3, (1, 3), (1, 3), [0, 0, 0, 0], 1, 100),
        ];
        for (c, kernel, strides, pads, h, w) in cases {
            let op = op(c, kernel, strides, pads);
            let x: Vec<f32> = (0..c * h * w).map(|i| ((i * 13 % 29) as f32 - 14.0) * 0.3).collect();
            let (expected, ho, wo) = reference(&op, &x, h, w);
            let input = tract_ndarray::Array4::from_shape_vec((1, c, h, w), x)?.into_tvalue();
            let out = op.eval(&EvalContext::out_of_plan(), tvec![input])?.remove(0);
            assert_eq!(out.shape(), &[1, c, ho, wo], "{kernel:?} {strides:?}");
            let got = out.to_plain_array_view::<f32>()?;
            for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                assert!(
                    (g - e).abs() <= 1e-4 * (1.0 + e.abs()),
                    "{kernel:?} {strides:?} at {i}: {g} vs {e}"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn output_shape_follows_a_symbolic_width() -> TractResult<()> {
        let op = op(4, (3, 3), (1, 2), [1, 1, 1, 1]);
        let symbols = SymbolScope::default();
        let w = symbols.sym("w");
        let fact = f32::fact([1.to_dim(), 4.to_dim(), 12.to_dim(), w.to_dim()]);
        let out = op.output_facts(&[&fact])?.remove(0);
        let at = |dims: &ShapeFact, v: i64| dims[3].eval(&SymbolValues::default().with(&w, v)).to_i64();
        assert_eq!(out.shape[2], 12.to_dim());
        assert_eq!(at(&out.shape, 128)?, 64);
        assert_eq!(at(&out.shape, 127)?, 64);
        Ok(())
    }

    /// `hard-swish(x * 1.5 + 0.25) * 0.5 - 0.1 -> depthwise 3x3 -> * 2 + 0.5 -> hard-swish`,
    /// written with tract's own operations, as PP-OCR's blocks load.
    fn block(c: usize, h: usize, w: usize, strides: (usize, usize)) -> TractResult<TypedModel> {
        use tract_onnx::tract_core::ops::cnn::PoolSpec;
        use tract_onnx::tract_core::ops::math::{add, mul};
        use tract_onnx::tract_core::ops::nn::hard_swish;
        let mut model = TypedModel::default();
        let mut x = model.add_source("x", f32::fact([1, c, h, w]))?;
        let k = |v: f32| tensor4(&[[[[v]]]]);
        let chain = |model: &mut TypedModel, x: OutletId, tag: &str, m: f32, a: f32| -> TractResult<OutletId> {
            let mk = model.add_const(format!("{tag}.m"), k(m))?;
            let x = model.wire_node(format!("{tag}.mul"), mul(), &[x, mk])?[0];
            let ak = model.add_const(format!("{tag}.a"), k(a))?;
            Ok(model.wire_node(format!("{tag}.add"), add(), &[ak, x])?[0])
        };
        x = chain(&mut model, x, "pre0", 1.5, 0.25)?;
        x = model.wire_node("pre.hs", hard_swish(), &[x])?[0];
        x = chain(&mut model, x, "pre1", 0.5, -0.1)?;
        let weights: Vec<f32> = (0..c * 9).map(|i| ((i * 5 % 7) as f32 - 3.0) * 0.2).collect();
        let kernel = model.add_const("kernel", Tensor::from_shape(&[c, 1, 3, 3], &weights)?)?;
        let bias: Vec<f32> = (0..c).map(|i| i as f32 * 0.1).collect();
        let bias = model.add_const("bias", Tensor::from_shape(&[c], &bias)?)?;
        let conv = Conv {
            pool_spec: PoolSpec {
                data_format: DataFormat::NCHW,
                kernel_shape: tvec![3, 3],
                padding: PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1]),
                dilations: None,
                strides: Some(tvec![strides.0, strides.1]),
                input_channels: c,
                output_channels: c,
            },
            kernel_fmt: KernelFormat::OIHW,
            group: c,
            q_params: None,
        };
        x = model.wire_node("conv", conv, &[x, kernel, bias])?[0];
        x = chain(&mut model, x, "post", 2.0, 0.5)?;
        x = model.wire_node("post.hs", hard_swish(), &[x])?[0];
        model.select_output_outlets(&[x])?;
        Ok(model)
    }

    fn run(model: TypedModel, input: &Tensor) -> TractResult<Tensor> {
        let out = model
            .into_optimized()?
            .into_runnable()?
            .run(tvec![input.clone().into_tvalue()])?;
        Ok(out[0].clone().into_tensor())
    }

    #[test]
    fn a_block_of_tract_operations_is_fused_and_computes_the_same() -> TractResult<()> {
        for strides in [(1, 1), (1, 2), (2, 1)] {
            let (c, h, w) = (6, 10, 45);
            let plain = block(c, h, w, strides)?.into_decluttered()?;
            let mut fused = plain.clone();
            assert_eq!(fuse_depthwise(&mut fused)?, 1);
            let ops: Vec<String> = fused.nodes.iter().map(|n| n.op.name().to_string()).collect();
            assert!(ops.iter().any(|o| o == "FusedDepthwise"), "{ops:?}");
            // The scalar ops before the first hard-swish stay (tract folds them into the
            // matrix product that makes them in a real network).
            assert_eq!(ops, ["Source", "Const", "Mul", "Const", "Add", "FusedDepthwise"]);
            let x: Vec<f32> = (0..c * h * w).map(|i| ((i * 17 % 23) as f32 - 11.0) * 0.37).collect();
            let input = Tensor::from_shape(&[1, c, h, w], &x)?;
            let (expected, got) = (run(plain, &input)?, run(fused, &input)?);
            assert_eq!(expected.shape(), got.shape());
            let (e, g) = (
                expected.to_plain_array_view::<f32>()?,
                got.to_plain_array_view::<f32>()?,
            );
            for (a, b) in e.iter().zip(g.iter()) {
                assert!((a - b).abs() <= 1e-4 * (1.0 + a.abs()), "{strides:?}: {a} vs {b}");
            }
        }
        Ok(())
    }

    #[test]
    fn a_conv_that_is_not_depthwise_is_left_alone() -> TractResult<()> {
        let mut model = block(4, 6, 20, (1, 1))?.into_decluttered()?;
        // The same graph with a full convolution instead: every output sees every channel.
        for node in &mut model.nodes {
            if let Some(conv) = node.op_as_mut::<Conv>() {
                conv.group = 1;
            }
        }
        let before = model.nodes.len();
        assert_eq!(fuse_depthwise(&mut model)?, 0);
        assert_eq!(model.nodes.len(), before);
        Ok(())
    }
}
