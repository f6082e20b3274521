//! What a device is told when a stage finishes one of its uploads: the device and request
//! id come from the key the cloud chose, the output is included when it fits in an MQTT
//! message. Shared by the local stack (MQTT) and AWS (IoT data plane).

use haul_device::contract::UploadResult;
use haul_pipeline::result::{Outcome, ResultRecord};

/// Outputs larger than this are left out of the message (the stored result has them).
const MAX_OUTPUT_BYTES: usize = 64 * 1024;

/// The device and request id of a key `{incoming}{device}/{yyyy}/{mm}/{dd}/{request_id}/{name}`.
pub fn device_of<'a>(incoming_prefix: &str, key: &'a str) -> Option<(&'a str, &'a str)> {
    let rest = key.strip_prefix(incoming_prefix)?;
    let parts: Vec<&str> = rest.splitn(6, '/').collect();
    match parts.as_slice() {
        [device, _, _, _, request_id, _] if !device.is_empty() => Some((device, request_id)),
        _ => None,
    }
}

/// The device's view of a result.
pub fn upload_result(record: &ResultRecord, result_key: &str, request_id: &str) -> UploadResult {
    let (output, truncated) = match &record.output {
        Some(o) if serde_json::to_vec(o).map_or(usize::MAX, |v| v.len()) <= MAX_OUTPUT_BYTES => {
            (Some(o.clone()), false)
        }
        Some(_) => (None, true),
        None => (None, false),
    };
    UploadResult {
        request_id: request_id.to_owned(),
        key: record.source.key.clone(),
        stage: record.stage.name.clone(),
        outcome: match record.outcome {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
        }
        .to_owned(),
        result_key: result_key.to_owned(),
        output,
        output_truncated: truncated,
        error: record.error.as_ref().map(|e| e.message.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_and_request_come_from_the_key() {
        assert_eq!(
            device_of("incoming/", "incoming/dev-1/2026/11/26/r-9/a b.wav"),
            Some(("dev-1", "r-9"))
        );
        assert_eq!(device_of("incoming/", "incoming/x.wav"), None);
        assert_eq!(device_of("incoming/", "other/dev/2026/11/26/r/x"), None);
    }
}
