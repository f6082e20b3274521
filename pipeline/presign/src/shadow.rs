//! The device-shadow variant (see [`haul_contract::shadow`]): from a `haul-upload` shadow's
//! `/update/documents`, the update the cloud writes into `desired`, if any.

use haul_contract::UploadResponse;
use haul_contract::shadow::{
    DesiredState, MAX_SHADOW_RESPONSE_BYTES, ShadowDesired, ShadowDocuments, ShadowReported, ShadowUpdate, shadow_topic,
};

use crate::Presigner;

/// The client token of the cloud's own shadow updates.
pub const CLOUD_CLIENT_TOKEN: &str = "haul-presign";

/// What the documents ask the cloud to do.
#[derive(Debug, PartialEq)]
enum Work<'a> {
    Answer(&'a haul_contract::UploadRequest),
    Complete(&'a haul_contract::UploadComplete),
    Clear,
    Nothing,
}

impl Presigner {
    /// Handles `/update/documents` of `thing`'s `haul-upload` shadow: the `(topic, payload)`
    /// of the cloud's update to publish on `/update`, or `None` when there is nothing to do.
    pub async fn shadow_documents(&self, thing: &str, payload: &[u8]) -> Option<(String, Vec<u8>)> {
        let documents: ShadowDocuments = match serde_json::from_slice(payload) {
            Ok(d) => d,
            Err(e) => {
                tracing::info!(thing, error = %e, "Shadow documents not understood, ignored.");
                return None;
            }
        };
        let before = documents.previous.map(|p| p.state.reported).unwrap_or_default();
        let state = &documents.current.state;
        let response = match work(&before, &state.reported, &state.desired) {
            Work::Answer(req) => Some(self.request_within(thing, req.clone(), MAX_SHADOW_RESPONSE_BYTES).await),
            Work::Complete(c) => Some(self.complete(thing, c.clone()).await),
            Work::Clear => None,
            Work::Nothing => return None,
        };
        let update = ShadowUpdate {
            state: DesiredState {
                desired: ShadowDesired { response },
            },
            client_token: CLOUD_CLIENT_TOKEN.to_owned(),
        };
        Some((shadow_topic(thing, "update"), serde_json::to_vec(&update).ok()?))
    }
}

/// The cloud answers a `request` or `complete` that changed or is not answered yet, and
/// clears an answer the device reported `done`; its own updates change neither field.
fn work<'a>(before: &ShadowReported, now: &'a ShadowReported, desired: &ShadowDesired) -> Work<'a> {
    let answered = desired.response.as_ref();
    let answers = |id: &str| answered.is_some_and(|r| r.request_id() == id);
    if let Some(done) = &now.done
        && answers(done)
    {
        return Work::Clear;
    }
    if let Some(c) = &now.complete {
        let completed =
            matches!(answered, Some(UploadResponse::Completed { request_id, .. }) if *request_id == c.request_id);
        if before.complete.as_ref() != Some(c) || !completed {
            return Work::Complete(c);
        }
        return Work::Nothing;
    }
    match &now.request {
        Some(req) if before.request.as_ref() != Some(req) || !answers(&req.request_id) => Work::Answer(req),
        _ => Work::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haul_contract::{RejectReason, UploadComplete, UploadRequest};

    fn request(id: &str) -> UploadRequest {
        UploadRequest {
            request_id: id.into(),
            file_name: "a.bin".into(),
            size: 1,
            sha256: "0".repeat(64),
            content_type: None,
            resume: None,
            parts: None,
        }
    }

    fn rejected(id: &str) -> UploadResponse {
        UploadResponse::Rejected {
            request_id: id.into(),
            reason: RejectReason::TooLarge,
            message: String::new(),
        }
    }

    fn reported(request: Option<UploadRequest>, done: Option<&str>) -> ShadowReported {
        ShadowReported {
            request,
            complete: None,
            done: done.map(str::to_owned),
        }
    }

    #[test]
    fn a_new_or_unanswered_request_is_answered_once() {
        let none = ShadowDesired::default();
        let asked = reported(Some(request("r1")), None);
        assert_eq!(
            work(&ShadowReported::default(), &asked, &none),
            Work::Answer(&request("r1"))
        );
        assert_eq!(
            work(&asked, &asked, &none),
            Work::Answer(&request("r1")),
            "asked again, never answered"
        );
        let answer = ShadowDesired {
            response: Some(rejected("r1")),
        };
        assert_eq!(work(&asked, &asked, &answer), Work::Nothing, "the cloud's own update");
        let again = reported(None, None);
        assert_eq!(
            work(&asked, &again, &answer),
            Work::Nothing,
            "the device took the answer"
        );
        assert_eq!(
            work(&again, &asked, &answer),
            Work::Answer(&request("r1")),
            "the same ask after taking the answer: a resume round"
        );
    }

    #[test]
    fn done_clears_the_answer_and_a_completion_is_answered_until_completed() {
        let answer = ShadowDesired {
            response: Some(rejected("r1")),
        };
        assert_eq!(
            work(&ShadowReported::default(), &reported(None, Some("r1")), &answer),
            Work::Clear
        );
        assert_eq!(
            work(&ShadowReported::default(), &reported(None, Some("r0")), &answer),
            Work::Nothing
        );
        let c = UploadComplete {
            request_id: "r1".into(),
            key: "k".into(),
            upload_id: "u".into(),
            size: 1,
            parts: vec![],
        };
        let now = ShadowReported {
            complete: Some(c.clone()),
            ..ShadowReported::default()
        };
        assert_eq!(work(&now, &now, &answer), Work::Complete(&c), "not completed yet");
        let completed = ShadowDesired {
            response: Some(UploadResponse::Completed {
                request_id: "r1".into(),
                key: "k".into(),
                etag: "e".into(),
            }),
        };
        assert_eq!(work(&now, &now, &completed), Work::Nothing);
    }
}
