//! The console's HTTP routes (hyper, HTTP/1.1).

use std::convert::Infallible;
use std::path::{Component, Path};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::broadcast;

use super::{Activity, ConsoleContext, state};

const PAGE: &str = include_str!("page.html");

type Body = UnsyncBoxBody<Bytes, Infallible>;

pub(super) struct Shared {
    pub context: ConsoleContext,
    pub activity: Arc<Activity>,
    pub events: broadcast::Sender<String>,
}

pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        let service = hyper::service::service_fn(move |req| {
            let shared = shared.clone();
            async move { Ok::<_, Infallible>(route(&shared, req).await) }
        });
        let conn = http.serve_connection(TokioIo::new(socket), service).into_owned();
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
}

async fn route(shared: &Shared, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    match (req.method(), path.as_str()) {
        (&Method::GET, "/") => full(StatusCode::OK, "text/html; charset=utf-8", PAGE),
        (&Method::GET, "/api/state") => {
            let context = shared.context.clone();
            let activity = shared.activity.clone();
            // Reading the results folder is file I/O: off the async threads.
            match tokio::task::spawn_blocking(move || state::snapshot(&context, &activity)).await {
                Ok(doc) => full(StatusCode::OK, "application/json", doc.to_string()),
                Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            }
        }
        (&Method::GET, "/api/events") => events(shared),
        (&Method::GET, "/metrics") => full(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            shared.activity.prometheus(),
        ),
        (&Method::POST, "/api/dlq/replay") => replay(shared, req.uri().query().unwrap_or("")).await,
        (&Method::GET, p) if p.starts_with("/files/") => file(shared, &p["/files/".len()..]).await,
        _ => error(StatusCode::NOT_FOUND, &format!("no such page: {path}")),
    }
}

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Full::new(body.into()).boxed_unsync())
        .unwrap_or_default()
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    full(
        status,
        "application/json",
        serde_json::json!({ "error": message }).to_string(),
    )
}

/// The live feed: one `data:` line per event; a comment every 15 s keeps proxies open.
fn events(shared: &Shared) -> Response<Body> {
    let rx = tokio_stream_from(shared.events.subscribe());
    let body = StreamBody::new(rx.map(|line| Ok::<_, Infallible>(Frame::data(Bytes::from(line)))));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-store")
        .body(BodyExt::boxed_unsync(body))
        .unwrap_or_default()
}

/// The broadcast receiver as a stream of SSE frames (lagging drops old events: the page
/// refreshes its state from `/api/state` on every event anyway).
fn tokio_stream_from(rx: broadcast::Receiver<String>) -> impl futures_util::Stream<Item = String> + Send {
    futures_util::stream::unfold(rx, |mut rx| async move {
        let heartbeat = tokio::time::sleep(std::time::Duration::from_secs(15));
        tokio::select! {
            got = rx.recv() => match got {
                Ok(line) => Some((format!("data: {line}\n\n"), rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => Some(("data: {\"event\":\"lagged\"}\n\n".to_owned(), rx)),
                Err(broadcast::error::RecvError::Closed) => None,
            },
            () = heartbeat => Some((": keep-alive\n\n".to_owned(), rx)),
        }
    })
}

/// An object of one of the stack's buckets.
async fn file(shared: &Shared, rest: &str) -> Response<Body> {
    let decoded = percent_encoding::percent_decode_str(rest)
        .decode_utf8_lossy()
        .into_owned();
    let Some((bucket, key)) = decoded.split_once('/') else {
        return error(StatusCode::NOT_FOUND, "expected /files/{bucket}/{key}");
    };
    let storage = &shared.context.config.storage;
    if bucket != storage.bucket && Some(bucket) != storage.results_bucket.as_deref() {
        return error(
            StatusCode::NOT_FOUND,
            &format!("{bucket} is not a bucket of this stack"),
        );
    }
    let store = haul_pipeline::store::FsStore::new(&shared.context.data);
    let path = match store.path_of(bucket, key) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => full(StatusCode::OK, content_type(key), bytes),
        Err(_) => error(StatusCode::NOT_FOUND, &format!("no object {bucket}/{key}")),
    }
}

fn content_type(key: &str) -> &'static str {
    let ext = key.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "json" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "txt" | "log" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Delivers the dead letter at `path=` (relative to the DLQ folder) again to its stage and
/// removes it.
async fn replay(shared: &Shared, query: &str) -> Response<Body> {
    let rel = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("path="))
        .map(|v| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
        .unwrap_or_default();
    let inside = !rel.is_empty() && Path::new(&rel).components().all(|c| matches!(c, Component::Normal(_)));
    if !inside || !rel.ends_with(".json") {
        return error(StatusCode::BAD_REQUEST, &format!("not a dead letter: {rel:?}"));
    }
    let path = shared.context.data.join(".haul").join("dlq").join(&rel);
    let Ok(text) = tokio::fs::read_to_string(&path).await else {
        return error(StatusCode::NOT_FOUND, &format!("no dead letter {rel}"));
    };
    let stage = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|d| d["haul_dlq"]["stage"].as_str().map(str::to_owned));
    let Some(stage) = stage else {
        return error(StatusCode::BAD_REQUEST, &format!("{rel} names no stage"));
    };
    match shared.context.bus.redeliver(&stage, &text) {
        Ok(queued) => {
            if let Err(e) = tokio::fs::remove_file(&path).await {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("{rel} queued but not removed: {e}"),
                );
            }
            full(
                StatusCode::OK,
                "application/json",
                serde_json::json!({ "queued": queued, "stage": stage }).to_string(),
            )
        }
        Err(e) => error(StatusCode::BAD_REQUEST, &format!("{rel}: {e}")),
    }
}
