//! The network's output: per-frame class probabilities.

/// Per-frame class probabilities: `frames` rows of `classes` values, each row summing to 1.
#[derive(Debug, Clone)]
pub struct Posteriors {
    /// Time steps (columns of the line image, one per 8 pixels for PP-OCR).
    pub frames: usize,
    /// Output classes, blank first.
    pub classes: usize,
    data: Data,
}

/// The output tensor as it came (already probabilities: no copy), or normalised here.
#[derive(Debug, Clone)]
enum Data {
    #[cfg(feature = "read")]
    Output(tract_onnx::prelude::TValue),
    Owned(Vec<f32>),
}

impl Posteriors {
    /// Probabilities from a plain vector, `frames x classes` row-major (rows of logits get a
    /// softmax).
    pub fn from_vec(mut probs: Vec<f32>, classes: usize) -> Self {
        let classes = classes.max(1);
        normalise_rows(&mut probs, classes);
        Posteriors {
            frames: probs.len() / classes,
            classes,
            data: Data::Owned(probs),
        }
    }

    /// Wraps an output tensor `[1, frames, classes]` whose rows are probabilities already.
    #[cfg(feature = "read")]
    pub(crate) fn from_output(out: tract_onnx::prelude::TValue, frames: usize, classes: usize) -> Self {
        Posteriors {
            frames,
            classes,
            data: Data::Output(out),
        }
    }

    /// All rows, row-major.
    pub fn probs(&self) -> &[f32] {
        match &self.data {
            #[cfg(feature = "read")]
            Data::Output(t) => t
                .to_plain_array_view::<f32>()
                .ok()
                .and_then(|v| v.to_slice())
                .unwrap_or(&[]),
            Data::Owned(v) => v,
        }
    }

    /// The probabilities of frame `t` (empty past the end).
    pub fn frame(&self, t: usize) -> &[f32] {
        self.probs()
            .get(t * self.classes..(t + 1) * self.classes)
            .unwrap_or(&[])
    }
}

/// True when a row is already a probability distribution.
pub(crate) fn is_distribution(row: &[f32]) -> bool {
    let sum: f32 = row.iter().sum();
    row.iter().all(|&p| (0.0..=1.0).contains(&p)) && (sum - 1.0).abs() < 1e-3
}

/// Turns each row into probabilities: rows that already are (a softmax inside the model)
/// are left alone; logits get a softmax.
fn normalise_rows(probs: &mut [f32], classes: usize) {
    for row in probs.chunks_exact_mut(classes) {
        if is_distribution(row) {
            continue;
        }
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut total = 0.0;
        for p in row.iter_mut() {
            *p = (*p - max).exp();
            total += *p;
        }
        row.iter_mut().for_each(|p| *p /= total.max(f32::MIN_POSITIVE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logits_get_a_softmax_and_probabilities_are_kept() {
        let p = Posteriors::from_vec(vec![0.2, 0.8, 2.0, 0.0], 2);
        assert_eq!(p.frames, 2);
        assert_eq!(p.frame(0), &[0.2, 0.8]);
        let f = p.frame(1);
        assert!((f[0] + f[1] - 1.0).abs() < 1e-6 && f[0] > 0.85);
        assert!(p.frame(5).is_empty());
    }
}
