//! Publishes each written result to an SNS topic (the "results topic" of a deployment).

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;

use haul_pipeline::ResultSink;
use haul_pipeline::result::{Outcome, ResultRecord};

/// Sends the result document, with `stage` and `outcome` message attributes for
/// subscription filters.
pub struct SnsResultSink {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsResultSink {
    /// A sink publishing to `topic_arn`.
    pub fn new(client: aws_sdk_sns::Client, topic_arn: &str) -> Self {
        Self {
            client,
            topic_arn: topic_arn.to_owned(),
        }
    }
}

fn attribute(value: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .ok()
}

#[async_trait]
impl ResultSink for SnsResultSink {
    async fn result_written(&self, record: &ResultRecord, result_key: &str) {
        let mut doc = match serde_json::to_value(record) {
            Ok(v) => v,
            Err(_) => return,
        };
        doc["result_key"] = serde_json::Value::String(result_key.to_owned());
        // SNS messages are at most 256 KB: large outputs stay only in the stored result.
        if doc.to_string().len() > 200_000 {
            doc["output"] = serde_json::Value::Null;
            doc["output_truncated"] = serde_json::Value::Bool(true);
        }
        let outcome = match record.outcome {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
        };
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(doc.to_string());
        for (name, value) in [("stage", record.stage.name.as_str()), ("outcome", outcome)] {
            if let Some(v) = attribute(value) {
                request = request.message_attributes(name, v);
            }
        }
        if let Err(e) = request.send().await {
            tracing::warn!(topic = %self.topic_arn, error = %crate::one_line_error(&e), "Result not published to SNS.");
        }
    }
}
