//! Serving [`super::FolderS3`] over HTTP on a loopback port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

use s3s::S3;

use super::{FolderS3, Notifier, Stats};

/// How to start the endpoint.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The data folder (one sub-folder per bucket).
    pub root: PathBuf,
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// The only access key accepted.
    pub access_key: String,
    /// Its secret.
    pub secret_key: String,
    /// The region in notifications.
    pub region: String,
    /// Buckets created at start if missing.
    pub buckets: Vec<String>,
}

/// A running endpoint; stops when dropped.
pub struct S3Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    stats: Arc<Stats>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl S3Server {
    /// Binds, creates the buckets, and serves in a background task.
    pub async fn start(options: ServerOptions, notifier: Option<Notifier>) -> std::io::Result<Self> {
        Self::start_with(options, notifier, |s3| s3).await
    }

    /// Like [`S3Server::start`], serving what `wrap` makes of the endpoint: tests put a
    /// layer in front of it that observes requests or injects faults (a part that never
    /// answers), and delegates the rest.
    pub async fn start_with<S: S3>(
        options: ServerOptions,
        notifier: Option<Notifier>,
        wrap: impl FnOnce(FolderS3) -> S,
    ) -> std::io::Result<Self> {
        for bucket in &options.buckets {
            tokio::fs::create_dir_all(options.root.join(bucket)).await?;
        }
        let s3 = FolderS3::new(&options.root, &options.region, notifier);
        let stats = s3.stats();
        let mut builder = S3ServiceBuilder::new(wrap(s3));
        builder.set_auth(SimpleAuth::from_single(
            options.access_key.clone(),
            options.secret_key.clone(),
        ));
        let service = builder.build();
        let listener = TcpListener::bind(options.bind).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let socket = match listener.accept().await {
                    Ok((socket, _)) => socket,
                    Err(e) => {
                        tracing::warn!(error = %e, "Embedded S3 endpoint could not accept a connection.");
                        continue;
                    }
                };
                let _ = socket.set_nodelay(true);
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "S3 connection ended with an error.");
                    }
                });
            }
        });
        Ok(Self {
            url: format!("http://{addr}"),
            addr,
            stats,
            task,
        })
    }

    /// The request counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The request counters, shared (the console reads upload progress from them).
    pub fn shared_stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }
}
