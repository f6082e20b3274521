//! CPU-bound stage work off the async threads.

use crate::error::StageError;

/// Runs `work` on tokio's blocking pool. A panic inside it is resumed in the calling task,
/// so the framework reports it as a panic of this record (not as an error of the pool). The
/// invocation's cancellation token goes with it ([`crate::cancel::cancelled`] answers there).
///
/// ```
/// # async fn demo() -> Result<(), haul_pipeline::StageError> {
/// let sum = haul_pipeline::blocking(|| (1..=10u64).sum::<u64>()).await?;
/// assert_eq!(sum, 55);
/// # Ok(()) }
/// ```
pub async fn blocking<T, F>(work: F) -> Result<T, StageError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let token = crate::cancel::current();
    match tokio::task::spawn_blocking(move || crate::cancel::on_thread(token, work)).await {
        Ok(value) => Ok(value),
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(StageError::retryable(format!("blocking task cancelled: {err}"))),
    }
}
