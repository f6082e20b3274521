//! The device side: the presign function, the IoT topic rule that invokes it, and the IoT
//! policy that scopes every device to its own topics.

use haul_contract::shadow::SHADOW_NAME;
use haul_pipeline::config::{HaulConfig, RATE_LIMIT_PREFIX};
use serde_json::{Map, Value, json};

use super::stage::iot_arn;
use super::storage::{list_under, object_arn};

/// The rule's query: device requests and multipart completions, with the device id taken
/// from the topic (the broker authenticated it), never from the payload.
pub const PRESIGN_RULE_SQL: &str = "SELECT *, topic(2) AS haul_device, topic(4) AS haul_kind \
     FROM 'haul/+/upload/+' WHERE topic(4) = 'request' OR topic(4) = 'complete' OR topic(4) = 'resend'";

/// The shadow variant's rule: every accepted update of a device's `haul-upload` shadow, as
/// `previous` and `current` documents, with the thing name from the topic.
pub const PRESIGN_SHADOW_RULE_SQL: &str = "SELECT previous, current, topic(3) AS haul_thing \
     FROM '$aws/things/+/shadow/name/haul-upload/update/documents'";

/// How long the presign function may take (signing is fast; completing a multipart upload
/// lists its parts first).
pub const PRESIGN_TIMEOUT_S: u64 = 30;

/// The IoT policy variable naming the connected thing, escaped for `Fn::Sub`.
const THING: &str = "${!iot:Connection.Thing.ThingName}";

/// Adds the presign function, its topic rule and permission, and the device policy.
pub fn add(resources: &mut Map<String, Value>, config: &HaulConfig) {
    let incoming = &config.storage.incoming_prefix;
    let results = &config.storage.results_prefix;
    resources.insert(
        "PresignFunction".into(),
        json!({
            "Type": "AWS::Serverless::Function",
            "Metadata": { "BuildMethod": "makefile" },
            "Properties": {
                "FunctionName": { "Fn::Sub": "${NamePrefix}-presign" },
                "Description": "haul presign: answers device upload requests with presigned S3 URLs.",
                "Handler": "presign",
                "Timeout": PRESIGN_TIMEOUT_S,
                "MemorySize": { "Ref": "PresignMemorySize" },
                "Environment": { "Variables": {
                    "HAUL_PRESIGN_MAX_SIZE": { "Ref": "PresignMaxSize" },
                    "HAUL_PRESIGN_EXPIRY": { "Ref": "PresignExpiry" },
                    "HAUL_PRESIGN_MULTIPART_THRESHOLD": { "Ref": "PresignMultipartThreshold" }
                }},
                "Policies": [{ "Version": "2012-10-17", "Statement": [
                    {
                        // Presigned URLs carry the signer's permissions: only incoming/.
                        "Sid": "SignUploads",
                        "Effect": "Allow",
                        "Action": [
                            "s3:PutObject",
                            "s3:AbortMultipartUpload",
                            "s3:ListMultipartUploadParts",
                            "s3:GetObject"
                        ],
                        "Resource": object_arn(&format!("{incoming}*"))
                    },
                    {
                        // A resend answers from the stored results.
                        "Sid": "ReadResultsForResend",
                        "Effect": "Allow",
                        "Action": ["s3:GetObject"],
                        "Resource": object_arn(&format!("{results}*"))
                    },
                    {
                        // The per-device request counters every container shares
                        // (conditional writes; the lifecycle rule expires them).
                        "Sid": "CountRequests",
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject"],
                        "Resource": object_arn(&format!("{RATE_LIMIT_PREFIX}*"))
                    },
                    // A result or counter not written yet must read as a 404, not a 403.
                    list_under(
                        "ListResultsAndCounters",
                        &[format!("{results}*"), format!("{RATE_LIMIT_PREFIX}*")]
                    ),
                    {
                        "Sid": "AnswerDevices",
                        "Effect": "Allow",
                        "Action": ["iot:Publish"],
                        "Resource": [
                            iot_arn("topic/haul/*/upload/response"),
                            iot_arn("topic/haul/*/upload/result"),
                            iot_arn(&format!("topic/$aws/things/*/shadow/name/{SHADOW_NAME}/update"))
                        ]
                    }
                ]}]
            }
        }),
    );
    resources.insert(
        "PresignRule".into(),
        rule(
            "Device upload requests, multipart completions and result resends to the presign function.",
            PRESIGN_RULE_SQL,
        ),
    );
    resources.insert(
        "PresignShadowRule".into(),
        rule(
            "Accepted updates of each device's haul-upload shadow to the presign function.",
            PRESIGN_SHADOW_RULE_SQL,
        ),
    );
    add_rule_errors(resources);
    for rule in ["PresignRule", "PresignShadowRule"] {
        resources.insert(
            format!("{rule}Permission"),
            json!({
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": { "Ref": "PresignFunction" },
                    "Principal": "iot.amazonaws.com",
                    "SourceAccount": { "Ref": "AWS::AccountId" },
                    "SourceArn": { "Fn::GetAtt": [rule, "Arn"] }
                }
            }),
        );
    }
    resources.insert("DevicePolicy".into(), device_policy());
}

