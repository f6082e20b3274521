//! `haul deploy local`: the template's storage and messaging resources on an AWS emulator
//! (MiniStack, LocalStack, ...) through the AWS SDK — the bucket, the objects and results
//! topics, per stage a queue and a dead-letter queue with the same redrive policy and
//! visibility timeout, the queue policy, the raw-delivery subscription with the stage's
//! filter policy, and the bucket's ObjectCreated notification on `incoming_prefix`.
//!
//! Every step creates or updates, so a second run succeeds and converges. Lambda and IoT
//! are not emulated: run the stages with `haul worker --queue-url URL --stage NAME`.

mod probe;
mod resources;

use std::collections::BTreeMap;

use aws_sdk_sqs::types::QueueAttributeName;
use haul_pipeline::config::HaulConfig;
use serde::{Deserialize, Serialize};
use serde_json::json;

use self::resources::{
    Clients, allow_bucket_notifications, ensure_bucket, ensure_queue, ensure_topic, put_notification, queue_policy,
    subscribe,
};
use super::plan::{self, DLQ_RETENTION_S, PlanError, QUEUE_RETENTION_S, StagePlan};

/// Whether subscriptions get their filter policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FilterMode {
    /// Probe the emulator first: apply the policies if it matches a MessageBody policy
    /// inside the `Records` array of an S3 notification (as AWS does), else subscribe
    /// every stage without one.
    #[default]
    Auto,
    /// Always apply the filter policies (as the template does).
    On,
    /// Never: every stage receives every upload and acknowledges those no route matches.
    Off,
}

/// Where and how to deploy.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// The emulator's endpoint URL (`http://127.0.0.1:4566`).
    pub endpoint: String,
    /// Prefix of topic and queue names (`haul` -> `haul-objects`, `haul-checksum-dlq`).
    pub name_prefix: String,
    /// Filter policies: probe, always, never.
    pub filters: FilterMode,
}

impl LocalOptions {
    /// Options for an endpoint, with the name prefix `haul` and filter policies probed.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            name_prefix: "haul".to_owned(),
            filters: FilterMode::Auto,
        }
    }

    /// Sets the name prefix.
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = prefix.into();
        self
    }

    /// Sets the filter mode.
    pub fn filters(mut self, mode: FilterMode) -> Self {
        self.filters = mode;
        self
    }
}

/// What was deployed; serialized, this is what `haul deploy local --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalDeployment {
    /// The bucket (`storage.bucket`).
    pub bucket: String,
    /// ARN of the topic S3 notifies.
    pub objects_topic_arn: String,
    /// ARN of the results topic.
    pub results_topic_arn: String,
    /// Queues per stage name.
    pub stages: BTreeMap<String, StageQueues>,
    /// Whether the subscriptions carry their filter policies (not printed).
    #[serde(skip)]
    pub filter_policies: bool,
}

/// A stage's queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageQueues {
    /// The stage queue's URL (for `haul worker --queue-url`).
    pub queue_url: String,
    /// Its dead-letter queue's URL.
    pub dlq_url: String,
}

/// A local deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// The configuration cannot be deployed.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The name prefix does not fit AWS names.
    #[error("name prefix {0:?} must be 1-20 characters: a-z first, then a-z, 0-9 or -")]
    NamePrefix(String),
    /// A call to the emulator failed.
    #[error("cannot {step} {resource} at {endpoint}: {message}")]
    Aws {
        /// What was being done (`create queue`).
        step: &'static str,
        /// Which resource.
        resource: String,
        /// The endpoint.
        endpoint: String,
        /// The SDK's error with its causes.
        message: String,
    },
}

/// Creates (or updates) the resources of `config` on the emulator at `options.endpoint`,
/// with credentials from the default chain and the region `storage.region`.
pub async fn deploy_local(config: &HaulConfig, options: &LocalOptions) -> Result<LocalDeployment, LocalError> {
    let shared = haul_aws::config_loader()
        .endpoint_url(&options.endpoint)
        .region(aws_config::Region::new(config.storage.region.clone()))
        .load()
        .await;
    deploy_local_with(config, options, &shared).await
}

