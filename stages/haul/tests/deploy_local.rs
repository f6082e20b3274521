//! `haul deploy local` against MiniStack (PyPI `ministack==1.5.33`), started on a free
//! loopback port: the resources exist with the template's settings, a second run changes
//! nothing, and an upload under incoming/ reaches the stage queues.
//!
//! Missing MiniStack skips these tests with a printed reason, unless
//! `HAUL_REQUIRE_INTEROP` is set (as in CI).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use haul_deploy::{LocalDeployment, filter_policy, plan};
use haul_pipeline::config::HaulConfig;
use haul_tests::ministack::MiniStack;
use serde_json::Value;

fn config() -> HaulConfig {
    HaulConfig::from_file(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("haul.toml")).unwrap()
}

/// Runs `haul deploy local` with MiniStack's credentials; returns its JSON output.
fn deploy(ms: &MiniStack, extra: &[&str]) -> LocalDeployment {
    let out = Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(["deploy", "local", "--endpoint", &ms.url, "--json"])
        .args(extra)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("HAUL_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "haul deploy local failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let raw: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&String> = raw.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["bucket", "objects_topic_arn", "results_topic_arn", "stages"],
        "the printed shape"
    );
    serde_json::from_value(raw).unwrap()
}

/// Polls a queue until a notification of `key` arrives or `wait` passes; returns the keys
/// of every object notification seen on the way (S3's TestEvent yields none).
async fn keys_until(sqs: &aws_sdk_sqs::Client, url: &str, key: &str, wait: Duration) -> Vec<String> {
    let deadline = Instant::now() + wait;
    let mut seen = Vec::new();
    while Instant::now() < deadline && !seen.iter().any(|k| k == key) {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await;
        for m in got.unwrap().messages() {
            let parsed = haul_pipeline::event::parse_str(m.body().unwrap_or_default()).unwrap();
            seen.extend(parsed.events.into_iter().map(|e| e.key));
        }
    }
    seen
}

async fn subscription_attributes(
    sns: &aws_sdk_sns::Client,
    topic: &str,
) -> Vec<std::collections::HashMap<String, String>> {
    let subs = sns.list_subscriptions_by_topic().topic_arn(topic).send().await.unwrap();
    let mut out = Vec::new();
    for s in subs.subscriptions() {
        let arn = s.subscription_arn().unwrap();
        let attrs = sns
            .get_subscription_attributes()
            .subscription_arn(arn)
            .send()
            .await
            .unwrap();
        out.push(attrs.attributes.unwrap_or_default());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_local_creates_the_template_resources_and_a_second_run_changes_nothing() {
    let Some(ms) = MiniStack::start() else { return };
    let config = config();
    let first = deploy(&ms, &["--name-prefix", "ci"]);
    let second = deploy(&ms, &["--name-prefix", "ci"]);
    assert_eq!(first, second, "idempotent");
    assert_eq!(first.bucket, config.storage.bucket);
    let plans = plan(&config).unwrap();
    let names: Vec<&String> = first.stages.keys().collect();
    let mut expected: Vec<&String> = plans.iter().map(|p| &p.name).collect();
    expected.sort();
    assert_eq!(names, expected);

    let sdk = ms.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    for p in &plans {
        let q = &first.stages[&p.name];
        assert!(q.queue_url.ends_with(&format!("ci-{}", p.name)), "{}", q.queue_url);
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&q.queue_url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap();
        let redrive: Value = serde_json::from_str(&attrs[&QueueAttributeName::RedrivePolicy]).unwrap();
        assert_eq!(
            redrive["maxReceiveCount"].to_string().trim_matches('"'),
            p.max_receive_count.to_string()
        );
        assert!(
            redrive["deadLetterTargetArn"]
                .as_str()
                .unwrap()
                .ends_with(&format!("ci-{}-dlq", p.name))
        );
        assert_eq!(
            attrs[&QueueAttributeName::VisibilityTimeout],
            p.visibility_timeout_s.to_string()
        );
    }
    let subs = subscription_attributes(&sns, &first.objects_topic_arn).await;
    assert_eq!(subs.len(), plans.len(), "one subscription per stage after two runs");
    assert!(
        subs.iter()
            .all(|a| a.get("RawMessageDelivery").map(String::as_str) == Some("true"))
    );

    // An upload under incoming/ reaches the unfiltered checksum queue as a raw S3 notification.
    let s3 = haul_aws::S3Store::from_config(&sdk);
    let key = "incoming/dev-1/2026/11/26/r1/heart beat.wav";
    s3.client()
        .put_object()
        .bucket(&first.bucket)
        .key(key)
        .body(b"RIFF".to_vec().into())
        .send()
        .await
        .unwrap();
    let checksum = &first.stages["checksum"].queue_url;
    assert_eq!(keys_until(&sqs, checksum, key, Duration::from_secs(20)).await, [key]);
    // Filtered or not (MiniStack 1.5.33 cannot match them), heart-sound receives it.
    let heart = &first.stages["heart-sound"].queue_url;
    assert_eq!(keys_until(&sqs, heart, key, Duration::from_secs(5)).await, [key]);
    // Outside incoming/ the bucket notification stays silent.
    let other = "results/checksum/x.json";
    s3.client()
        .put_object()
        .bucket(&first.bucket)
        .key(other)
        .body(b"{}".to_vec().into())
        .send()
        .await
        .unwrap();
    let marker = "incoming/dev-1/marker.bin";
    s3.client()
        .put_object()
        .bucket(&first.bucket)
        .key(marker)
        .body(b"m".to_vec().into())
        .send()
        .await
        .unwrap();
    let seen = keys_until(&sqs, checksum, marker, Duration::from_secs(20)).await;
    assert_eq!(
        seen,
        [marker],
        "results/ is not notified; the marker uploaded after it is"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn filter_policies_on_stores_the_routes_policies_and_off_clears_them() {
    let Some(ms) = MiniStack::start() else { return };
    let config = config();
    let sdk = ms.sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let on = deploy(&ms, &["--filter-policies", "on"]);
    let subs = subscription_attributes(&sns, &on.objects_topic_arn).await;
    for p in plan(&config).unwrap() {
        let queue_arn_suffix = format!(":haul-{}", p.name);
        let attrs = subs
            .iter()
            .find(|a| a.get("Endpoint").is_some_and(|e| e.ends_with(&queue_arn_suffix)))
            .unwrap_or_else(|| panic!("no subscription for {}", p.name));
        let stored: Option<Value> = attrs
            .get("FilterPolicy")
            .filter(|s| !s.is_empty())
            .map(|s| serde_json::from_str(s).unwrap());
        assert_eq!(
            stored,
            filter_policy(&config, &p.name).unwrap().policy,
            "stage {}",
            p.name
        );
        if stored.is_some() {
            assert_eq!(attrs["FilterPolicyScope"], "MessageBody");
        }
    }
    let off = deploy(&ms, &["--filter-policies", "off"]);
    assert_eq!(on, off, "same resources");
    for attrs in subscription_attributes(&sns, &off.objects_topic_arn).await {
        let policy = attrs.get("FilterPolicy").map(String::as_str).unwrap_or("");
        assert!(policy.is_empty() || policy == "{}", "cleared: {policy}");
    }
}
