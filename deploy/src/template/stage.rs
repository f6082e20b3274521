//! Per stage: the queue and its dead-letter queue, the filtered subscription, the Lambda
//! function with its least-privilege policy, and the dead-letter alarm.

use haul_pipeline::config::HaulConfig;
use serde_json::{Map, Value, json};

use super::storage::{list_under, object_arn};
use crate::plan::{self, DLQ_RETENTION_S, QUEUE_RETENTION_S, StagePlan};

/// `arn:...:iot:REGION:ACCOUNT:{resource}`.
pub fn iot_arn(resource: &str) -> Value {
    json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:iot:${{AWS::Region}}:${{AWS::AccountId}}:{resource}") })
}

/// Adds the resources of one stage.
pub fn add(resources: &mut Map<String, Value>, config: &HaulConfig, stage: &StagePlan) {
    let (id, name) = (&stage.id, &stage.name);
    let queue = format!("{id}Queue");
    let dlq = format!("{id}DeadLetterQueue");
    let queue_policy = format!("{id}QueuePolicy");
    resources.insert(
        dlq.clone(),
        json!({
            "Type": "AWS::SQS::Queue",
            // Queues hold only events; the objects stay in the bucket.
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "QueueName": { "Fn::Sub": format!("${{NamePrefix}}-{name}-dlq") },
                "MessageRetentionPeriod": DLQ_RETENTION_S,
                "SqsManagedSseEnabled": true
            }
        }),
    );
    resources.insert(
        queue.clone(),
        json!({
            "Type": "AWS::SQS::Queue",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "QueueName": { "Fn::Sub": format!("${{NamePrefix}}-{name}") },
                "VisibilityTimeout": stage.visibility_timeout_s,
                "MessageRetentionPeriod": QUEUE_RETENTION_S,
                "SqsManagedSseEnabled": true,
                "RedrivePolicy": {
                    "deadLetterTargetArn": { "Fn::GetAtt": [dlq, "Arn"] },
                    "maxReceiveCount": stage.max_receive_count
                }
            }
        }),
    );
    resources.insert(
        queue_policy.clone(),
        json!({
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{ "Ref": queue }],
                "PolicyDocument": plan::stage_queue_policy(
                    json!({ "Fn::GetAtt": [queue, "Arn"] }),
                    json!({ "Ref": "ObjectsTopic" }),
                )
            }
        }),
    );
    resources.insert(format!("{id}Subscription"), subscription(stage, &queue, &queue_policy));
    resources.insert(format!("{id}Function"), function(config, stage, &queue));
    let description = format!(
        "Events of stage {name} failed {} times and wait in its dead-letter queue.",
        stage.max_receive_count
    );
    let alarm_name = format!("${{NamePrefix}}-{name}-dlq-not-empty");
    resources.insert(
        format!("{id}DeadLetterAlarm"),
        super::queue_not_empty_alarm(&alarm_name, &description, &dlq),
    );
    resources.insert(format!("{id}QueueAgeAlarm"), queue_age_alarm(name, &queue));
    resources.insert(format!("{id}ErrorRateAlarm"), error_rate_alarm(name));
}

/// Alarm: the oldest event in the stage's queue has waited longer than
/// [`QUEUE_AGE_ALARM_S`] (the stage falls behind, or its function cannot run).
fn queue_age_alarm(name: &str, queue: &str) -> Value {
    json!({
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": { "Fn::Sub": format!("${{NamePrefix}}-{name}-queue-age") },
            "AlarmDescription": format!("The oldest event in stage {name}'s queue has waited more than {} minutes.", QUEUE_AGE_ALARM_S / 60),
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateAgeOfOldestMessage",
            "Dimensions": [{ "Name": "QueueName", "Value": { "Fn::GetAtt": [queue, "QueueName"] } }],
            "Statistic": "Maximum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": QUEUE_AGE_ALARM_S,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": super::alarm_actions()
        }
    })
}