/// [`deploy_local`] with an AWS configuration of the caller's (its endpoint, region and
/// credentials are used as they are; `options.endpoint` only names the target in errors).
pub async fn deploy_local_with(
    config: &HaulConfig,
    options: &LocalOptions,
    shared: &aws_config::SdkConfig,
) -> Result<LocalDeployment, LocalError> {
    let prefix = &options.name_prefix;
    if !valid_prefix(prefix) {
        return Err(LocalError::NamePrefix(prefix.clone()));
    }
    let stages = plan::plan(config)?;
    let c = Clients::new(shared, &options.endpoint);
    let filter_policies = match options.filters {
        FilterMode::On => true,
        FilterMode::Off => false,
        FilterMode::Auto => probe::body_filters_match_records(&c, prefix).await?,
    };
    if !filter_policies {
        tracing::warn!(
            endpoint = %options.endpoint,
            "Subscriptions created without filter policies: every stage receives every upload and acknowledges those no route matches."
        );
    }
    let bucket = config.storage.bucket.clone();
    ensure_bucket(&c, &bucket, &config.storage.region).await?;
    let objects_topic_arn = ensure_topic(&c, &format!("{prefix}-objects")).await?;
    allow_bucket_notifications(&c, &objects_topic_arn, &bucket).await?;
    let results_topic_arn = ensure_topic(&c, &format!("{prefix}-results")).await?;
    let mut queues = BTreeMap::new();
    for stage in &stages {
        let q = ensure_stage(&c, prefix, stage, &objects_topic_arn, filter_policies).await?;
        queues.insert(stage.name.clone(), q);
    }
    put_notification(&c, &bucket, &objects_topic_arn, &config.storage.incoming_prefix).await?;
    tracing::info!(%bucket, stages = stages.len(), filter_policies, "Local deployment ready.");
    Ok(LocalDeployment {
        bucket,
        objects_topic_arn,
        results_topic_arn,
        stages: queues,
        filter_policies,
    })
}

/// The template's `NamePrefix` rule: 1-20 characters, a-z first, then a-z, 0-9 or `-`.
fn valid_prefix(prefix: &str) -> bool {
    (1..=20).contains(&prefix.len())
        && prefix.starts_with(|c: char| c.is_ascii_lowercase())
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

async fn ensure_stage(
    c: &Clients,
    prefix: &str,
    stage: &StagePlan,
    topic_arn: &str,
    filter_policies: bool,
) -> Result<StageQueues, LocalError> {
    let name = format!("{prefix}-{}", stage.name);
    let dlq_name = format!("{name}-dlq");
    let retention = [(QueueAttributeName::MessageRetentionPeriod, DLQ_RETENTION_S.to_string())];
    let (dlq_url, dlq_arn) = ensure_queue(c, &dlq_name, &retention).await?;
    let (queue_url, queue_arn) = ensure_queue(c, &name, &[]).await?;
    let redrive = json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": stage.max_receive_count });
    let attributes = [
        (
            QueueAttributeName::VisibilityTimeout,
            stage.visibility_timeout_s.to_string(),
        ),
        (
            QueueAttributeName::MessageRetentionPeriod,
            QUEUE_RETENTION_S.to_string(),
        ),
        (QueueAttributeName::RedrivePolicy, redrive.to_string()),
        (QueueAttributeName::Policy, queue_policy(&queue_arn, topic_arn)),
    ];
    ensure_queue(c, &name, &attributes).await?;
    let policy = stage.filter.policy.as_ref().filter(|_| filter_policies);
    subscribe(c, topic_arn, &queue_arn, policy).await?;
    Ok(StageQueues { queue_url, dlq_url })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_prefixes_follow_the_template_parameter() {
        for ok in ["haul", "ci-2", "a"] {
            assert!(valid_prefix(ok), "{ok}");
        }
        for bad in ["", "Haul", "2x", "-x", "a_b", "x".repeat(21).as_str()] {
            assert!(!valid_prefix(bad), "{bad}");
        }
    }

    #[test]
    fn the_printed_json_has_the_documented_shape() {
        let mut stages = BTreeMap::new();
        stages.insert(
            "checksum".to_owned(),
            StageQueues {
                queue_url: "q".into(),
                dlq_url: "d".into(),
            },
        );
        let d = LocalDeployment {
            bucket: "b".into(),
            objects_topic_arn: "o".into(),
            results_topic_arn: "r".into(),
            stages,
            filter_policies: true,
        };
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({"bucket": "b", "objects_topic_arn": "o", "results_topic_arn": "r",
                   "stages": {"checksum": {"queue_url": "q", "dlq_url": "d"}}})
        );
    }
}
