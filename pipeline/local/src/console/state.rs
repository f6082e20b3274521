//! What the console shows: devices and uploads from the stack's events, results and dead
//! letters from the data folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use haul_contract::key::UploadKey;
use haul_contract::{UploadPlan, UploadResponse};
use haul_pipeline::result::ResultRecord;
use serde::Serialize;
use serde_json::{Value, json};

use super::ConsoleContext;
use crate::events::StackEvent;

/// Uploads remembered (the oldest are forgotten first).
const MAX_UPLOADS: usize = 200;
/// Objects listed with their results (the newest).
const MAX_OBJECTS: usize = 100;

/// A device seen since the stack started.
#[derive(Debug, Clone, Serialize)]
pub struct Device {
    /// Its name (certificate CN / client id).
    pub name: String,
    /// When it last asked for an upload.
    pub last_seen: DateTime<Utc>,
    /// Uploads it was granted.
    pub uploads: u64,
}

/// An upload granted since the stack started.
#[derive(Debug, Clone, Serialize)]
pub struct Upload {
    /// The object key.
    pub key: String,
    /// The device.
    pub device: String,
    /// The file name.
    pub file: String,
    /// The file's size.
    pub size: u64,
    /// `single` or `multipart`.
    pub kind: &'static str,
    /// The stages it is routed to.
    pub stages: Vec<String>,
    /// When it was granted.
    pub accepted_at: DateTime<Utc>,
    /// When the object was stored (the upload finished).
    pub stored_at: Option<DateTime<Utc>>,
    /// Stages finished with it: stage -> status label.
    pub finished: BTreeMap<String, String>,
}

/// Devices and uploads, from the events.
#[derive(Debug, Default)]
pub struct Activity {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    devices: BTreeMap<String, Device>,
    uploads: Vec<Upload>,
    counters: Counters,
}

/// Totals since the stack started, for `/metrics`.
#[derive(Debug, Default)]
struct Counters {
    answered: BTreeMap<&'static str, u64>,
    stored: u64,
    stored_bytes: u64,
    runs: haul_pipeline::metrics::RunCounts,
    retries: BTreeMap<String, u64>,
    dead_letters: BTreeMap<String, u64>,
}

impl Activity {
    /// Takes in one event.
    pub fn observe(&self, event: &StackEvent) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let now = Utc::now();
        inner.counters.count(event);
        match event {
            StackEvent::Answered { device, response } => {
                let d = inner.devices.entry(device.clone()).or_insert_with(|| Device {
                    name: device.clone(),
                    last_seen: now,
                    uploads: 0,
                });
                d.last_seen = now;
                if let UploadResponse::Accepted {
                    key, upload, stages, ..
                } = response
                {
                    let fresh = !inner.uploads.iter().any(|u| &u.key == key);
                    if fresh {
                        if let Some(d) = inner.devices.get_mut(device) {
                            d.uploads += 1;
                        }
                        let (kind, size) = match upload {
                            UploadPlan::Single { headers, .. } => (
                                "single",
                                headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0),
                            ),
                            // A plan may list only some parts; the stored ones are full parts.
                            UploadPlan::Multipart {
                                parts,
                                received,
                                part_size,
                                ..
                            } => {
                                let listed: u64 = parts.iter().map(|p| p.size).sum();
                                ("multipart", listed + received.len() as u64 * part_size)
                            }
                        };
                        let file = key.rsplit('/').next().unwrap_or(key).to_owned();
                        inner.uploads.push(Upload {
                            key: key.clone(),
                            device: device.clone(),
                            file,
                            size,
                            kind,
                            stages: stages.clone(),
                            accepted_at: now,
                            stored_at: None,
                            finished: BTreeMap::new(),
                        });
                        let excess = inner.uploads.len().saturating_sub(MAX_UPLOADS);
                        inner.uploads.drain(..excess);
                    }
                }
            }
            StackEvent::Stored { key, size, .. } => {
                if let Some(u) = inner.uploads.iter_mut().find(|u| &u.key == key) {
                    u.stored_at = Some(now);
                    u.size = size.unwrap_or(u.size);
                }
            }
            StackEvent::Finished(o) => {
                if let (Some(u), Some(stage)) = (inner.uploads.iter_mut().find(|u| u.key == o.key), &o.stage) {
                    u.finished.insert(stage.clone(), o.status.label());
                }
            }
            StackEvent::Retrying { .. } | StackEvent::DeadLettered { .. } => {}
        }
    }

    /// The counters in Prometheus' text format.
    pub fn prometheus(&self) -> String {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.counters.prometheus()
    }

    fn snapshot(&self) -> (Vec<Device>, Vec<Upload>) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (inner.devices.values().cloned().collect(), inner.uploads.clone())
    }
}

impl Counters {
    fn count(&mut self, event: &StackEvent) {
        match event {
            StackEvent::Answered { response, .. } => {
                let answer = match response {
                    UploadResponse::Accepted { .. } => "accepted",
                    UploadResponse::Rejected { .. } => "rejected",
                    UploadResponse::Completed { .. } => "completed",
                };
                *self.answered.entry(answer).or_default() += 1;
            }
            StackEvent::Stored { size, .. } => {
                self.stored += 1;
                self.stored_bytes += size.unwrap_or(0);
            }
            StackEvent::Finished(o) => self.runs.observe(o),
            StackEvent::Retrying { stage, .. } => *self.retries.entry(stage.clone()).or_default() += 1,
            StackEvent::DeadLettered { stage, .. } => *self.dead_letters.entry(stage.clone()).or_default() += 1,
        }
    }

