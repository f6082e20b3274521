//! The `Stage` trait: the one method a stage author writes, and what it returns.

use std::future::Future;
use std::path::PathBuf;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde::Serialize;

use crate::context::Context;
use crate::error::StageError;
use crate::object::Object;

/// A processing stage: reads one object, returns a JSON output and optional artifacts.
///
/// The framework owns everything around [`Stage::process`]: routing, retries, the timeout,
/// concurrency, tracing, panic capture, deduplication and writing the result. A stage only
/// decides *what* to compute and whether a failure is [`StageError::Retryable`] or
/// [`StageError::Permanent`].
///
/// What people read of a result is [`Stage::summary`]: one line made from the output, which
/// `haul run` and `demo` print (the whole output stays in the result and behind `--json`).
/// The default lists the output's top-level scalar fields with numbers rounded to three
/// significant digits; a stage whose output says more than its scalars overrides it.
///
/// ```
/// use haul_pipeline::prelude::*;
///
/// struct Size;
///
/// impl Stage for Size {
///     fn name(&self) -> &str { "size" }
///     async fn process(&self, object: Object, _cx: &Context) -> Result<Output, StageError> {
///         Ok(Output::json(serde_json::json!({ "bytes": object.size() })))
///     }
///     fn summary(&self, output: &serde_json::Value) -> String {
///         let n = output["bytes"].as_u64().unwrap_or(0);
///         haul_pipeline::summary::bytes(n)
///     }
/// }
///
/// assert_eq!(Size.summary(&serde_json::json!({ "bytes": 1536 })), "1.5 KiB");
/// ```
pub trait Stage: Send + Sync + 'static {
    /// The stage's name as used in `haul.toml` routes, result keys and metrics (kebab-case).
    fn name(&self) -> &str;

    /// The version of the stage's logic, recorded in every result. Bump it when outputs
    /// change, so results can be told apart.
    fn version(&self) -> &str {
        "1"
    }

    /// Processes one object. `object` gives its metadata and a streamed body (or a local file
    /// for decoders that need to seek); `cx` gives the attempt number, the deadline and a
    /// scratch folder that is removed afterwards.
    fn process(&self, object: Object, cx: &Context) -> impl Future<Output = Result<Output, StageError>> + Send;

    /// A small example input, for `demo` and generated tests: a file this stage accepts,
    /// made without any download. `None` (the default) when the stage has none; `demo` then
    /// needs a file given on its command line.
    fn sample(&self) -> Option<Sample> {
        None
    }

    /// A one-line human summary of `output`, an output this stage produced (read back from
    /// a stored result, so possibly from an older version of the stage: never panic on a
    /// missing or unexpected field). No line break; keep it under about 160 characters.
    ///
    /// The default ([`summary::line`](crate::summary::line)) lists the top-level scalar
    /// fields as `name value`, numbers rounded to three significant digits (integers stay
    /// whole), strings longer than 24 characters elided, arrays as their length, nested
    /// objects left out. Override it to say what matters (`72 bpm, 14 beats, quality 0.85
    /// usable`); [`crate::summary`] has the number and size formatting.
    fn summary(&self, output: &serde_json::Value) -> String {
        crate::summary::line(output)
    }
}

/// An example input of a stage (see [`Stage::sample`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The file name, with the suffix the stage's route expects (`heart-72bpm.wav`).
    pub file_name: String,
    /// The content.
    pub bytes: Vec<u8>,
}

impl Sample {
    /// A sample named `file_name` holding `bytes`.
    pub fn new(file_name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            file_name: file_name.into(),
            bytes: bytes.into(),
        }
    }
}

/// [`Stage`] in a form that can be stored behind a pointer; implemented for every `Stage`.
pub trait DynStage: Send + Sync {
    /// See [`Stage::name`].
    fn name(&self) -> &str;
    /// See [`Stage::version`].
    fn version(&self) -> &str;
    /// See [`Stage::process`].
    fn process_boxed<'a>(&'a self, object: Object, cx: &'a Context) -> BoxFuture<'a, Result<Output, StageError>>;
    /// See [`Stage::sample`].
    fn sample(&self) -> Option<Sample>;
    /// See [`Stage::summary`].
    fn summary(&self, output: &serde_json::Value) -> String;
}