/// A topic rule invoking the presign function; what it cannot hand over goes to the error
/// queue.
fn rule(description: &str, sql: &str) -> Value {
    json!({
        "Type": "AWS::IoT::TopicRule",
        "Properties": {
            "TopicRulePayload": {
                "Description": description,
                "AwsIotSqlVersion": "2016-03-23",
                "RuleDisabled": false,
                "Sql": sql,
                "Actions": [{ "Lambda": { "FunctionArn": { "Fn::GetAtt": ["PresignFunction", "Arn"] } } }],
                // A message the rule could not hand to the function (throttled, failed
                // invocation) is kept, not lost: IoT Core sends the original message, its
                // topic and the failure to this queue (deploy/README.md: redrive).
                "ErrorAction": { "Sqs": {
                    "QueueUrl": { "Ref": "PresignRuleErrors" },
                    "RoleArn": { "Fn::GetAtt": ["PresignRuleErrorRole", "Arn"] },
                    "UseBase64": false
                }}
            }
        }
    })
}

/// The queue the presign rule's error action writes to, the role IoT Core assumes for it
/// (send to that queue only), and an alarm when anything is in it.
fn add_rule_errors(resources: &mut Map<String, Value>) {
    resources.insert(
        "PresignRuleErrors".into(),
        json!({
            "Type": "AWS::SQS::Queue",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "QueueName": { "Fn::Sub": "${NamePrefix}-presign-rule-errors" },
                "MessageRetentionPeriod": crate::plan::DLQ_RETENTION_S,
                "SqsManagedSseEnabled": true
            }
        }),
    );
    resources.insert(
        "PresignRuleErrorRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Principal": { "Service": "iot.amazonaws.com" },
                        "Action": "sts:AssumeRole",
                        "Condition": { "StringEquals": { "aws:SourceAccount": { "Ref": "AWS::AccountId" } } }
                    }]
                },
                "Policies": [{
                    "PolicyName": "SendRuleErrors",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Action": "sqs:SendMessage",
                            "Resource": { "Fn::GetAtt": ["PresignRuleErrors", "Arn"] }
                        }]
                    }
                }]
            }
        }),
    );
    resources.insert(
        "PresignRuleErrorsAlarm".into(),
        super::queue_not_empty_alarm(
            "${NamePrefix}-presign-rule-errors",
            "Device requests the IoT rule could not hand to the presign function wait in the rule's error queue (deploy/README.md: redrive).",
            "PresignRuleErrors",
        ),
    );
}

fn device_policy() -> Value {
    let topic = |kind: &str| iot_arn(&format!("topic/haul/{THING}/upload/{kind}"));
    let filter = |kind: &str| iot_arn(&format!("topicfilter/haul/{THING}/upload/{kind}"));
    let shadow = |kind: &str, op: &str| iot_arn(&format!("{kind}/$aws/things/{THING}/shadow/name/{SHADOW_NAME}/{op}"));
    json!({
        "Type": "AWS::IoT::Policy",
        "Properties": {
            "PolicyName": { "Fn::Sub": "${NamePrefix}-device" },
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        // The client id is the thing name, and the certificate must be
                        // attached to that thing.
                        "Sid": "ConnectAsOwnThing",
                        "Effect": "Allow",
                        "Action": "iot:Connect",
                        "Resource": iot_arn(&format!("client/{THING}")),
                        "Condition": { "Bool": { "iot:Connection.Thing.IsAttached": "true" } }
                    },
                    {
                        "Sid": "RequestCompleteAndResend",
                        "Effect": "Allow",
                        "Action": "iot:Publish",
                        "Resource": [topic("request"), topic("complete"), topic("resend")]
                    },
                    {
                        "Sid": "SubscribeToAnswers",
                        "Effect": "Allow",
                        "Action": "iot:Subscribe",
                        "Resource": [filter("response"), filter("result")]
                    },
                    {
                        "Sid": "ReceiveOwnTopics",
                        "Effect": "Allow",
                        "Action": "iot:Receive",
                        "Resource": [topic("*"), shadow("topic", "*")]
                    },
                    {
                        // The shadow variant: its own haul-upload shadow only.
                        "Sid": "UseOwnUploadShadow",
                        "Effect": "Allow",
                        "Action": "iot:Publish",
                        "Resource": [shadow("topic", "update"), shadow("topic", "get")]
                    },
                    {
                        "Sid": "SubscribeToOwnUploadShadow",
                        "Effect": "Allow",
                        "Action": "iot:Subscribe",
                        "Resource": [
                            shadow("topicfilter", "update/delta"),
                            shadow("topicfilter", "update/rejected"),
                            shadow("topicfilter", "get/accepted")
                        ]
                    }
                ]
            }
        }
    })
}
