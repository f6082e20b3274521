//! The SDK calls of `haul deploy local`, each one idempotent: create-or-find, then set
//! the attributes the plan asks for.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Event, FilterRule, FilterRuleName, NotificationConfiguration,
    NotificationConfigurationFilter, S3KeyFilter, TopicConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::json;

use super::LocalError;
use crate::plan;

/// The SDK clients for one endpoint.
pub(super) struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub endpoint: String,
}

impl Clients {
    /// Clients for a loaded AWS configuration; path-style S3 addressing, as emulators
    /// expect. `endpoint` names the target in errors.
    pub(super) fn new(shared: &aws_config::SdkConfig, endpoint: &str) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(shared).force_path_style(true).build();
        Self {
            s3: aws_sdk_s3::Client::from_conf(s3),
            sns: aws_sdk_sns::Client::new(shared),
            sqs: aws_sdk_sqs::Client::new(shared),
            endpoint: endpoint.to_owned(),
        }
    }

    /// Maps an SDK error of `step` on `resource` to [`LocalError::Aws`].
    pub fn err<E: std::error::Error>(
        &self,
        step: &'static str,
        resource: &str,
    ) -> impl FnOnce(E) -> LocalError + use<E> {
        let (resource, endpoint) = (resource.to_owned(), self.endpoint.clone());
        move |e| LocalError::Aws {
            step,
            resource,
            endpoint,
            message: DisplayErrorContext(&e).to_string(),
        }
    }
}

pub(super) async fn ensure_bucket(c: &Clients, bucket: &str, region: &str) -> Result<(), LocalError> {
    let mut req = c.s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        let constraint = BucketLocationConstraint::from(region);
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(constraint)
                .build(),
        );
    }
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.code(), Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")) => Ok(()),
        Err(e) => Err(c.err("create bucket", bucket)(e)),
    }
}

pub(super) async fn ensure_topic(c: &Clients, name: &str) -> Result<String, LocalError> {
    let out = c
        .sns
        .create_topic()
        .name(name)
        .send()
        .await
        .map_err(c.err("create topic", name))?;
    out.topic_arn.ok_or_else(|| LocalError::Aws {
        step: "create topic",
        resource: name.to_owned(),
        endpoint: c.endpoint.clone(),
        message: "the answer has no TopicArn".to_owned(),
    })
}

/// Lets S3 publish the bucket's notifications to the topic (as the template's topic policy).
pub(super) async fn allow_bucket_notifications(c: &Clients, topic_arn: &str, bucket: &str) -> Result<(), LocalError> {
    let policy = plan::objects_topic_policy(json!(topic_arn), json!(format!("arn:aws:s3:::{bucket}")), None);
    c.sns
        .set_topic_attributes()
        .topic_arn(topic_arn)
        .attribute_name("Policy")
        .attribute_value(policy.to_string())
        .send()
        .await
        .map_err(c.err("set the policy of topic", topic_arn))?;
    Ok(())
}

/// Creates the queue (or finds it) and returns its URL and ARN.
pub(super) async fn ensure_queue(
    c: &Clients,
    name: &str,
    attributes: &[(QueueAttributeName, String)],
) -> Result<(String, String), LocalError> {
    let url = c
        .sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(c.err("create queue", name))?
        .queue_url
        .unwrap_or_default();
    if !attributes.is_empty() {
        let mut req = c.sqs.set_queue_attributes().queue_url(&url);
        for (k, v) in attributes {
            req = req.attributes(k.clone(), v);
        }
        req.send().await.map_err(c.err("set the attributes of queue", name))?;
    }
    let arn = c
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(c.err("read the ARN of queue", name))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .unwrap_or_default();
    Ok((url, arn))
}

/// The queue policy letting `topic_arn` deliver to `queue_arn`.
pub(super) fn queue_policy(queue_arn: &str, topic_arn: &str) -> String {
    plan::stage_queue_policy(json!(queue_arn), json!(topic_arn)).to_string()
}

/// Subscribes the queue to the topic with raw delivery and the policy, or updates the
/// existing subscription to match.
pub(super) async fn subscribe(
    c: &Clients,
    topic_arn: &str,
    queue_arn: &str,
    policy: Option<&serde_json::Value>,
) -> Result<String, LocalError> {
    let mut wanted = vec![("RawMessageDelivery", "true".to_owned())];
    if let Some(p) = policy {
        wanted.push(("FilterPolicyScope", "MessageBody".to_owned()));
        wanted.push(("FilterPolicy", p.to_string()));
    }
    let existing = find_subscription(c, topic_arn, queue_arn).await?;
    let Some(arn) = existing else {
        let mut req = c
            .sns
            .subscribe()
            .topic_arn(topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn);
        for (k, v) in &wanted {
            req = req.attributes(*k, v);
        }
        let out = req
            .return_subscription_arn(true)
            .send()
            .await
            .map_err(c.err("subscribe", queue_arn))?;
        return Ok(out.subscription_arn.unwrap_or_default());
    };
    if policy.is_none() {
        // An earlier run may have set one: an empty policy matches everything.
        wanted.push(("FilterPolicy", "{}".to_owned()));
    }
    for (k, v) in wanted {
        c.sns
            .set_subscription_attributes()
            .subscription_arn(&arn)
            .attribute_name(k)
            .attribute_value(v)
            .send()
            .await
            .map_err(c.err("update subscription", &arn))?;
    }
    Ok(arn)
}

async fn find_subscription(c: &Clients, topic_arn: &str, queue_arn: &str) -> Result<Option<String>, LocalError> {
    let mut token: Option<String> = None;
    loop {
        let page = c
            .sns
            .list_subscriptions_by_topic()
            .topic_arn(topic_arn)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(c.err("list the subscriptions of", topic_arn))?;
        let found = page.subscriptions().iter().find(|s| {
            s.protocol() == Some("sqs")
                && s.endpoint() == Some(queue_arn)
                && s.subscription_arn().is_some_and(|a| a.starts_with("arn:"))
        });
        if let Some(s) = found {
            return Ok(s.subscription_arn().map(str::to_owned));
        }
        match page.next_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(None),
        }
    }
}

pub(super) async fn put_notification(
    c: &Clients,
    bucket: &str,
    topic_arn: &str,
    incoming: &str,
) -> Result<(), LocalError> {
    let rule = FilterRule::builder()
        .name(FilterRuleName::Prefix)
        .value(incoming)
        .build();
    let filter = NotificationConfigurationFilter::builder()
        .key(S3KeyFilter::builder().filter_rules(rule).build())
        .build();
    let topic = TopicConfiguration::builder()
        .id("haul-objects")
        .topic_arn(topic_arn)
        .events(Event::S3ObjectCreated)
        .filter(filter)
        .build()
        .map_err(c.err("describe the notification of bucket", bucket))?;
    c.s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(NotificationConfiguration::builder().topic_configurations(topic).build())
        .send()
        .await
        .map_err(c.err("set the notification of bucket", bucket))?;
    Ok(())
}
