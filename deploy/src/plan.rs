//! What a deployment creates per stage, computed once from `haul.toml` and used by both
//! the SAM template and `haul deploy local`, so the two cannot disagree.

use haul_pipeline::config::HaulConfig;
use serde_json::{Value, json};

use super::policy::{self, FilterPolicy, PolicyError};

/// Lambda's longest function timeout.
pub const LAMBDA_MAX_TIMEOUT_S: u64 = 900;
/// AWS's rule for SQS event sources: the queue's visibility timeout is at least six times
/// the function timeout, so a batch still being retried by Lambda is not delivered twice.
pub const VISIBILITY_FACTOR: u64 = 6;
/// How long an event waits in a stage queue (4 days, the SQS default).
pub const QUEUE_RETENTION_S: u64 = 4 * 24 * 3600;
/// How long a failed event stays in a dead-letter queue (14 days, the SQS maximum).
pub const DLQ_RETENTION_S: u64 = 14 * 24 * 3600;
/// Longest stage name: `{NamePrefix (20)}-{stage}` must fit Lambda's 64-character
/// function names.
pub const MAX_STAGE_NAME: usize = 43;

/// A configuration the deployment cannot be built from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A route cannot be expressed as a filter policy.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// No route names a stage: nothing to deploy.
    #[error("haul.toml has no [[routes]]: there is no stage to deploy")]
    NoStages,
    /// A stage name is too long for the AWS names derived from it.
    #[error("stage {stage}: the name is {len} characters; at most {MAX_STAGE_NAME} fit AWS's resource names")]
    NameTooLong {
        /// Stage name.
        stage: String,
        /// Its length.
        len: usize,
    },
    /// Two stages map to the same CloudFormation logical id.
    #[error("stages {first} and {second} both become the CloudFormation logical id {id}; rename one")]
    IdCollision {
        /// One stage (or a fixed resource).
        first: String,
        /// The other.
        second: String,
        /// The shared id.
        id: String,
    },
}

/// One stage's resources.
#[derive(Debug, Clone, PartialEq)]
pub struct StagePlan {
    /// Stage name (the Lambda `Handler`, the queue name suffix).
    pub name: String,
    /// CloudFormation logical id stem (`heart-sound` -> `HeartSound`).
    pub id: String,
    /// Lambda timeout: the stage's `timeout`, rounded up to seconds, at most 900 s.
    pub function_timeout_s: u64,
    /// Queue visibility timeout: six times the function timeout.
    pub visibility_timeout_s: u64,
    /// Deliveries before the dead-letter queue (`maxReceiveCount`).
    pub max_receive_count: u32,
    /// The subscription's filter policy.
    pub filter: FilterPolicy,
    /// Where the stage does not fit Lambda (its timeout is capped).
    pub notes: Vec<String>,
}

/// Logical ids of the template's fixed resources (a stage must not collide with them).
pub const FIXED_IDS: &[&str] = &["Presign", "Bucket", "ObjectsTopic", "ResultsTopic", "Device"];

/// The plan of every routed stage, in route order.
pub fn plan(config: &HaulConfig) -> Result<Vec<StagePlan>, PlanError> {
    let stages = policy::routed_stages(config);
    if stages.is_empty() {
        return Err(PlanError::NoStages);
    }
    let mut taken: Vec<(String, String)> = FIXED_IDS
        .iter()
        .map(|id| (id.to_string(), format!("the {id} resources")))
        .collect();
    let mut out = Vec::new();
    for name in stages {
        if name.len() > MAX_STAGE_NAME {
            return Err(PlanError::NameTooLong {
                len: name.len(),
                stage: name,
            });
        }
        let id = logical_id(&name);
        if let Some((_, first)) = taken.iter().find(|(t, _)| t.eq_ignore_ascii_case(&id)) {
            return Err(PlanError::IdCollision {
                first: first.clone(),
                second: name,
                id,
            });
        }
        taken.push((id.clone(), name.clone()));
        let settings = config.stage_settings(&name);
        let wanted = settings.timeout.as_secs() + u64::from(settings.timeout.subsec_nanos() > 0);
        let function_timeout_s = wanted.clamp(1, LAMBDA_MAX_TIMEOUT_S);
        let mut notes = Vec::new();
        if wanted > LAMBDA_MAX_TIMEOUT_S {
            notes.push(format!(
                "stage {name}: timeout {} is above Lambda's 15 minutes; its function stops at 900 s \
                 (run it with `haul worker` for longer objects)",
                humantime::format_duration(settings.timeout)
            ));
        }
        let filter = policy::filter_policy(config, &name)?;
        out.push(StagePlan {
            id,
            function_timeout_s,
            visibility_timeout_s: VISIBILITY_FACTOR * function_timeout_s,
            max_receive_count: settings.max_receive_count,
            filter,
            notes,
            name,
        });
    }
    Ok(out)
}

