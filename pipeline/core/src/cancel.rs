//! Cooperative cancellation: an attempt that ran out of time stops using CPU and memory.
//!
//! The framework abandons an attempt at its timeout, but CPU-bound work already running on
//! a blocking thread ([`crate::blocking`]) would otherwise go on to its end, and retries
//! would pile up beside it. Each invocation therefore carries a token, cancelled at the
//! timeout; [`crate::blocking`] hands it to the thread it runs the work on; and long loops
//! in stage code ask [`cancelled`] now and then (every packet, row or pyramid level) and
//! return early. Outside an invocation (tests, evaluations) nothing is ever cancelled.
//!
//! ```
//! fn sum_rows(rows: &[Vec<f32>]) -> Option<f32> {
//!     let mut total = 0.0;
//!     for row in rows {
//!         if haul_pipeline::cancel::cancelled() {
//!             return None; // the attempt timed out: stop, nobody waits for this
//!         }
//!         total += row.iter().sum::<f32>();
//!     }
//!     Some(total)
//! }
//! assert_eq!(sum_rows(&[vec![1.0, 2.0]]), Some(3.0));
//! ```

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Cancels an invocation's work.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels: every [`cancelled`] asked under this token from now on answers `true`.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

tokio::task_local! {
    static TASK: CancelToken;
}

thread_local! {
    static THREAD: RefCell<Option<CancelToken>> = const { RefCell::new(None) };
}

/// Whether the current invocation was cancelled (its timeout passed). Cheap: call it in
/// long loops of stage code, on async tasks or blocking threads alike.
pub fn cancelled() -> bool {
    let on_thread = THREAD.with(|t| t.borrow().as_ref().map(CancelToken::is_cancelled));
    on_thread
        .or_else(|| TASK.try_with(CancelToken::is_cancelled).ok())
        .unwrap_or(false)
}

/// The current invocation's token, if any (for work handed to another thread).
pub fn current() -> Option<CancelToken> {
    THREAD
        .with(|t| t.borrow().clone())
        .or_else(|| TASK.try_with(CancelToken::clone).ok())
}

/// Runs `fut` with `token` as the current invocation's token.
pub async fn scope<F: std::future::Future>(token: CancelToken, fut: F) -> F::Output {
    TASK.scope(token, fut).await
}

/// Runs `work` on this thread with `token` as the current token (blocking threads).
pub fn on_thread<T>(token: Option<CancelToken>, work: impl FnOnce() -> T) -> T {
    /// Restores the thread's previous token, also when `work` panics (pool threads live on).
    struct Restore(Option<CancelToken>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            THREAD.with(|t| *t.borrow_mut() = previous);
        }
    }
    let _restore = Restore(THREAD.with(|t| t.replace(token)));
    work()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_reaches_async_code_and_blocking_threads() {
        assert!(!cancelled(), "nothing is cancelled outside an invocation");
        let token = CancelToken::new();
        let seen = scope(token.clone(), async {
            token.cancel();
            let here = cancelled();
            let handed = current();
            let there = tokio::task::spawn_blocking(move || on_thread(handed, cancelled))
                .await
                .unwrap();
            (here, there)
        })
        .await;
        assert_eq!(seen, (true, true));
        assert!(!cancelled());
    }
}
