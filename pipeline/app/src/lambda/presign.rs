//! The presign function: the IoT rule's event in, the response published back to the device.

use std::sync::Arc;

use haul_pipeline::BoxError;
use haul_pipeline::config::HaulConfig;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};

use haul_aws::iot::IotPublisher;
use haul_pipeline::result::Publisher;
use haul_presign::Presigner;

/// Splits the rule's event into the MQTT topic it came from and the device's own payload
/// (without the `haul_device` / `haul_kind` fields the rule adds).
pub fn split_event(mut event: Value) -> Result<(String, Vec<u8>), String> {
    let obj = event.as_object_mut().ok_or("the event is not a JSON object")?;
    let device = obj.remove("haul_device").and_then(|v| v.as_str().map(str::to_owned));
    let kind = obj.remove("haul_kind").and_then(|v| v.as_str().map(str::to_owned));
    let (Some(device), Some(kind)) = (device, kind) else {
        return Err("the event lacks haul_device/haul_kind: check the IoT rule's SQL".into());
    };
    let payload = serde_json::to_vec(&event).map_err(|e| e.to_string())?;
    Ok((format!("haul/{device}/upload/{kind}"), payload))
}

/// Serves the presign function: the IoT rule's event in, the answers (a response, or the
/// stored results a resend asks for) published back.
pub async fn serve(config: Arc<HaulConfig>, sdk: &aws_config::SdkConfig) -> Result<(), BoxError> {
    let host =
        super::env("HAUL_IOT_ENDPOINT").ok_or("HAUL_IOT_ENDPOINT is not set (the iot:Data-ATS endpoint host)")?;
    let presigner = Arc::new(Presigner::from_sdk_config(config, sdk)?);
    let client = IotPublisher::new(sdk, &host);
    let handler = service_fn(move |event: LambdaEvent<Value>| {
        let (presigner, client) = (presigner.clone(), client.clone());
        async move {
            let (topic, payload) = split_event(event.payload)?;
            let answers = presigner.handle(&topic, &payload).await;
            let mut published = Vec::with_capacity(answers.len());
            for (answer_topic, body) in answers {
                client.publish(&answer_topic, body).await?;
                published.push(answer_topic);
            }
            Ok::<_, lambda_runtime::Error>(json!({ "topic": topic, "published": published }))
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
        let (topic, payload) = split_event(event).unwrap();
        assert_eq!(topic, "haul/dev-7/upload/request");
        let back: Value = serde_json::from_slice(&payload).unwrap();
        assert!(back.get("haul_device").is_none() && back["request_id"] == "r1");
        assert!(split_event(json!({ "request_id": "r1" })).is_err());
    }
}
