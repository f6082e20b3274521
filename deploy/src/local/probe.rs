//! Does the emulator apply a MessageBody filter policy inside the `Records` array of an
//! S3 notification, as AWS does?
//!
//! AWS matches `{"Records":{"s3":{"object":{"key":[...]}}}}` against any element of the
//! `Records` array. Some emulators descend only into nested objects (MiniStack 1.5.33 is
//! one): there, every filtered subscription would receive nothing. The probe publishes one
//! synthetic notification through a throw-away topic, subscription and queue and looks for
//! it, so `haul deploy local` can fall back to unfiltered subscriptions where it must.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::json;

use super::LocalError;
use super::resources::{Clients, ensure_queue, ensure_topic, queue_policy, subscribe};

/// Receive attempts (each waits up to a second) before the message counts as filtered out.
const ATTEMPTS: u32 = 3;

/// Whether a filtered subscription receives a matching S3 notification.
pub(super) async fn body_filters_match_records(c: &Clients, prefix: &str) -> Result<bool, LocalError> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    let name = format!("{prefix}-filter-probe-{stamp}");
    let topic = ensure_topic(c, &name).await?;
    let (url, arn) = ensure_queue(c, &name, &[]).await?;
    let result = deliver(c, &topic, &url, &arn).await;
    // Best effort: a leftover probe costs nothing and is named as one.
    let _ = c.sns.delete_topic().topic_arn(&topic).send().await;
    let _ = c.sqs.delete_queue().queue_url(&url).send().await;
    let matched = result?;
    tracing::info!(matched, "Probed the emulator's filter policies on S3 notifications.");
    Ok(matched)
}

async fn deliver(c: &Clients, topic: &str, url: &str, arn: &str) -> Result<bool, LocalError> {
    c.sqs
        .set_queue_attributes()
        .queue_url(url)
        .attributes(QueueAttributeName::Policy, queue_policy(arn, topic))
        .send()
        .await
        .map_err(c.err("set the policy of queue", url))?;
    let policy = json!({ "Records": { "s3": { "object": { "key": [{ "suffix": ".probe" }] } } } });
    subscribe(c, topic, arn, Some(&policy)).await?;
    let message =
        json!({ "Records": [{ "eventVersion": "2.1", "s3": { "object": { "key": "probe/x.probe", "size": 1 } } }] });
    c.sns
        .publish()
        .topic_arn(topic)
        .message(message.to_string())
        .send()
        .await
        .map_err(c.err("publish to", topic))?;
    for _ in 0..ATTEMPTS {
        let got = c
            .sqs
            .receive_message()
            .queue_url(url)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(c.err("receive from", url))?;
        if !got.messages().is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}
