//! One shadow document and the rules AWS IoT's Device Shadow service applies to it: merging
//! an update (`null` removes a field, objects merge field by field), the per-field metadata
//! timestamps, the version, and the delta (desired fields the reported state lacks or
//! differs in).

use serde_json::{Map, Value, json};

/// A document larger than this is refused (AWS: 8 KB for a shadow's state).
pub const MAX_STATE_BYTES: usize = 8 * 1024;
/// Deepest nesting AWS accepts in `desired` or `reported`.
const MAX_DEPTH: usize = 6;

/// A refused update: the HTTP-like code and message AWS uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 400, 409, 413.
    pub code: u16,
    /// AWS's message.
    pub message: String,
}

fn refuse(code: u16, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// A stored shadow.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Shadow {
    /// `{"desired": {...}, "reported": {...}}`, either may be absent.
    pub state: Map<String, Value>,
    /// The same shape as `state`, each leaf `{"timestamp": seconds}`.
    pub metadata: Map<String, Value>,
    /// Incremented by every accepted update.
    pub version: u64,
}

impl Shadow {
    /// The desired fields that reported lacks or has otherwise (`None`: no difference).
    pub fn delta(&self) -> Option<Map<String, Value>> {
        let desired = self.state.get("desired")?.as_object()?;
        let empty = Map::new();
        let reported = self.state.get("reported").and_then(Value::as_object).unwrap_or(&empty);
        let delta = object_delta(desired, reported);
        (!delta.is_empty()).then_some(delta)
    }

    /// `{"state", "metadata", "version"}` as `/update/documents` shows a side.
    pub fn document(&self) -> Value {
        json!({ "state": self.state, "metadata": self.metadata, "version": self.version })
    }

    /// Applies an update's `state` at `now` (seconds); checks `version` when the update
    /// gives one. Returns the metadata of the fields it set; a refused update changes nothing.
    pub fn apply(&mut self, update: &Value, now: u64) -> Result<Map<String, Value>, Refusal> {
        let mut next = self.clone();
        let stamped = next.apply_to_self(update, now)?;
        *self = next;
        Ok(stamped)
    }

    fn apply_to_self(&mut self, update: &Value, now: u64) -> Result<Map<String, Value>, Refusal> {
        let state = update
            .get("state")
            .ok_or_else(|| refuse(400, "Missing required node: state"))?
            .as_object()
            .ok_or_else(|| refuse(400, "State node must be an object"))?;
        if let Some(v) = update.get("version") {
            let v = v.as_u64().ok_or_else(|| refuse(400, "Invalid version"))?;
            if v != self.version {
                return Err(refuse(409, "Version conflict"));
            }
        }
        let mut stamped = Map::new();
        for (section, change) in state {
            if section != "desired" && section != "reported" {
                return Err(refuse(400, format!("State contains an invalid node: '{section}'")));
            }
            if depth(change) > MAX_DEPTH {
                return Err(refuse(400, "JSON contains too many levels of nesting; maximum is 6"));
            }
            stamped.insert(section.clone(), stamp(change, now));
            match change {
                Value::Null => {
                    self.state.remove(section);
                    self.metadata.remove(section);
                }
                Value::Object(fields) => {
                    merge(self.state.entry(section.clone()).or_insert_with(|| json!({})), fields);
                    merge(
                        self.metadata.entry(section.clone()).or_insert_with(|| json!({})),
                        &stamp_fields(fields, now),
                    );
                    // A section whose every field was removed goes too, like a nested object.
                    if self
                        .state
                        .get(section)
                        .and_then(Value::as_object)
                        .is_some_and(Map::is_empty)
                    {
                        self.state.remove(section);
                        self.metadata.remove(section);
                    }
                }
                _ => return Err(refuse(400, format!("{section} node must be an object"))),
            }
        }
        if serde_json::to_vec(&self.state).map_or(usize::MAX, |v| v.len()) > MAX_STATE_BYTES {
            return Err(refuse(413, "The payload exceeds the maximum size allowed"));
        }
        self.version += 1;
        Ok(stamped)
    }
}

