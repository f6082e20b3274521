//! The presign function: the IoT rules' events in, the answers published back to the device.
//!
//! Two rules invoke it: the topics rule (`haul_device` and `haul_kind` added to the device's
//! message) and the shadow rule (`previous` and `current` of the `haul-upload` shadow, with
//! `haul_thing`).

use std::sync::Arc;

use haul_pipeline::BoxError;
use haul_pipeline::config::HaulConfig;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};

use haul_aws::iot::IotPublisher;
use haul_pipeline::result::Publisher;
use haul_presign::Presigner;

/// What a rule hands over.
#[derive(Debug, PartialEq)]
pub enum RuleEvent {
    /// A message on `haul/{device}/upload/{kind}`: its topic and the device's own payload.
    Topic(String, Vec<u8>),
    /// The `/update/documents` of a thing's `haul-upload` shadow.
    Shadow(String, Vec<u8>),
}

/// Splits a rule's event: the topic it came from (or the thing of the shadow) and the
/// payload without the fields the rule adds.
pub fn split_event(mut event: Value) -> Result<RuleEvent, String> {
    let obj = event.as_object_mut().ok_or("the event is not a JSON object")?;
    if let Some(thing) = obj.remove("haul_thing") {
        let thing = thing.as_str().ok_or("haul_thing is not a string")?.to_owned();
        let payload = serde_json::to_vec(&event).map_err(|e| e.to_string())?;
        return Ok(RuleEvent::Shadow(thing, payload));
    }
    let device = obj.remove("haul_device").and_then(|v| v.as_str().map(str::to_owned));
    let kind = obj.remove("haul_kind").and_then(|v| v.as_str().map(str::to_owned));
    let (Some(device), Some(kind)) = (device, kind) else {
        return Err("the event lacks haul_device/haul_kind (or haul_thing): check the IoT rule's SQL".into());
    };
    let payload = serde_json::to_vec(&event).map_err(|e| e.to_string())?;
    Ok(RuleEvent::Topic(format!("haul/{device}/upload/{kind}"), payload))
}

/// Serves the presign function: a rule's event in, the answers (a response, the stored
/// results a resend asks for, or the cloud's shadow update) published back.
pub async fn serve(config: Arc<HaulConfig>, sdk: &aws_config::SdkConfig) -> Result<(), BoxError> {
    let host =
        super::env("HAUL_IOT_ENDPOINT").ok_or("HAUL_IOT_ENDPOINT is not set (the iot:Data-ATS endpoint host)")?;
    let presigner = Arc::new(Presigner::from_sdk_config(config, sdk)?);
    let client = IotPublisher::new(sdk, &host);
    let handler = service_fn(move |event: LambdaEvent<Value>| {
        let (presigner, client) = (presigner.clone(), client.clone());
        async move {
            let answers = match split_event(event.payload)? {
                RuleEvent::Topic(topic, payload) => presigner.handle(&topic, &payload).await,
                RuleEvent::Shadow(thing, payload) => {
                    presigner.shadow_documents(&thing, &payload).await.into_iter().collect()
                }
            };
            let mut published = Vec::with_capacity(answers.len());
            for (answer_topic, body) in answers {
                client.publish(&answer_topic, body).await?;
                published.push(answer_topic);
            }
            Ok::<_, lambda_runtime::Error>(json!({ "published": published }))
        }
    });
    lambda_runtime::run(handler).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_fields_become_the_topic() {
        let event = json!({ "request_id": "r1", "file_name": "a.wav", "size": 1, "sha256": "00",
                            "haul_device": "dev-7", "haul_kind": "request" });
        let RuleEvent::Topic(topic, payload) = split_event(event).unwrap() else {
            panic!("a topic event")
        };
        assert_eq!(topic, "haul/dev-7/upload/request");
        let back: Value = serde_json::from_slice(&payload).unwrap();
        assert!(back.get("haul_device").is_none() && back["request_id"] == "r1");
        assert!(split_event(json!({ "request_id": "r1" })).is_err());
    }

    #[test]
    fn the_shadow_rule_names_the_thing() {
        let event = json!({ "current": { "state": {} }, "previous": null, "haul_thing": "dev-7" });
        let RuleEvent::Shadow(thing, payload) = split_event(event).unwrap() else {
            panic!("a shadow event")
        };
        assert_eq!(thing, "dev-7");
        let back: Value = serde_json::from_slice(&payload).unwrap();
        assert!(back.get("haul_thing").is_none() && back.get("current").is_some());
    }
}