/// Alarm: more than [`ERROR_RATE_ALARM_PERCENT`] of the stage's runs failed in 15 minutes,
/// from the `Runs` and `Failures` metrics its function emits (EMF, namespace `haul`).
fn error_rate_alarm(name: &str) -> Value {
    let metric = |id: &str, metric: &str| {
        json!({
            "Id": id,
            "ReturnData": false,
            "MetricStat": {
                "Metric": {
                    "Namespace": haul_pipeline::metrics::NAMESPACE,
                    "MetricName": metric,
                    "Dimensions": [{ "Name": "stage", "Value": name }]
                },
                "Period": 900,
                "Stat": "Sum"
            }
        })
    };
    json!({
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": { "Fn::Sub": format!("${{NamePrefix}}-{name}-error-rate") },
            "AlarmDescription": format!("More than {ERROR_RATE_ALARM_PERCENT} % of stage {name}'s runs failed in 15 minutes."),
            "Metrics": [
                metric("runs", "Runs"),
                metric("failures", "Failures"),
                { "Id": "rate", "Label": "failed runs (%)", "Expression": "100 * FILL(failures, 0) / runs", "ReturnData": true }
            ],
            "EvaluationPeriods": 1,
            "Threshold": ERROR_RATE_ALARM_PERCENT,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": super::alarm_actions()
        }
    })
}

/// The queue-age alarm's threshold, seconds.
pub const QUEUE_AGE_ALARM_S: u64 = 3600;
/// The error-rate alarm's threshold, percent of runs.
pub const ERROR_RATE_ALARM_PERCENT: u64 = 5;

fn subscription(stage: &StagePlan, queue: &str, queue_policy: &str) -> Value {
    let mut properties = json!({
        "TopicArn": { "Ref": "ObjectsTopic" },
        "Protocol": "sqs",
        "Endpoint": { "Fn::GetAtt": [queue, "Arn"] },
        "RawMessageDelivery": true
    });
    if let Some(policy) = &stage.filter.policy {
        properties["FilterPolicyScope"] = json!("MessageBody");
        properties["FilterPolicy"] = policy.clone();
    }
    json!({
        "Type": "AWS::SNS::Subscription",
        // SNS delivers as soon as the subscription exists: the queue must accept it.
        "DependsOn": queue_policy,
        "Properties": properties
    })
}

fn function(config: &HaulConfig, stage: &StagePlan, queue: &str) -> Value {
    let (name, incoming) = (&stage.name, &config.storage.incoming_prefix);
    let results = format!("{}{name}/", config.storage.results_prefix);
    json!({
        "Type": "AWS::Serverless::Function",
        "Metadata": { "BuildMethod": "makefile" },
        "Properties": {
            "FunctionName": { "Fn::Sub": format!("${{NamePrefix}}-{name}") },
            "Description": format!("haul stage {name}: processes the uploads its routes select."),
            "Handler": name,
            "Timeout": stage.function_timeout_s,
            "Events": { "Queue": {
                "Type": "SQS",
                "Properties": {
                    "Queue": { "Fn::GetAtt": [queue, "Arn"] },
                    "BatchSize": { "Ref": "BatchSize" },
                    "FunctionResponseTypes": ["ReportBatchItemFailures"]
                }
            }},
            "Policies": [{ "Version": "2012-10-17", "Statement": [
                {
                    "Sid": "ReadUploads",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject"],
                    "Resource": object_arn(&format!("{incoming}*"))
                },
                {
                    "Sid": "ReadWriteOwnResults",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": object_arn(&format!("{results}*"))
                },
                list_under("ListOwnResults", &[results.clone(), format!("{results}*")]),
                {
                    "Sid": "PublishResults",
                    "Effect": "Allow",
                    "Action": ["sns:Publish"],
                    "Resource": { "Ref": "ResultsTopic" }
                },
                {
                    "Sid": "TellDevices",
                    "Effect": "Allow",
                    "Action": ["iot:Publish"],
                    "Resource": iot_arn("topic/haul/*/upload/result")
                }
            ]}]
        }
    })
}
