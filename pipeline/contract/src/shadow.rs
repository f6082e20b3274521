//! The device-shadow variant of the upload exchange, for devices that wake rarely and must
//! find their pending answer when they connect: the same messages as the topics in
//! [`crate::topics`], carried in the named shadow [`SHADOW_NAME`] of the device's thing.
//!
//! | step | who | shadow update |
//! |---|---|---|
//! | ask | device | `reported.request` = [`UploadRequest`] |
//! | answer | cloud | `desired.response` = [`UploadResponse`] (the device gets it as `/update/delta`, or from `/get` when it wakes) |
//! | take the answer | device | `reported.request` = `null` (so the next ask, e.g. a `resume`, is a change) |
//! | multipart parts sent | device | `reported.complete` = [`UploadComplete`]; the cloud answers in `desired.response` |
//! | done | device | `reported.done` = the request id; the cloud then sets `desired.response` = `null` and the delta clears |
//!
//! The cloud reacts to `/update/documents` (`previous` and `current`): it answers a
//! `request` or `complete` that changed, or that `desired.response` does not answer yet, and
//! clears the answer once `done` names it. Its own updates change neither, so they cause no
//! further work. Results still arrive on `haul/{device}/upload/result`.

use serde::{Deserialize, Serialize};

use crate::{UploadComplete, UploadRequest, UploadResponse};

/// The named shadow haul uses.
pub const SHADOW_NAME: &str = "haul-upload";

/// The largest answer the cloud writes into the shadow: AWS IoT caps a shadow's state
/// document at 8 KB, which holds `reported` too, so a multipart plan lists fewer part URLs
/// per answer than on the topics (the device asks again for the rest).
pub const MAX_SHADOW_RESPONSE_BYTES: usize = 5_000;

/// `$aws/things/{thing}/shadow/name/{SHADOW_NAME}/{operation}` (`update`, `get`,
/// `update/delta`, `update/documents`, ...).
pub fn shadow_topic(thing: &str, operation: &str) -> String {
    format!("$aws/things/{thing}/shadow/name/{SHADOW_NAME}/{operation}")
}

/// Splits a named-shadow topic `$aws/things/{thing}/shadow/name/{name}/{operation}` into
/// thing, shadow name and operation (`update`, `update/accepted`, `get`, ...).
pub fn parse_shadow_topic(topic: &str) -> Option<(&str, &str, &str)> {
    let rest = topic.strip_prefix("$aws/things/")?;
    let (thing, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("shadow/name/")?;
    let (name, operation) = rest.split_once('/')?;
    let named = !thing.is_empty() && !name.is_empty() && !operation.is_empty();
    (named && !topic.contains(['+', '#'])).then_some((thing, name, operation))
}

/// What the device keeps in `reported`. In an update, a `None` is written as `null`, which
/// removes the field from the shadow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowReported {
    /// The upload the device asks for.
    #[serde(default)]
    pub request: Option<UploadRequest>,
    /// A multipart upload whose parts are all sent.
    #[serde(default)]
    pub complete: Option<UploadComplete>,
    /// The request id of an upload the device is done with.
    #[serde(default)]
    pub done: Option<String>,
}

/// What the cloud keeps in `desired`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowDesired {
    /// The answer to the device's latest `request` or `complete`.
    #[serde(default)]
    pub response: Option<UploadResponse>,
}

/// The `state` of an update document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowUpdate<T> {
    /// `{"desired": ...}` or `{"reported": ...}`.
    pub state: T,
    /// Echoed by the shadow service in `/update/accepted` or `/update/rejected`.
    #[serde(rename = "clientToken")]
    pub client_token: String,
}

/// The device's part of an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedState {
    /// The fields it reports (a `None` removes one).
    pub reported: ShadowReported,
}

/// The cloud's part of an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredState {
    /// The answer, or `None` to remove it.
    pub desired: ShadowDesired,
}

/// A shadow's `state` as `/update/documents` and `/get/accepted` carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ShadowState {
    /// What the cloud wants.
    #[serde(default)]
    pub desired: ShadowDesired,
    /// What the device reported.
    #[serde(default)]
    pub reported: ShadowReported,
}

/// One side of `/update/documents`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ShadowDocument {
    /// The shadow's state.
    #[serde(default)]
    pub state: ShadowState,
}

/// `/update/documents`: the shadow before and after an accepted update.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShadowDocuments {
    /// Before (absent when the update created the shadow).
    #[serde(default)]
    pub previous: Option<ShadowDocument>,
    /// After.
    pub current: ShadowDocument,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_shadow_topics_round_trip() {
        let t = shadow_topic("dev-1", "update/delta");
        assert_eq!(t, "$aws/things/dev-1/shadow/name/haul-upload/update/delta");
        assert_eq!(parse_shadow_topic(&t), Some(("dev-1", SHADOW_NAME, "update/delta")));
        assert_eq!(
            parse_shadow_topic("$aws/things/dev-1/shadow/update"),
            None,
            "the classic shadow"
        );
        assert_eq!(parse_shadow_topic("$aws/things/+/shadow/name/x/update"), None);
        assert_eq!(parse_shadow_topic("haul/dev-1/upload/request"), None);
    }

    #[test]
    fn a_field_set_to_none_is_written_as_null_so_the_shadow_removes_it() {
        let update = ShadowUpdate {
            state: ReportedState {
                reported: ShadowReported {
                    done: Some("r1".into()),
                    ..ShadowReported::default()
                },
            },
            client_token: "t".into(),
        };
        let json = serde_json::to_value(&update).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"state": {"reported": {"request": null, "complete": null, "done": "r1"}}, "clientToken": "t"})
        );
    }
}
