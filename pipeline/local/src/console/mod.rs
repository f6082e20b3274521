//! The local stack's console: a web page `haul dev` serves on a loopback address, showing
//! devices, uploads in flight with their progress, each object's stage results with their
//! summaries and artifacts (pictures inline), and the dead-letter folder with a replay
//! button; live, through server-sent events.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the page (`page.html`, plain HTML and JavaScript, no build step) |
//! | `GET /api/state` | everything the page shows, as JSON ([`state`]) |
//! | `GET /api/events` | the stack's events as they happen (`text/event-stream`) |
//! | `GET /metrics` | counters since the start, in Prometheus' text format |
//! | `GET /files/{bucket}/{key}` | an object (artifacts: plots, pictures, tables) |
//! | `POST /api/dlq/replay?path=P` | delivers a dead letter again to its stage, then removes it |
//!
//! The console has no authentication, like the rest of `haul dev`: it listens on loopback
//! only.

mod http;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::broadcast;

use crate::bus::LocalBus;
use crate::events::StackEvent;
use crate::s3::Stats;
use haul_pipeline::BoxError;
use haul_pipeline::config::HaulConfig;
pub use state::Activity;

/// What the console reads.
#[derive(Clone)]
pub struct ConsoleContext {
    /// The data folder.
    pub data: std::path::PathBuf,
    /// The configuration (bucket, prefixes).
    pub config: Arc<HaulConfig>,
    /// Bytes received per upload in progress.
    pub s3_stats: Arc<Stats>,
    /// Where dead letters are delivered again.
    pub bus: Arc<LocalBus>,
    /// The stack's endpoints, shown in the page's header.
    pub endpoints: Vec<(String, String)>,
}

/// A running console; stops when dropped.
pub struct Console {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    activity: Arc<Activity>,
    events: broadcast::Sender<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Console {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Console {
    /// Binds `bind` (a loopback address: the console has no authentication) and serves.
    pub async fn start(bind: SocketAddr, context: ConsoleContext) -> Result<Self, BoxError> {
        if !bind.ip().is_loopback() {
            return Err(format!(
                "--console-addr {bind}: the console has no authentication, so it listens on loopback only (127.0.0.1 or ::1)"
            )
            .into());
        }
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| format!("console on {bind}: {e}"))?;
        let addr = listener.local_addr()?;
        let (events, _) = broadcast::channel(1024);
        let activity = Arc::new(Activity::default());
        let shared = Arc::new(http::Shared {
            context,
            activity: activity.clone(),
            events: events.clone(),
        });
        let task = tokio::spawn(http::serve(listener, shared));
        Ok(Self {
            url: format!("http://{addr}/"),
            activity,
            events,
            task,
        })
    }

    /// Takes in one event of the stack: the page's state and its live feed.
    pub fn observe(&self, event: &StackEvent) {
        self.activity.observe(event);
        // Nobody listening is fine.
        let _ = self.events.send(event.to_json().to_string());
    }
}
