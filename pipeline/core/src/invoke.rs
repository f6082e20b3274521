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
    // Failure messages reach devices and result files: the server's paths are replaced by
    // what the reader knows (the key) before they leave.
    let mut hidden: Vec<(String, String)> = Vec::new();
    if let Some(path) = object.local_path() {
        hidden.push((path.display().to_string(), object.key().to_owned()));
    }
    hidden.push((cx.scratch_dir().display().to_string(), "<scratch>".to_owned()));
    let token = crate::cancel::CancelToken::new();
    let guarded = crate::cancel::scope(
        token.clone(),
        AssertUnwindSafe(stage.process_boxed(object, &cx)).catch_unwind(),
    );
    let finished = tokio::time::timeout(timeout, guarded).await;
    if finished.is_err() {
        // Work still running on a blocking thread stops at its next check.
        token.cancel();
    }
    let result = match finished {
        Ok(Ok(Ok(output))) => Ok(output),
        Ok(Ok(Err(err))) => Err(Failure {
            message: without_paths(Failure::from_stage_error(&err).message, &hidden),
            ..Failure::from_stage_error(&err)
        }),
        Ok(Err(panic)) => Err(Failure {
            kind: ErrorKind::Panic,
            message: without_paths(format!("stage panicked: {}", panic_message(&*panic)), &hidden),
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

/// `message` with each hidden path replaced by its public name.
fn without_paths(mut message: String, hidden: &[(String, String)]) -> String {
    for (path, name) in hidden {
        if !path.is_empty() && message.contains(path.as_str()) {
            message = message.replace(path.as_str(), name);
        }
    }
    message
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::stage::Stage;

    /// CPU work on a blocking thread that runs until it is told to stop.
    struct Spin(Arc<AtomicBool>);

    impl Stage for Spin {
        fn name(&self) -> &str {
            "spin"
        }
        async fn process(&self, _: Object, _: &Context) -> Result<Output, StageError> {
            let stopped = self.0.clone();
            crate::blocking(move || {
                while !crate::cancel::cancelled() {
                    std::hint::spin_loop();
                }
                stopped.store(true, Ordering::SeqCst);
            })
            .await?;
            Ok(Output::default())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_timed_out_attempt_stops_its_blocking_work() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.bin");
        std::fs::write(&path, b"x").unwrap();
        let stopped = Arc::new(AtomicBool::new(false));
        let stage = Spin(stopped.clone());
        let inv = invoke(&stage, Object::from_file(&path).unwrap(), 1, Duration::from_millis(100)).await;
        assert_eq!(inv.result.unwrap_err().kind, ErrorKind::Timeout);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !stopped.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the blocking work is still running");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Fails naming the object's local path and the scratch folder, as a decoder error would.
    struct NamesPaths;

    impl Stage for NamesPaths {
        fn name(&self) -> &str {
            "names-paths"
        }
        async fn process(&self, object: Object, cx: &Context) -> Result<Output, StageError> {
            let file = object.file(cx.scratch_dir()).await?;
            Err(StageError::permanent(format!(
                "{}: bad header (copy in {}/body-1)",
                file.path().display(),
                cx.scratch_dir().display()
            )))
        }
    }

    #[tokio::test]
    async fn failure_messages_name_the_key_not_the_servers_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("heart.wav");
        std::fs::write(&path, b"RIFF").unwrap();
        let inv = invoke(
            &NamesPaths,
            Object::from_file(&path).unwrap(),
            1,
            Duration::from_secs(5),
        )
        .await;
        let message = inv.result.unwrap_err().message;
        assert!(!message.contains(&dir.path().display().to_string()), "{message}");
        assert!(!message.contains("/tmp"), "{message}");
        assert!(
            message.starts_with("heart.wav: bad header (copy in <scratch>/body-1)"),
            "{message}"
        );
    }
}
