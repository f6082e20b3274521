//! Calls a stage with the guards every runtime applies: a timeout and panic capture.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures_util::FutureExt;

use crate::context::Context;
use crate::error::{ErrorKind, StageError};
use crate::object::Object;
use crate::stage::{DynStage, Output};

/// Why an invocation produced no output.
#[derive(Debug)]
pub struct Failure {
    /// Retryable, permanent, timeout or panic.
    pub kind: ErrorKind,
    /// The message, with causes.
    pub message: String,
}

impl Failure {
    fn from_stage_error(err: &StageError) -> Self {
        Self {
            kind: err.kind(),
            message: err.chain(),
        }
    }
}

/// The outcome of one invocation. Keep it alive until file artifacts are stored: they live
/// in the invocation's scratch folder, which is removed on drop.
#[derive(Debug)]
pub struct Invocation {
    /// The output, or why there is none.
    pub result: Result<Output, Failure>,
    /// Wall-clock time spent in the stage.
    pub elapsed: Duration,
    _context: Option<Context>,
}

/// Runs `stage` on `object` with a deadline of `timeout`; a panic inside the stage becomes a
/// [`ErrorKind::Panic`] failure of this record only.
pub async fn invoke(stage: &dyn DynStage, object: Object, attempt: u32, timeout: Duration) -> Invocation {
    let started = Instant::now();
    let cx = match Context::new(stage.name(), attempt, timeout) {
        Ok(cx) => cx,
        Err(e) => {
            let failure = Failure {
                kind: ErrorKind::Retryable,
                message: format!("cannot create a scratch folder: {e}"),
            };
            return Invocation {
                result: Err(failure),
                elapsed: started.elapsed(),
                _context: None,
            };
        }
    };
    let guarded = AssertUnwindSafe(stage.process_boxed(object, &cx)).catch_unwind();
    let result = match tokio::time::timeout(timeout, guarded).await {
        Ok(Ok(Ok(output))) => Ok(output),
        Ok(Ok(Err(err))) => Err(Failure::from_stage_error(&err)),
        Ok(Err(panic)) => Err(Failure {
            kind: ErrorKind::Panic,
            message: format!("stage panicked: {}", panic_message(&*panic)),
        }),
        Err(_) => Err(Failure {
            kind: ErrorKind::Timeout,
            message: format!("stage did not finish within {}", humantime::format_duration(timeout)),
        }),
    };
    Invocation {
        result,
        elapsed: started.elapsed(),
        _context: Some(cx),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}