impl<S: Stage> DynStage for S {
    fn name(&self) -> &str {
        Stage::name(self)
    }
    fn version(&self) -> &str {
        Stage::version(self)
    }
    fn process_boxed<'a>(&'a self, object: Object, cx: &'a Context) -> BoxFuture<'a, Result<Output, StageError>> {
        Box::pin(self.process(object, cx))
    }
    fn sample(&self) -> Option<Sample> {
        Stage::sample(self)
    }
    fn summary(&self, output: &serde_json::Value) -> String {
        Stage::summary(self, output)
    }
}

/// What a stage produced: a JSON document (stored in the result) and artifacts (stored
/// beside it).
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// The stage's output, stored as `output` in the result JSON.
    pub data: serde_json::Value,
    /// Files produced alongside (plots, crops, CSV tables).
    pub artifacts: Vec<Artifact>,
}

impl Output {
    /// An output holding a JSON value.
    pub fn json(data: serde_json::Value) -> Self {
        Self {
            data,
            artifacts: Vec::new(),
        }
    }

    /// An output holding any serializable value. Fails (permanently) only for values JSON
    /// cannot represent, such as maps with non-string keys.
    pub fn serialize<T: Serialize>(value: &T) -> Result<Self, StageError> {
        let data = serde_json::to_value(value).map_err(StageError::permanent)?;
        Ok(Self::json(data))
    }

    /// Adds an artifact.
    pub fn with_artifact(mut self, artifact: Artifact) -> Self {
        self.artifacts.push(artifact);
        self
    }
}

/// A file a stage produced, stored at `results/{stage}/{key}.artifacts/{name}`.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// File name (no `/`), e.g. `plot.png`.
    pub name: String,
    /// MIME type, e.g. `image/png`.
    pub content_type: String,
    /// The content.
    pub body: ArtifactBody,
}

/// Where an artifact's bytes are.
#[derive(Debug, Clone)]
pub enum ArtifactBody {
    /// In memory (small artifacts: plots, crops).
    Bytes(Bytes),
    /// In a file, typically under [`Context::scratch_dir`] (large artifacts: tables). The
    /// framework streams it to the store.
    File(PathBuf),
}

impl Artifact {
    /// An in-memory artifact.
    pub fn bytes(name: impl Into<String>, content_type: impl Into<String>, body: impl Into<Bytes>) -> Self {
        Self {
            name: name.into(),
            content_type: content_type.into(),
            body: ArtifactBody::Bytes(body.into()),
        }
    }

    /// An artifact whose content is in a local file.
    pub fn file(name: impl Into<String>, content_type: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            content_type: content_type.into(),
            body: ArtifactBody::File(path.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    struct Plain;
    impl Stage for Plain {
        fn name(&self) -> &str {
            "plain"
        }
        async fn process(&self, _object: Object, _cx: &Context) -> Result<Output, StageError> {
            Ok(Output::default())
        }
    }

    struct Own;
    impl Stage for Own {
        fn name(&self) -> &str {
            "own"
        }
        async fn process(&self, _object: Object, _cx: &Context) -> Result<Output, StageError> {
            Ok(Output::default())
        }
        fn summary(&self, output: &serde_json::Value) -> String {
            format!("{} lines", output["lines"])
        }
    }

    #[test]
    fn a_stage_without_its_own_summary_gets_the_rounded_scalar_line() {
        let stage: Arc<dyn DynStage> = Arc::new(Plain);
        let line = stage.summary(&json!({ "lines": 3, "mean": 0.100_000_000_000_000_03 }));
        assert_eq!(line, "lines 3, mean 0.1");
    }

    #[test]
    fn a_stage_summary_is_reached_through_the_dynamic_stage() {
        let stage: Arc<dyn DynStage> = Arc::new(Own);
        assert_eq!(stage.summary(&json!({ "lines": 3 })), "3 lines");
    }
}
