//! Streamed `PUT`s to presigned URLs (hyper 1 + rustls/ring), with failure classification.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::body::FileBody;
use crate::tls::TlsError;

/// Error bodies are read up to this size.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// hyper queues body chunks until this many bytes wait to be written (default ~400 KiB):
/// with one chunk queued per connection, memory per part in flight stays near two chunks.
const MAX_WRITE_QUEUE: usize = 64 * 1024;

/// What to do about a failed `PUT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Network error, timeout, 5xx, 408, 429: try the same URL again after a backoff.
    Retry,
    /// The URL expired: ask the cloud for a fresh one.
    Expired,
    /// Anything else (signature mismatch, bad digest...): retrying will not help.
    Permanent,
}

/// A failed `PUT`.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL or a header is not valid.
    #[error("invalid request to {host}: {message}")]
    Invalid {
        /// Host of the URL.
        host: String,
        /// What is wrong.
        message: String,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Connection, TLS or transfer failure.
    #[error("upload to {host} failed: {message}")]
    Network {
        /// Host of the URL.
        host: String,
        /// The cause, with its sources.
        message: String,
    },
    /// No byte moved for the stall timeout.
    #[error("upload to {host} stalled: no progress for {after:?}")]
    Stalled {
        /// Host of the URL.
        host: String,
        /// The stall timeout.
        after: Duration,
    },
    /// The endpoint answered with an error status.
    #[error("upload to {host} refused: HTTP {status} {code}: {message}")]
    Status {
        /// Host of the URL.
        host: String,
        /// HTTP status.
        status: u16,
        /// S3 error code (`SignatureDoesNotMatch`, `BadDigest`, ...), or empty.
        code: String,
        /// S3 error message, or the start of the body.
        message: String,
    },
}

impl HttpError {
    /// How to react to this error.
    pub fn failure(&self) -> Failure {
        match self {
            HttpError::Network { .. } | HttpError::Stalled { .. } => Failure::Retry,
            HttpError::Status {
                status, code, message, ..
            } => classify_status(*status, code, message),
            HttpError::Invalid { .. } | HttpError::File { .. } => Failure::Permanent,
        }
    }
}

/// Classifies an S3 error response.
pub fn classify_status(status: u16, code: &str, message: &str) -> Failure {
    let expired = message.to_ascii_lowercase().contains("expired")
        || matches!(code, "ExpiredToken" | "RequestExpired" | "TokenRefreshRequired");
    match status {
        400 | 403 if expired => Failure::Expired,
        408 | 429 | 500..=599 => Failure::Retry,
        _ => Failure::Permanent,
    }
}

/// One `PUT` of a file range.
#[derive(Debug)]
pub struct PutRange<'a> {
    /// Presigned URL.
    pub url: &'a str,
    /// Headers to send exactly (content-length included).
    pub headers: &'a BTreeMap<String, String>,
    /// The file.
    pub path: &'a Path,
    /// First byte.
    pub offset: u64,
    /// Byte count.
    pub len: u64,
    /// Abort when no byte moved for this long.
    pub stall_timeout: Duration,
}

/// A reusable HTTP(S) client for uploads.
#[derive(Clone)]
pub struct HttpClient {
    inner: HyperClient<HttpsConnector<HttpConnector>, FileBody>,
}

impl HttpClient {
    /// A client trusting the Mozilla roots plus `ca`.
    pub fn new(ca: Option<&Path>) -> Result<Self, TlsError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(30)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(crate::tls::http_config(ca)?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let inner = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .http1_max_buf_size(MAX_WRITE_QUEUE)
            .build(https);
        Ok(HttpClient { inner })
    }

