//! The Device Shadow service of the local stack: named shadows over the embedded broker,
//! speaking AWS IoT's topics and documents, so one device binary works against `haul dev`
//! and IoT Core.
//!
//! | device publishes | the service answers |
//! |---|---|
//! | `$aws/things/{thing}/shadow/name/{name}/update` | `/update/accepted` or `/update/rejected`; `/update/delta` when desired differs from reported; `/update/documents` (previous and current) |
//! | `.../get` | `/get/accepted` (state, delta, metadata, version) or `/get/rejected` (404) |
//! | `.../delete` | `/delete/accepted` or `/delete/rejected` (404) |
//!
//! Shadows are kept in `DATA/.haul/shadows/{thing}/{name}.json`, so they outlive a restart
//! (a device that wakes rarely finds its pending desired state).

mod document;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use haul_contract::key::valid_device;
use haul_contract::shadow::parse_shadow_topic;
use serde_json::{Value, json};

pub use document::{MAX_STATE_BYTES, Refusal, Shadow};

/// The topic filters the service subscribes to.
pub const SHADOW_FILTERS: [&str; 3] = [
    "$aws/things/+/shadow/name/+/update",
    "$aws/things/+/shadow/name/+/get",
    "$aws/things/+/shadow/name/+/delete",
];

/// Named shadows of every thing, in memory and on disk.
pub struct ShadowService {
    dir: PathBuf,
    shadows: Mutex<HashMap<(String, String), Shadow>>,
}

/// What one request produced: `(topic, payload)` to publish.
type Publications = Vec<(String, Vec<u8>)>;

impl ShadowService {
    /// Shadows kept under `data/.haul/shadows`.
    pub fn new(data: &Path) -> Self {
        Self {
            dir: data.join(".haul").join("shadows"),
            shadows: Mutex::new(HashMap::new()),
        }
    }

    /// Handles a message on a shadow's `update`, `get` or `delete` topic; anything else
    /// gets no answer.
    pub fn handle(&self, topic: &str, payload: &[u8]) -> Publications {
        let Some((thing, name, operation)) = parse_shadow_topic(topic) else {
            return Vec::new();
        };
        if !valid_device(thing) || !valid_device(name) {
            return Vec::new();
        }
        let base = &topic[..topic.len() - operation.len() - 1];
        let request: Value = match payload {
            [] => json!({}),
            bytes => match serde_json::from_slice(bytes) {
                Ok(v) => v,
                Err(_) => return rejected(base, operation, None, &refusal(400, "Invalid JSON")),
            },
        };
        let token = request.get("clientToken").and_then(Value::as_str).map(str::to_owned);
        let key = (thing.to_owned(), name.to_owned());
        let mut shadows = self.shadows.lock().unwrap_or_else(|e| e.into_inner());
        let current = shadows.get(&key).cloned().or_else(|| self.load(&key));
        let (outcome, after) = match operation {
            "update" => update(base, current, &request, token.as_deref()),
            "get" => (get(base, current.as_ref(), name, token.as_deref()), current),
            "delete" => (delete(base, current.as_ref(), name, token.as_deref()), None),
            _ => return Vec::new(),
        };
        match after {
            Some(shadow) => {
                self.save(&key, &shadow);
                shadows.insert(key, shadow);
            }
            None if operation == "delete" => {
                shadows.remove(&key);
                let _ = std::fs::remove_file(self.path(&key));
            }
            None => {}
        }
        outcome
    }

    fn path(&self, (thing, name): &(String, String)) -> PathBuf {
        self.dir.join(thing).join(format!("{name}.json"))
    }

    fn load(&self, key: &(String, String)) -> Option<Shadow> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        serde_json::from_slice(&bytes)
            .inspect_err(|e| tracing::warn!(thing = %key.0, shadow = %key.1, error = %e, "Stored shadow unreadable, starting empty."))
            .ok()
    }

    fn save(&self, key: &(String, String), shadow: &Shadow) {
        let path = self.path(key);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, serde_json::to_vec(shadow).unwrap_or_default()));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "Shadow not saved.");
        }
    }
}

/// The answers to an update and the shadow after it (unchanged when refused).
fn update(base: &str, current: Option<Shadow>, request: &Value, token: Option<&str>) -> (Publications, Option<Shadow>) {
    let now = now_s();
    let mut shadow = current.clone().unwrap_or_default();
    let stamped = match shadow.apply(request, now) {
        Ok(stamped) => stamped,
        Err(r) => return (rejected(base, "update", token, &r), current),
    };
    let mut out = vec![publication(
        base,
        "update/accepted",
        with_token(
            json!({ "state": request["state"], "metadata": stamped, "version": shadow.version, "timestamp": now }),
            token,
        ),
    )];
    let touched_desired = request["state"].get("desired").is_some();
    if let (true, Some(delta)) = (touched_desired, shadow.delta()) {
        let body = json!({ "state": delta, "version": shadow.version, "timestamp": now });
        out.push(publication(base, "update/delta", with_token(body, token)));
    }
    let previous = current.map(|p| p.document());
    let mut documents = json!({ "current": shadow.document(), "timestamp": now });
    if let Some(previous) = previous {
        documents["previous"] = previous;
    }
    out.push(publication(base, "update/documents", with_token(documents, token)));
    (out, Some(shadow))
}

