//! `haul/{device}/upload/resend`: the results of one upload, sent again from where the
//! stages stored them. A device asks after a reconnect, so a result published while it was
//! offline still reaches it (MQTT does not keep it: the device connects with a clean
//! session, and a retained message per request is not what IoT Core is for).

use haul_contract::key::UploadKey;
use haul_contract::{ResendResults, TopicKind, topic};
use haul_pipeline::config::HaulConfig;
use haul_pipeline::result::{ResultRecord, result_key, upload_result};

/// The `(topic, payload)` of every stored result of the upload `req` names, among the
/// results of `stages` (those the key routes to), if the key is this device's and this
/// request's; a stage that has not finished is simply not there yet.
pub async fn stored_results(
    config: &HaulConfig,
    client: &aws_sdk_s3::Client,
    stages: &[&str],
    device: &str,
    req: &ResendResults,
) -> Vec<(String, Vec<u8>)> {
    let storage = &config.storage;
    let owned = UploadKey::parse(&storage.incoming_prefix, &req.key)
        .is_some_and(|k| k.device == device && k.request_id == req.request_id);
    if !owned {
        tracing::info!(device, key = %req.key, request_id = %req.request_id, "Resend for a key that is not this device's request ignored.");
        return Vec::new();
    }
    let bucket = storage.results_bucket.as_deref().unwrap_or(&storage.bucket);
    let reads = stages.iter().map(|stage| async move {
        let key = result_key(&storage.results_prefix, stage, &req.key);
        let record = read_record(client, bucket, &key).await?;
        let payload = serde_json::to_vec(&upload_result(&record, &key, &req.request_id)).ok()?;
        Some((topic(device, TopicKind::Result), payload))
    });
    futures_util::future::join_all(reads)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn read_record(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<ResultRecord> {
    let object = match client.get_object().bucket(bucket).key(key).send().await {
        Ok(object) => object,
        Err(e) => {
            let missing = e.as_service_error().is_some_and(|e| e.is_no_such_key());
            if !missing {
                tracing::warn!(%key, error = %haul_pipeline::one_line_error(&e), "Stored result not readable.");
            }
            return None;
        }
    };
    let bytes = object.body.collect().await.ok()?.into_bytes();
    serde_json::from_slice(&bytes)
        .inspect_err(|e| tracing::warn!(%key, error = %e, "Stored result is not a result document."))
        .ok()
}
