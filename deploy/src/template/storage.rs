//! The bucket, its policy and notification, and the two SNS topics.

use haul_pipeline::config::{HaulConfig, RATE_LIMIT_PREFIX};
use serde_json::{Map, Value, json};

use crate::plan;

/// The bucket's name: unique per account and region, as bucket names are global.
pub const BUCKET_NAME: &str = "${NamePrefix}-${AWS::AccountId}-${AWS::Region}";

/// `arn:...:s3:::BUCKET/{path}` for a path under the stack's bucket.
pub fn object_arn(path: &str) -> Value {
    // `${` in a configured prefix is literal text, not a substitution.
    let path = path.replace("${", "${!");
    json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::${{Bucket}}/{path}") })
}

/// A statement allowing `s3:ListBucket` under `prefixes` (`s3:prefix` patterns). S3 answers
/// 404 for a missing key only to a caller that may list the bucket (else 403), and that
/// existence check carries no prefix, hence `IfExists`; explicit listings stay under
/// `prefixes`.
pub fn list_under(sid: &str, prefixes: &[String]) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["s3:ListBucket"],
        "Resource": bucket_arn(),
        "Condition": { "StringLikeIfExists": { "s3:prefix": prefixes } }
    })
}

/// `arn:...:s3:::BUCKET`.
pub fn bucket_arn() -> Value {
    json!({ "Fn::GetAtt": ["Bucket", "Arn"] })
}

/// Adds the bucket, its policy, and the objects and results topics.
pub fn add(resources: &mut Map<String, Value>, config: &HaulConfig) {
    let incoming = &config.storage.incoming_prefix;
    resources.insert(
        "Bucket".into(),
        json!({
            "Type": "AWS::S3::Bucket",
            // S3 checks that it may publish to the topic when the notification is set.
            "DependsOn": "ObjectsTopicPolicy",
            // Uploads are data: deleting the stack leaves the bucket.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketName": { "Fn::Sub": BUCKET_NAME },
                "BucketEncryption": { "ServerSideEncryptionConfiguration": [{
                    "ServerSideEncryptionByDefault": { "SSEAlgorithm": { "Ref": "BucketEncryption" } },
                    "BucketKeyEnabled": { "Fn::If": ["UseKms", true, false] }
                }]},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": true,
                    "BlockPublicPolicy": true,
                    "IgnorePublicAcls": true,
                    "RestrictPublicBuckets": true
                },
                "OwnershipControls": { "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] },
                "LifecycleConfiguration": { "Rules": [
                    {
                        "Id": "abort-incomplete-multipart-uploads",
                        "Status": "Enabled",
                        "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 1 }
                    },
                    {
                        // The presign function's per-device request counters.
                        "Id": "expire-rate-limit-counters",
                        "Status": "Enabled",
                        "Prefix": RATE_LIMIT_PREFIX,
                        "ExpirationInDays": 1
                    }
                ]},
                "NotificationConfiguration": { "TopicConfigurations": [{
                    "Event": "s3:ObjectCreated:*",
                    "Topic": { "Ref": "ObjectsTopic" },
                    "Filter": { "S3Key": { "Rules": [{ "Name": "prefix", "Value": incoming }] } }
                }]}
            }
        }),
    );
    resources.insert(
        "BucketPolicy".into(),
        json!({
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": { "Ref": "Bucket" },
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket_arn(), object_arn("*")],
                        "Condition": { "Bool": { "aws:SecureTransport": "false" } }
                    }]
                }
            }
        }),
    );
    resources.insert(
        "ObjectsTopic".into(),
        json!({
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": { "Fn::Sub": "${NamePrefix}-objects" },
                "DisplayName": "haul uploads (S3 ObjectCreated)"
            }
        }),
    );
    resources.insert(
        "ObjectsTopicPolicy".into(),
        json!({
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [{ "Ref": "ObjectsTopic" }],
                // The bucket's ARN from its name, not from the resource: the bucket depends
                // on this policy.
                "PolicyDocument": plan::objects_topic_policy(
                    json!({ "Ref": "ObjectsTopic" }),
                    json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:s3:::{BUCKET_NAME}") }),
                    Some(json!({ "Ref": "AWS::AccountId" })),
                )
            }
        }),
    );
    resources.insert(
        "ResultsTopic".into(),
        json!({
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": { "Fn::Sub": "${NamePrefix}-results" },
                "DisplayName": "haul stage results"
            }
        }),
    );
}