/// Merges `fields` into `target`: `null` removes a field, objects merge, anything else
/// replaces; an object left empty is removed.
fn merge(target: &mut Value, fields: &Map<String, Value>) {
    if !target.is_object() {
        *target = json!({});
    }
    let Some(map) = target.as_object_mut() else { return };
    for (k, v) in fields {
        match v {
            Value::Null => {
                map.remove(k);
            }
            Value::Object(inner) => {
                let slot = map.entry(k.clone()).or_insert_with(|| json!({}));
                merge(slot, inner);
                if slot.as_object().is_some_and(Map::is_empty) {
                    map.remove(k);
                }
            }
            other => {
                map.insert(k.clone(), other.clone());
            }
        }
    }
}

fn object_delta(desired: &Map<String, Value>, reported: &Map<String, Value>) -> Map<String, Value> {
    let mut delta = Map::new();
    for (k, want) in desired {
        match (want, reported.get(k)) {
            (Value::Object(w), Some(Value::Object(r))) => {
                let inner = object_delta(w, r);
                if !inner.is_empty() {
                    delta.insert(k.clone(), Value::Object(inner));
                }
            }
            (w, Some(r)) if w == r => {}
            (w, _) => {
                delta.insert(k.clone(), w.clone());
            }
        }
    }
    delta
}

/// The metadata of one update section: every leaf replaced by `{"timestamp": now}`.
fn stamp(change: &Value, now: u64) -> Value {
    match change {
        Value::Object(fields) => Value::Object(stamp_fields(fields, now)),
        // A removed field's metadata is removed with it.
        Value::Null => Value::Null,
        _ => json!({ "timestamp": now }),
    }
}

fn stamp_fields(fields: &Map<String, Value>, now: u64) -> Map<String, Value> {
    fields.iter().map(|(k, v)| (k.clone(), stamp(v, now))).collect()
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_merge_null_removes_and_the_version_counts() {
        let mut s = Shadow::default();
        s.apply(&json!({"state": {"reported": {"a": 1, "b": {"c": 2, "d": 3}}}}), 10)
            .unwrap();
        s.apply(&json!({"state": {"reported": {"a": null, "b": {"c": 5}}}}), 11)
            .unwrap();
        assert_eq!(
            Value::Object(s.state.clone()),
            json!({"reported": {"b": {"c": 5, "d": 3}}})
        );
        assert_eq!(s.metadata["reported"]["b"]["c"]["timestamp"], 11);
        assert_eq!(s.metadata["reported"]["b"]["d"]["timestamp"], 10);
        assert!(s.metadata["reported"].get("a").is_none(), "metadata of a removed field");
        assert_eq!(s.version, 2);
        s.apply(&json!({"state": {"reported": null}}), 12).unwrap();
        assert!(s.state.is_empty() && s.metadata.is_empty());
    }

    #[test]
    fn the_delta_is_what_desired_has_and_reported_lacks() {
        let mut s = Shadow::default();
        s.apply(
            &json!({"state": {"desired": {"x": 1, "o": {"p": 1, "q": 2}}, "reported": {"x": 1, "o": {"p": 1}}}}),
            1,
        )
        .unwrap();
        assert_eq!(s.delta().map(Value::Object), Some(json!({"o": {"q": 2}})));
        s.apply(&json!({"state": {"desired": {"o": null}}}), 2).unwrap();
        assert_eq!(s.delta(), None);
    }

    #[test]
    fn bad_updates_are_refused_with_aws_codes() {
        let mut s = Shadow::default();
        assert_eq!(s.apply(&json!({"nostate": 1}), 1).unwrap_err().code, 400);
        assert_eq!(s.apply(&json!({"state": {"other": {}}}), 1).unwrap_err().code, 400);
        assert_eq!(s.apply(&json!({"state": {"desired": 5}}), 1).unwrap_err().code, 400);
        s.apply(&json!({"state": {"desired": {"a": 1}}}), 1).unwrap();
        assert_eq!(
            s.apply(&json!({"state": {"desired": {"a": 2}}, "version": 7}), 2)
                .unwrap_err()
                .code,
            409
        );
        let big = "x".repeat(MAX_STATE_BYTES);
        assert_eq!(
            s.apply(&json!({"state": {"desired": {"a": big}}}), 3).unwrap_err().code,
            413
        );
        let deep = json!({"state": {"desired": {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}});
        assert_eq!(s.apply(&deep, 4).unwrap_err().code, 400);
        assert_eq!(s.version, 1, "refused updates change nothing");
        assert_eq!(s.state["desired"]["a"], 1);
    }
}