    /// Streams the range to the URL, counting bytes in `progress`; returns the response's
    /// `ETag` (quotes kept).
    pub async fn put(&self, put: &PutRange<'_>, progress: &Arc<AtomicU64>) -> Result<Option<String>, HttpError> {
        let uri: http::Uri = put.url.parse().map_err(|e| HttpError::Invalid {
            host: "?".into(),
            message: format!("URL: {e}"),
        })?;
        let host = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let mut builder = http::Request::put(uri);
        for (name, value) in put.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let local = Arc::new(AtomicU64::new(0));
        let body = FileBody::open(put.path, put.offset, put.len, [progress.clone(), local.clone()])
            .await
            .map_err(|source| HttpError::File {
                path: put.path.to_owned(),
                source,
            })?;
        let request = builder.body(body).map_err(|e| HttpError::Invalid {
            host: host.clone(),
            message: e.to_string(),
        })?;
        let sent = tokio::select! {
            r = self.send(request, &host) => r,
            () = stall_watch(&local, put.stall_timeout) => Err(HttpError::Stalled { host: host.clone(), after: put.stall_timeout }),
        };
        if sent.is_err() {
            // The bytes will be sent again: take them off the progress display.
            progress.fetch_sub(local.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        sent
    }

    async fn send(&self, request: http::Request<FileBody>, host: &str) -> Result<Option<String>, HttpError> {
        let response = self.inner.request(request).await.map_err(|e| HttpError::Network {
            host: host.to_owned(),
            message: chain(&e),
        })?;
        let status = response.status();
        let etag = response
            .headers()
            .get(http::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if status.is_success() {
            // Drain the (empty) body so the connection returns to the pool.
            let _ = response.into_body().collect().await;
            return Ok(etag);
        }
        let body = http_body_util::Limited::new(response.into_body(), MAX_ERROR_BODY)
            .collect()
            .await;
        let text = body
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        let code = xml_field(&text, "Code").unwrap_or_default();
        let message = xml_field(&text, "Message").unwrap_or_else(|| text.chars().take(300).collect());
        Err(HttpError::Status {
            host: host.to_owned(),
            status: status.as_u16(),
            code,
            message,
        })
    }
}

/// Resolves when `counter` has not moved for `timeout`.
async fn stall_watch(counter: &AtomicU64, timeout: Duration) {
    let mut last = counter.load(Ordering::Relaxed);
    let mut still_since = tokio::time::Instant::now();
    let step = (timeout / 4).max(Duration::from_millis(50));
    loop {
        tokio::time::sleep(step).await;
        let now = counter.load(Ordering::Relaxed);
        if now != last {
            (last, still_since) = (now, tokio::time::Instant::now());
        } else if still_since.elapsed() >= timeout {
            return;
        }
    }
}

/// `<Name>value</Name>` from an S3 error document.
fn xml_field(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(xml[start..end].to_owned())
}

/// An error and its sources on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(src) = cur {
        s.push_str(": ");
        s.push_str(&src.to_string());
        cur = src.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_urls_ask_for_a_fresh_one_and_5xx_retries() {
        assert_eq!(
            classify_status(403, "AccessDenied", "Request has expired"),
            Failure::Expired
        );
        assert_eq!(
            classify_status(400, "ExpiredToken", "The provided token has expired."),
            Failure::Expired
        );
        assert_eq!(classify_status(403, "SignatureDoesNotMatch", "bad"), Failure::Permanent);
        assert_eq!(
            classify_status(400, "BadDigest", "checksum_sha256 mismatch"),
            Failure::Permanent
        );
        assert_eq!(classify_status(503, "SlowDown", "reduce"), Failure::Retry);
        assert_eq!(classify_status(429, "", ""), Failure::Retry);
    }

    #[test]
    fn s3_error_documents_are_read() {
        let xml = "<?xml version=\"1.0\"?><Error><Code>BadDigest</Code><Message>checksum mismatch</Message></Error>";
        assert_eq!(xml_field(xml, "Code").as_deref(), Some("BadDigest"));
        assert_eq!(xml_field(xml, "Message").as_deref(), Some("checksum mismatch"));
        assert_eq!(xml_field("plain text", "Code"), None);
    }
}
