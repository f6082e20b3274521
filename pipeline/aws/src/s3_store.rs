//! S3 (or any S3-compatible endpoint) through aws-sdk-s3.

use async_trait::async_trait;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use haul_pipeline::store::{BodyReader, ListPage, ObjectMeta, ObjectStore, PutBody, StoreError};

/// How to reach S3.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    /// Endpoint URL of an S3-compatible service. `None` uses `AWS_ENDPOINT_URL(_S3)` if set,
    /// else AWS itself.
    pub endpoint: Option<String>,
    /// Region; `None` uses the default chain (`AWS_REGION`, profile), else `us-east-1`.
    pub region: Option<String>,
}

/// Objects in S3. Credentials come from the default chain (environment, profile, SSO,
/// container or instance role). When an endpoint is given (flag or `AWS_ENDPOINT_URL`),
/// path-style addressing is used, as local S3-compatible endpoints expect.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    endpoint: String,
}

impl S3Store {
    /// Loads the AWS configuration and builds a client.
    pub async fn connect(settings: &S3Settings) -> Self {
        Self::from_config(&Self::load(settings).await)
    }

    async fn load(settings: &S3Settings) -> aws_config::SdkConfig {
        let mut loader = crate::config_loader();
        if let Some(endpoint) = &settings.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some(region) = &settings.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        loader.load().await
    }

    /// [`connect`](Self::connect), then makes sure the default chain finds credentials: the
    /// error says what to do instead of failing every request with an SDK dump.
    pub async fn connect_checked(settings: &S3Settings) -> Result<Self, String> {
        use aws_credential_types::provider::ProvideCredentials;
        let shared = Self::load(settings).await;
        let found = match shared.credentials_provider() {
            Some(p) => match tokio::time::timeout(std::time::Duration::from_secs(10), p.provide_credentials()).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(crate::one_line_error(&e)),
                Err(_) => Err("no answer within 10 s".to_owned()),
            },
            None => Err("no credentials provider".to_owned()),
        };
        match found {
            Ok(()) => Ok(Self::from_config(&shared)),
            Err(cause) => Err(format!(
                "no AWS credentials for S3 ({cause}); set them (environment, ~/.aws, SSO, role), \
                 or use --store DIR for a local folder or --endpoint URL for an S3-compatible endpoint"
            )),
        }
    }

    /// A store from an already loaded AWS configuration.
    pub fn from_config(shared: &aws_config::SdkConfig) -> Self {
        let custom_endpoint = shared.endpoint_url().map(str::to_owned);
        let mut builder = aws_sdk_s3::config::Builder::from(shared);
        if shared.region().is_none() {
            builder = builder.region(aws_config::Region::new("us-east-1"));
        }
        if custom_endpoint.is_some() {
            builder = builder.force_path_style(true);
        }
        Self {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            endpoint: custom_endpoint.unwrap_or_else(|| "aws".to_owned()),
        }
    }

    /// A store over an existing client; `endpoint` names it in logs (`aws` for AWS itself).
    pub fn from_client(client: aws_sdk_s3::Client, endpoint: &str) -> Self {
        Self {
            client,
            endpoint: endpoint.to_owned(),
        }
    }

    /// A PutObject made only when `condition` holds (S3's conditional writes):
    /// `Ok(None)` when it does not (412, or 409 for a concurrent conditional write).
    async fn put_when(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        content_type: &str,
        condition: Condition<'_>,
    ) -> Result<Option<String>, StoreError> {
        let request = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body));
        let (request, op) = match condition {
            Condition::Absent => (request.if_none_match("*"), "PutObject If-None-Match"),
            Condition::Matches(etag) => (
                request.if_match(format!("\"{}\"", etag.trim_matches('"'))),
                "PutObject If-Match",
            ),
        };
        conditional(request.send().await, op, bucket, key)
    }

    /// The underlying client (for presigning and multipart operations).
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }
}

/// When a conditional PutObject may write.
enum Condition<'a> {
    /// No object has the key (`If-None-Match: *`).
    Absent,
    /// The object's ETag is still this one (`If-Match`).
    Matches(&'a str),
}

/// A conditional write's answer: written (with its ETag), or refused because the condition
/// failed (412, or 409 ConditionalRequestConflict when another conditional write won).
fn conditional<E, R>(
    sent: Result<aws_sdk_s3::operation::put_object::PutObjectOutput, SdkError<E, R>>,
    op: &'static str,
    bucket: &str,
    key: &str,
) -> Result<Option<String>, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + HttpStatus + 'static,
{
    match sent {
        Ok(out) => Ok(Some(unquote(out.e_tag()).unwrap_or_default())),
        Err(SdkError::ServiceError(e)) if matches!(e.raw().status_code(), 412 | 409) => Ok(None),
        Err(e) => Err(classify(op, bucket, key, e)),
    }
}