fn get(base: &str, shadow: Option<&Shadow>, name: &str, token: Option<&str>) -> Publications {
    let Some(shadow) = shadow else {
        return rejected(base, "get", token, &not_found(name));
    };
    let mut state = shadow.state.clone();
    if let Some(delta) = shadow.delta() {
        state.insert("delta".into(), Value::Object(delta));
    }
    let body = json!({ "state": state, "metadata": shadow.metadata, "version": shadow.version, "timestamp": now_s() });
    vec![publication(base, "get/accepted", with_token(body, token))]
}

fn delete(base: &str, shadow: Option<&Shadow>, name: &str, token: Option<&str>) -> Publications {
    let Some(shadow) = shadow else {
        return rejected(base, "delete", token, &not_found(name));
    };
    let body = json!({ "version": shadow.version, "timestamp": now_s() });
    vec![publication(base, "delete/accepted", with_token(body, token))]
}

fn not_found(name: &str) -> Refusal {
    refusal(404, &format!("No shadow exists with name: '{name}'"))
}

fn refusal(code: u16, message: &str) -> Refusal {
    Refusal {
        code,
        message: message.to_owned(),
    }
}

fn rejected(base: &str, operation: &str, token: Option<&str>, r: &Refusal) -> Publications {
    let body = json!({ "code": r.code, "message": r.message, "timestamp": now_s() });
    vec![publication(
        base,
        &format!("{operation}/rejected"),
        with_token(body, token),
    )]
}

fn with_token(mut body: Value, token: Option<&str>) -> Value {
    if let (Some(t), Some(map)) = (token, body.as_object_mut()) {
        map.insert("clientToken".into(), Value::String(t.to_owned()));
    }
    body
}

fn publication(base: &str, suffix: &str, body: Value) -> (String, Vec<u8>) {
    (
        format!("{base}/{suffix}"),
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    /// The topics and parsed bodies of `out`.
    fn bodies(out: &Publications) -> Map<String, Value> {
        out.iter()
            .map(|(t, p)| (t.clone(), serde_json::from_slice(p).unwrap()))
            .collect()
    }

    const BASE: &str = "$aws/things/dev-1/shadow/name/haul-upload";

    #[test]
    fn an_update_is_accepted_with_documents_and_a_delta_while_desired_differs() {
        let dir = tempfile::tempdir().unwrap();
        let service = ShadowService::new(dir.path());
        let out = bodies(&service.handle(
            &format!("{BASE}/update"),
            br#"{"state":{"desired":{"response":{"a":1}}},"clientToken":"c1"}"#,
        ));
        let accepted = &out[&format!("{BASE}/update/accepted")];
        assert_eq!(
            (accepted["version"].as_u64(), accepted["clientToken"].as_str()),
            (Some(1), Some("c1"))
        );
        assert_eq!(
            out[&format!("{BASE}/update/delta")]["state"],
            json!({"response": {"a": 1}})
        );
        let documents = &out[&format!("{BASE}/update/documents")];
        assert!(documents.get("previous").is_none(), "the update created the shadow");
        assert_eq!(documents["current"]["state"]["desired"]["response"]["a"], 1);

        let out = bodies(&service.handle(
            &format!("{BASE}/update"),
            br#"{"state":{"reported":{"response":{"a":1}}}}"#,
        ));
        assert!(!out.contains_key(&format!("{BASE}/update/delta")), "reported caught up");
        assert_eq!(out[&format!("{BASE}/update/documents")]["previous"]["version"], 1);

        let again = ShadowService::new(dir.path());
        let got = bodies(&again.handle(&format!("{BASE}/get"), b""));
        let accepted = &got[&format!("{BASE}/get/accepted")];
        assert_eq!(accepted["version"], 2, "kept across a restart");
        assert!(accepted["state"].get("delta").is_none());
    }

    #[test]
    fn refusals_and_missing_shadows_are_answered_on_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let service = ShadowService::new(dir.path());
        let out = bodies(&service.handle(&format!("{BASE}/get"), br#"{"clientToken":"g"}"#));
        let r = &out[&format!("{BASE}/get/rejected")];
        assert_eq!((r["code"].as_u64(), r["clientToken"].as_str()), (Some(404), Some("g")));
        let out = bodies(&service.handle(&format!("{BASE}/update"), b"{not json"));
        assert_eq!(out[&format!("{BASE}/update/rejected")]["code"], 400);
        service.handle(&format!("{BASE}/update"), br#"{"state":{"reported":{"x":1}}}"#);
        let out = bodies(&service.handle(
            &format!("{BASE}/update"),
            br#"{"state":{"reported":{"x":2}},"version":9}"#,
        ));
        assert_eq!(out[&format!("{BASE}/update/rejected")]["code"], 409);
        let out = bodies(&service.handle(&format!("{BASE}/delete"), b""));
        assert!(out.contains_key(&format!("{BASE}/delete/accepted")));
        let out = bodies(&service.handle(&format!("{BASE}/get"), b""));
        assert!(out.contains_key(&format!("{BASE}/get/rejected")), "deleted");
        assert!(service.handle("$aws/things/../shadow/name/x/update", b"{}").is_empty());
    }
}