/// `heart-sound` -> `HeartSound`, `mdf` -> `Mdf`, `x-2d` -> `X2d`.
pub fn logical_id(stage: &str) -> String {
    stage
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The objects topic's access policy: S3 may publish the bucket's notifications to it.
/// The arguments are ARNs, as strings (an emulator) or CloudFormation expressions (the
/// template); `account` adds the template's `aws:SourceAccount` condition.
pub fn objects_topic_policy(topic: Value, bucket_arn: Value, account: Option<Value>) -> Value {
    let mut condition = json!({ "ArnLike": { "aws:SourceArn": bucket_arn } });
    if let Some(account) = account {
        condition["StringEquals"] = json!({ "aws:SourceAccount": account });
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowBucketNotifications",
            "Effect": "Allow",
            "Principal": { "Service": "s3.amazonaws.com" },
            "Action": "sns:Publish",
            "Resource": topic,
            "Condition": condition
        }]
    })
}

/// A stage queue's access policy: only the objects topic may send to it.
pub fn stage_queue_policy(queue: Value, topic: Value) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowObjectsTopic",
            "Effect": "Allow",
            "Principal": { "Service": "sns.amazonaws.com" },
            "Action": "sqs:SendMessage",
            "Resource": queue,
            "Condition": { "ArnEquals": { "aws:SourceArn": topic } }
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> HaulConfig {
        HaulConfig::from_toml(toml, "test").unwrap()
    }

    #[test]
    fn logical_ids_are_pascal_case() {
        assert_eq!(logical_id("heart-sound"), "HeartSound");
        assert_eq!(logical_id("mdf"), "Mdf");
        assert_eq!(logical_id("x-2d"), "X2d");
    }

    #[test]
    fn timeouts_are_capped_and_visibility_is_six_times_the_function_timeout() {
        let c = config(
            "[[routes]]\nstage = \"a\"\n[[routes]]\nstage = \"b\"\n[stages.a]\ntimeout = \"30m\"\nmax_receive_count = 5\n[stages.b]\ntimeout = \"1500ms\"\n",
        );
        let p = plan(&c).unwrap();
        assert_eq!(
            (
                p[0].function_timeout_s,
                p[0].visibility_timeout_s,
                p[0].max_receive_count
            ),
            (900, 5400, 5)
        );
        assert!(p[0].notes[0].contains("haul worker"), "{:?}", p[0].notes);
        assert_eq!((p[1].function_timeout_s, p[1].visibility_timeout_s), (2, 12));
        assert!(p[1].notes.is_empty());
    }

    #[test]
    fn colliding_ids_and_long_names_are_refused() {
        let err = plan(&config("[[routes]]\nstage = \"a-b\"\n[[routes]]\nstage = \"ab\"\n")).unwrap_err();
        assert!(matches!(err, PlanError::IdCollision { .. }), "{err}");
        let err = plan(&config("[[routes]]\nstage = \"presign\"\n")).unwrap_err();
        assert!(err.to_string().contains("Presign"), "{err}");
        let long = "a".repeat(44);
        let err = plan(&config(&format!("[[routes]]\nstage = \"{long}\"\n"))).unwrap_err();
        assert!(matches!(err, PlanError::NameTooLong { len: 44, .. }), "{err}");
        assert_eq!(plan(&config("")).unwrap_err(), PlanError::NoStages);
    }
}