/// Classifies an SDK error: timeouts, connection failures, throttling, 5xx and access
/// denied are retryable (none of them is a property of the object); a missing object is
/// `NotFound`; other 4xx are not retryable.
fn classify<E, R>(op: &'static str, bucket: &str, key: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + HttpStatus + 'static,
{
    let (retryable, status, code, message) = match &err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status_code();
            let code = service.err().code().unwrap_or("").to_owned();
            let message = service.err().message().unwrap_or("").to_owned();
            let throttled = matches!(
                code.as_str(),
                "SlowDown" | "Throttling" | "ThrottlingException" | "RequestTimeout" | "RequestTimeTooSkewed"
            );
            (
                status >= 500 || status == 429 || status == 403 || status == 408 || throttled,
                status,
                code,
                message,
            )
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            (true, 0, String::new(), crate::one_line_error(&err))
        }
        _ => (false, 0, String::new(), crate::one_line_error(&err)),
    };
    if status == 404 || matches!(code.as_str(), "NoSuchKey" | "NoSuchBucket" | "NotFound") {
        return StoreError::NotFound {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        };
    }
    let message = match (status, code.is_empty()) {
        (0, _) => message,
        (s, true) => format!("HTTP {s} {message}"),
        (s, false) => format!("HTTP {s} {code}: {message}"),
    };
    StoreError::S3 {
        op,
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        retryable,
        message,
    }
}

/// The HTTP status of a raw response, whatever its type.
trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

fn to_utc(t: Option<&aws_sdk_s3::primitives::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn unquote(etag: Option<&str>) -> Option<String> {
    etag.map(|e| e.trim_matches('"').to_owned())
}

#[async_trait]
impl ObjectStore for S3Store {
    fn describe(&self) -> String {
        format!("s3 {}", self.endpoint)
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError> {
        let out = self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| classify("HeadObject", bucket, key, e))?;
        Ok(ObjectMeta {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: out.content_length().unwrap_or(0).max(0) as u64,
            etag: unquote(out.e_tag()),
            content_type: out.content_type().map(str::to_owned),
            last_modified: to_utc(out.last_modified()),
            metadata: out
                .metadata()
                .map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect())
                .unwrap_or_default(),
            checksum_sha256: out.checksum_sha256().filter(|c| !c.contains('-')).map(str::to_owned),
        })
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<BodyReader, StoreError> {
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| classify("GetObject", bucket, key, e))?;
        Ok(Box::pin(out.body.into_async_read()))
    }

    async fn put(&self, bucket: &str, key: &str, body: PutBody, content_type: &str) -> Result<(), StoreError> {
        let stream = match body {
            PutBody::Bytes(bytes) => ByteStream::from(bytes),
            PutBody::File(path) => ByteStream::from_path(&path).await.map_err(|e| StoreError::Io {
                op: "read artifact",
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                source: std::io::Error::other(e),
            })?,
        };
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(stream)
            .send()
            .await
            .map_err(|e| classify("PutObject", bucket, key, e))?;
        Ok(())
    }

    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        content_type: &str,
    ) -> Result<Option<String>, StoreError> {
        self.put_when(bucket, key, body, content_type, Condition::Absent).await
    }

    async fn replace_if_match(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        etag: &str,
    ) -> Result<Option<String>, StoreError> {
        self.put_when(bucket, key, body, "application/json", Condition::Matches(etag))
            .await
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| classify("DeleteObject", bucket, key, e))?;
        Ok(())
    }

    async fn list_page(&self, bucket: &str, prefix: &str, next: Option<String>) -> Result<ListPage, StoreError> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(next)
            .send()
            .await
            .map_err(|e| classify("ListObjectsV2", bucket, prefix, e))?;
        let objects = out
            .contents()
            .iter()
            .filter_map(|o| {
                Some(ObjectMeta {
                    bucket: bucket.to_owned(),
                    key: o.key()?.to_owned(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                    etag: unquote(o.e_tag()),
                    content_type: None,
                    last_modified: to_utc(o.last_modified()),
                    metadata: Default::default(),
                    checksum_sha256: None,
                })
            })
            .collect();
        let next = if out.is_truncated() == Some(true) {
            out.next_continuation_token().map(str::to_owned)
        } else {
            None
        };
        Ok(ListPage { objects, next })
    }
}