    fn prometheus(&self) -> String {
        use std::fmt::Write;
        let label = haul_pipeline::metrics::prometheus_label;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP haul_uploads_answered_total Device upload requests answered, by answer."
        );
        let _ = writeln!(out, "# TYPE haul_uploads_answered_total counter");
        for (answer, n) in &self.answered {
            let _ = writeln!(out, "haul_uploads_answered_total{{answer=\"{answer}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP haul_objects_stored_total Objects stored in the bucket.");
        let _ = writeln!(out, "# TYPE haul_objects_stored_total counter");
        let _ = writeln!(out, "haul_objects_stored_total {}", self.stored);
        let _ = writeln!(
            out,
            "# HELP haul_objects_stored_bytes_total Bytes of the objects stored."
        );
        let _ = writeln!(out, "# TYPE haul_objects_stored_bytes_total counter");
        let _ = writeln!(out, "haul_objects_stored_bytes_total {}", self.stored_bytes);
        self.runs.write_prometheus(&mut out);
        for (name, help, map) in [
            ("haul_retries_total", "Deliveries retried, by stage.", &self.retries),
            (
                "haul_dead_letters_total",
                "Deliveries moved to the dead-letter folder, by stage.",
                &self.dead_letters,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (stage, n) in map {
                let _ = writeln!(out, "{name}{{stage=\"{}\"}} {n}", label(stage));
            }
        }
        out
    }
}

/// Everything the page shows.
pub fn snapshot(context: &ConsoleContext, activity: &Activity) -> Value {
    let (devices, mut uploads) = activity.snapshot();
    uploads.reverse();
    let receiving: BTreeMap<String, u64> = context.s3_stats.receiving().into_iter().collect();
    let uploads: Vec<Value> = uploads
        .iter()
        .map(|u| {
            let mut v = json!(u);
            v["received"] = json!(match u.stored_at {
                Some(_) => u.size,
                None => receiving.get(&u.key).copied().unwrap_or(0),
            });
            v
        })
        .collect();
    let storage = &context.config.storage;
    let bucket_dir = context.data.join(&storage.bucket);
    json!({
        "endpoints": context.endpoints.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
        "bucket": storage.bucket,
        "devices": devices,
        "uploads": uploads,
        "objects": objects(&bucket_dir, &storage.results_prefix, &storage.incoming_prefix),
        "dead_letters": dead_letters(&context.data.join(".haul").join("dlq")),
    })
}

/// The newest objects with a result, each with every stage's result (summary, error,
/// artifacts).
fn objects(bucket_dir: &Path, results_prefix: &str, incoming_prefix: &str) -> Vec<Value> {
    let mut records: Vec<(std::time::SystemTime, ResultRecord, String)> = Vec::new();
    for path in files_under(&bucket_dir.join(results_prefix.trim_end_matches('/')), "json") {
        let Ok(text) = std::fs::read(&path) else { continue };
        let Ok(record) = serde_json::from_slice::<ResultRecord>(&text) else {
            continue;
        };
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        let result_key = path
            .strip_prefix(bucket_dir)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        records.push((modified, record, result_key));
    }
    let mut by_key: BTreeMap<String, (std::time::SystemTime, Vec<Value>)> = BTreeMap::new();
    for (modified, r, result_key) in records {
        let entry = by_key.entry(r.source.key.clone()).or_insert((modified, Vec::new()));
        entry.0 = entry.0.max(modified);
        entry.1.push(json!({
            "stage": r.stage.name,
            "outcome": r.outcome,
            "summary": r.summary,
            "error": r.error.map(|e| e.message),
            "duration_ms": r.timing.duration_ms,
            "result_key": result_key,
            "artifacts": r.artifacts.iter().map(|a| json!({
                "name": a.name, "key": a.key, "content_type": a.content_type, "size": a.size,
            })).collect::<Vec<_>>(),
        }));
    }
    let mut list: Vec<(std::time::SystemTime, String, Vec<Value>)> =
        by_key.into_iter().map(|(k, (t, results))| (t, k, results)).collect();
    list.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    list.truncate(MAX_OBJECTS);
    list.into_iter()
        .map(|(t, key, mut results)| {
            results.sort_by(|a, b| a["stage"].as_str().cmp(&b["stage"].as_str()));
            let device = UploadKey::parse(incoming_prefix, &key).map(|k| k.device.to_owned());
            json!({
                "key": key,
                "device": device,
                "updated": DateTime::<Utc>::from(t),
                "results": results,
            })
        })
        .collect()
}

/// Dead letters: the file (relative to the DLQ folder), stage, key, attempts, last error.
fn dead_letters(root: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    for path in files_under(root, "json") {
        let Ok(text) = std::fs::read(&path) else { continue };
        let Ok(doc) = serde_json::from_slice::<Value>(&text) else {
            continue;
        };
        let key = doc["Records"][0]["s3"]["object"]["key"]
            .as_str()
            .and_then(|k| haul_pipeline::event::decode_key(k).ok())
            .unwrap_or_default();
        let rel = path
            .strip_prefix(root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        out.push(json!({
            "path": rel,
            "stage": doc["haul_dlq"]["stage"],
            "key": key,
            "attempts": doc["haul_dlq"]["attempts"],
            "last_error": doc["haul_dlq"]["last_error"],
            "failed_at": doc["haul_dlq"]["failed_at"],
        }));
    }
    out.sort_by(|a, b| b["failed_at"].as_str().cmp(&a["failed_at"].as_str()));
    out
}

/// Files ending in `.{ext}` under `dir`, any depth.
fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == ext) => out.push(path),
                _ => {}
            }
        }
    }
    out
}
