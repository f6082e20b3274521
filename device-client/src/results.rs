//! Processing results (`haul/{device}/upload/result`): buffered as they arrive, waited for
//! per request id.
//!
//! The device does not know how many stages will process an object. The rule: wait up to
//! [`ResultWait::first`] for the first result, then keep collecting until no new one came
//! for [`ResultWait::idle`], or until [`ResultWait::expect`] results arrived. A stage's
//! result that arrives twice (sent live, then again on request after a reconnect) counts once.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::contract::UploadResult;

/// Results kept for requests nobody waits for yet; the oldest are dropped beyond this.
const MAX_BUFFERED: usize = 1024;

/// How long to wait for results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultWait {
    /// Maximum wait for the first result.
    pub first: Duration,
    /// After a result, stop when no further one arrives within this.
    pub idle: Duration,
    /// Stop as soon as this many results arrived (when the caller knows the stage count).
    pub expect: Option<usize>,
}

impl Default for ResultWait {
    /// 120 s for the first result, then 10 s of quiet.
    fn default() -> Self {
        ResultWait {
            first: Duration::from_secs(120),
            idle: Duration::from_secs(10),
            expect: None,
        }
    }
}

/// Results received and not yet taken.
#[derive(Debug)]
pub struct ResultInbox {
    queue: Mutex<VecDeque<UploadResult>>,
    version: watch::Sender<u64>,
}

impl Default for ResultInbox {
    fn default() -> Self {
        ResultInbox {
            queue: Mutex::new(VecDeque::new()),
            version: watch::Sender::new(0),
        }
    }
}

impl ResultInbox {
    /// Adds a result (called by the MQTT task).
    pub fn push(&self, result: UploadResult) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.len() >= MAX_BUFFERED {
            queue.pop_front();
        }
        queue.push_back(result);
        drop(queue);
        self.version.send_modify(|v| *v += 1);
    }

    fn take(&self, request_id: &str) -> Vec<UploadResult> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let (mine, rest): (Vec<_>, Vec<_>) = queue.drain(..).partition(|r| r.request_id == request_id);
        queue.extend(rest);
        mine
    }

    /// Collects the results of `request_id` by the [`ResultWait`] rule, calling `on_each`
    /// as each arrives. Results that arrived before the call are included.
    pub async fn wait(
        &self,
        request_id: &str,
        wait: &ResultWait,
        mut on_each: impl FnMut(&UploadResult),
    ) -> Vec<UploadResult> {
        let mut changes = self.version.subscribe();
        let mut got = Vec::new();
        let mut deadline = Instant::now() + wait.first;
        loop {
            let before = got.len();
            for result in self.take(request_id) {
                // A stage's result sent again (asked for after a reconnect) counts once.
                if !got.iter().any(|g: &UploadResult| g.stage == result.stage) {
                    on_each(&result);
                    got.push(result);
                }
            }
            if got.len() > before {
                deadline = Instant::now() + wait.idle;
            }
            if wait.expect.is_some_and(|n| got.len() >= n) {
                return got;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return got,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn result(request_id: &str, stage: &str) -> UploadResult {
        UploadResult {
            request_id: request_id.into(),
            key: format!("incoming/d/{request_id}/f"),
            stage: stage.into(),
            outcome: "succeeded".into(),
            result_key: format!("results/{stage}/incoming/d/{request_id}/f.json"),
            output: None,
            output_truncated: false,
            error: None,
            summary: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_stops_after_the_idle_period_and_keeps_other_requests_results() {
        let inbox = Arc::new(ResultInbox::default());
        inbox.push(result("r1", "checksum"));
        inbox.push(result("r2", "checksum"));
        let pusher = inbox.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            pusher.push(result("r1", "plate"));
        });
        let wait = ResultWait {
            first: Duration::from_secs(60),
            idle: Duration::from_secs(5),
            expect: None,
        };
        let mut seen = Vec::new();
        let got = inbox.wait("r1", &wait, |r| seen.push(r.stage.clone())).await;
        assert_eq!(seen, ["checksum", "plate"]);
        assert_eq!(got.len(), 2);
        assert_eq!(inbox.take("r2").len(), 1, "r2's result must stay in the inbox");
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_with_no_result_ends_at_the_first_timeout() {
        let inbox = ResultInbox::default();
        let wait = ResultWait {
            first: Duration::from_secs(2),
            idle: Duration::from_secs(1),
            expect: None,
        };
        let started = Instant::now();
        assert!(inbox.wait("r1", &wait, |_| {}).await.is_empty());
        assert!(started.elapsed() >= Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_result_sent_again_counts_once() {
        let inbox = ResultInbox::default();
        inbox.push(result("r1", "a"));
        inbox.push(result("r1", "a"));
        inbox.push(result("r1", "b"));
        let wait = ResultWait {
            first: Duration::from_secs(600),
            idle: Duration::from_secs(600),
            expect: Some(2),
        };
        let mut calls = 0;
        let got = inbox.wait("r1", &wait, |_| calls += 1).await;
        assert_eq!((got.len(), calls), (2, 2));
    }

    #[tokio::test]
    async fn waiting_returns_early_when_the_expected_count_arrived() {
        let inbox = ResultInbox::default();
        inbox.push(result("r1", "a"));
        let wait = ResultWait {
            first: Duration::from_secs(600),
            idle: Duration::from_secs(600),
            expect: Some(1),
        };
        assert_eq!(inbox.wait("r1", &wait, |_| {}).await.len(), 1);
    }
}
