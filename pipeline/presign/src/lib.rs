//! `presign`: answers device upload requests with presigned S3 URLs, and completes
//! multipart uploads. It runs wherever the MQTT requests arrive: the local responder of
//! the local stack (`haul-local`) or the Lambda function an IoT topic rule invokes (`haul-app`).
//!
//! Security rests on real components: the broker proves the device id (topic ACL / IoT
//! policy), the cloud picks the key under `incoming/{device}/`, and S3 checks the SigV4
//! signature, which binds the method, key, expiry, `Content-Length`, `Content-Type` and
//! `x-amz-checksum-sha256` (so another body or size is refused by S3 itself).

mod multipart;
mod rate_limit;
mod resend;
mod shadow;
mod sign;
mod sizing;
mod validate;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use haul_contract::key::{UploadKey, sanitize_file_name, valid_device};
use haul_contract::s3::part_layout;
use haul_contract::{
    CompletedPart, RejectReason, ResendResults, TopicKind, UploadComplete, UploadPlan, UploadRequest, UploadResponse,
    parse_topic, topic,
};
use haul_pipeline::config::HaulConfig;
use haul_pipeline::router::Router;
use rate_limit::Limiter;

pub use rate_limit::RateLimiter;
pub use sign::{Endpoint, SignError, Signer};
pub use sizing::expiry_for;
pub use validate::Rejection;

/// Largest response payload: AWS IoT Core caps a message at 128 KB; part URLs must fit.
const MAX_RESPONSE_BYTES: usize = 100_000;

/// The presign handler.
pub struct Presigner {
    config: Arc<HaulConfig>,
    router: Router,
    client: aws_sdk_s3::Client,
    signer: Signer,
    limiter: Limiter,
}

impl Presigner {
    /// A presigner signing for `config.storage.bucket` with `signer`, using `client` for
    /// the multipart calls.
    pub fn new(config: Arc<HaulConfig>, client: aws_sdk_s3::Client, signer: Signer) -> Self {
        let router = Router::new(&config);
        let limiter = Limiter::InProcess(RateLimiter::new(config.presign.rate_limit, config.presign.rate_window));
        Self {
            config,
            router,
            client,
            signer,
            limiter,
        }
    }

    /// A presigner for an S3-compatible endpoint with static credentials (the embedded
    /// endpoint of `haul dev`, MiniStack, tests). Devices reach S3 at
    /// `presign.public_endpoint` if set, else at `endpoint`.
    pub fn for_endpoint(config: Arc<HaulConfig>, endpoint: &str, access_key: &str, secret_key: &str) -> Self {
        let creds = aws_credential_types::Credentials::new(access_key, secret_key, None, None, "haul-static");
        let provider = aws_credential_types::provider::SharedCredentialsProvider::new(creds);
        let region = config.storage.region.clone();
        let s3_config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .http_client(haul_aws::https_client())
            .endpoint_url(endpoint)
            .region(aws_sdk_s3::config::Region::new(region.clone()))
            .credentials_provider(provider.clone())
            .force_path_style(true)
            .build();
        let public = config
            .presign
            .public_endpoint
            .clone()
            .unwrap_or_else(|| endpoint.to_owned());
        let signer = Signer::new(provider, &region, Endpoint::Custom(public));
        Self::new(config, aws_sdk_s3::Client::from_conf(s3_config), signer)
    }

    /// A presigner for the AWS environment it runs in (Lambda: the function role's
    /// credentials; `AWS_ENDPOINT_URL` selects an S3-compatible endpoint instead), with the
    /// rate limit shared by all its containers (counters in the bucket).
    pub fn from_sdk_config(config: Arc<HaulConfig>, sdk: &aws_config::SdkConfig) -> Result<Self, SignError> {
        let provider = sdk
            .credentials_provider()
            .ok_or_else(|| SignError::new("no AWS credentials provider configured"))?;
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| config.storage.region.clone());
        let endpoint = match (&config.presign.public_endpoint, sdk.endpoint_url()) {
            (Some(public), _) => Endpoint::Custom(public.clone()),
            (None, Some(url)) => Endpoint::Custom(url.to_owned()),
            (None, None) => Endpoint::Aws,
        };
        let client = haul_aws::S3Store::from_config(sdk).client().clone();
        Ok(Self::new(config, client, Signer::new(provider, &region, endpoint)).with_shared_limit())
    }

    /// Keeps the per-device budget in counter objects in the upload bucket (through this
    /// presigner's S3 client), shared by every process presigning for it (the Lambda
    /// function's containers), instead of in memory.
    pub fn with_shared_limit(mut self) -> Self {
        let store = haul_aws::S3Store::from_client(self.client.clone(), "presign");
        let presign = &self.config.presign;
        let bucket = &self.config.storage.bucket;
        self.limiter = Limiter::shared(Arc::new(store), bucket, presign.rate_limit, presign.rate_window);
        self
    }

    /// The signer (tests presign URLs of their own with it).
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Handles one MQTT message; returns the messages to publish in answer (`(topic,
    /// payload)`: one response, or the stored results a resend asks for), none for topics
    /// this handler does not answer.
    pub async fn handle(&self, topic_name: &str, payload: &[u8]) -> Vec<(String, Vec<u8>)> {
        let Some((device, kind)) = parse_topic(topic_name) else {
            return Vec::new();
        };
        let response = match kind {
            TopicKind::Request => match serde_json::from_slice::<UploadRequest>(payload) {
                Ok(req) => self.request(device, req).await,
                Err(e) => malformed(payload, &e),
            },
            TopicKind::Complete => match serde_json::from_slice::<UploadComplete>(payload) {
                Ok(c) => self.complete(device, c).await,
                Err(e) => malformed(payload, &e),
            },
            TopicKind::Resend => {
                return match serde_json::from_slice::<ResendResults>(payload) {
                    Ok(req) => {
                        let routes = self.router.candidates(&req.key, None);
                        let stages: Vec<&str> = routes.iter().map(|r| r.stage.as_str()).collect();
                        resend::stored_results(&self.config, &self.client, &stages, device, &req).await
                    }
                    Err(e) => {
                        tracing::info!(device, error = %e, "Unreadable resend request ignored.");
                        Vec::new()
                    }
                };
            }
            TopicKind::Response | TopicKind::Result => return Vec::new(),
        };
        match serde_json::to_vec(&response) {
            Ok(body) => vec![(topic(device, TopicKind::Response), body)],
            Err(_) => Vec::new(),
        }
    }

    /// Answers an upload request.
    pub async fn request(&self, device: &str, req: UploadRequest) -> UploadResponse {
        self.request_within(device, req, MAX_RESPONSE_BYTES).await
    }

    /// Answers an upload request with a response of about `budget` bytes at most (a
    /// multipart plan lists fewer part URLs; the device asks again for the rest).
    pub async fn request_within(&self, device: &str, req: UploadRequest, budget: usize) -> UploadResponse {
        let id = req.request_id.clone();
        let result = self.try_request(device, req, budget).await;
        let response = result.unwrap_or_else(|r| rejected(&id, r));
        if let UploadResponse::Rejected { reason, message, .. } = &response {
            tracing::info!(device, request_id = %id, ?reason, %message, "Upload request rejected.");
        }
        response
    }

    async fn try_request(&self, device: &str, req: UploadRequest, budget: usize) -> Result<UploadResponse, Rejection> {
        if !valid_device(device) {
            return Err(rejection(
                RejectReason::MalformedRequest,
                format!("device id {device:?} is not usable in keys"),
            ));
        }
        let allowed = self.limiter.allow(device).await.map_err(|e| {
            tracing::error!(device, error = %e, "Rate limit not decided.");
            rejection(
                RejectReason::Internal,
                "the request could not be counted; try again".to_owned(),
            )
        })?;
        if !allowed {
            return Err(rejection(
                RejectReason::RateLimited,
                format!(
                    "more than {} requests in {}",
                    self.config.presign.rate_limit,
                    humantime::format_duration(self.config.presign.rate_window)
                ),
            ));
        }
        let now = Utc::now();
        let (key, content_type) = validate::check_request(&self.config, &self.router, device, &req, now)?;
        let expiry = expiry_for(&self.config.presign, req.size);
        let expires_at = (now + chrono::Duration::from_std(expiry).unwrap_or_default()).to_rfc3339();
        let stages = |key: &str| -> Vec<String> {
            let routed = self.router.stages_for(key, Some(req.size), Some(&content_type));
            routed.into_iter().map(str::to_owned).collect()
        };
        if let Some(resume) = &req.resume {
            let upload = self
                .resume(device, &req, &resume.key, &resume.upload_id, (expiry, budget))
                .await?;
            let routed = stages(&resume.key);
            return Ok(accepted(
                &req.request_id,
                resume.key.clone(),
                expires_at,
                upload,
                routed,
            ));
        }
        let upload = if req.size >= self.config.presign.multipart_threshold.bytes() {
            validate::check_parts(req.size, req.parts.as_ref(), self.config.presign.part_size.bytes())?;
            self.start_multipart(&req, &key, &content_type, (expiry, budget))
                .await?
        } else {
            self.single(&req, &key, &content_type, expiry).await?
        };
        tracing::info!(device, request_id = %req.request_id, %key, size = req.size, "Upload accepted.");
        let routed = stages(&key);
        Ok(accepted(&req.request_id, key, expires_at, upload, routed))
    }

    async fn single(
        &self,
        req: &UploadRequest,
        key: &str,
        content_type: &str,
        expiry: Duration,
    ) -> Result<UploadPlan, Rejection> {
        let digest = hex::decode(&req.sha256).map_err(|e| rejection(RejectReason::InvalidSha256, e.to_string()))?;
        let checksum = base64::engine::general_purpose::STANDARD.encode(digest);
        let length = req.size.to_string();
        let headers = [
            ("content-length", length.as_str()),
            ("content-type", content_type),
            ("x-amz-checksum-sha256", checksum.as_str()),
        ];
        let url = self
            .signer
            .presign("PUT", &self.config.storage.bucket, key, &[], &headers, expiry)
            .await
            .map_err(|e| rejection(RejectReason::Internal, e.to_string()))?;
        Ok(UploadPlan::Single {
            url,
            method: "PUT".to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })
    }

    async fn start_multipart(
        &self,
        req: &UploadRequest,
        key: &str,
        content_type: &str,
        limits: (Duration, usize),
    ) -> Result<UploadPlan, Rejection> {
        let bucket = &self.config.storage.bucket;
        let out = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
            .metadata("haul-sha256", req.sha256.to_ascii_lowercase())
            .metadata("haul-size", req.size.to_string())
            .send()
            .await
            .map_err(|e| multipart::internal("CreateMultipartUpload", aws_sdk_s3::error::DisplayErrorContext(e)))?;
        let upload_id = out.upload_id().unwrap_or_default().to_owned();
        let digests = req.parts.as_ref().map(|p| p.sha256.as_slice()).unwrap_or_default();
        let part_size = req.parts.as_ref().map_or(0, |p| p.part_size);
        let parts = part_layout(req.size, part_size);
        self.part_plan(key, &upload_id, part_size, &parts, digests, Vec::new(), limits)
            .await
    }

    /// A part's presigned URL, binding its size and its SHA-256 (`digest`, hex).
    async fn part_url(
        &self,
        key: &str,
        upload_id: &str,
        part: (u32, u64, u64),
        digest: &str,
        expiry: Duration,
    ) -> Result<(String, BTreeMap<String, String>), Rejection> {
        let (number, _, size) = part;
        let raw = hex::decode(digest).map_err(|e| rejection(RejectReason::InvalidPartDigests, e.to_string()))?;
        let checksum = base64::engine::general_purpose::STANDARD.encode(raw);
        let (n, len) = (number.to_string(), size.to_string());
        let headers = [
            ("content-length", len.as_str()),
            ("x-amz-checksum-sha256", checksum.as_str()),
        ];
        let url = self
            .signer
            .presign(
                "PUT",
                &self.config.storage.bucket,
                key,
                &[("partNumber", &n), ("uploadId", upload_id)],
                &headers,
                expiry,
            )
            .await
            .map_err(|e| multipart::internal("signing a part URL", e))?;
        let headers = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Ok((url, headers))
    }

    /// URLs for `parts` (as many as fit in `budget` bytes of response; the device asks again
    /// for the rest), each binding the part's digest from `digests` (indexed by part number - 1).
    #[allow(clippy::too_many_arguments)]
    async fn part_plan(
        &self,
        key: &str,
        upload_id: &str,
        part_size: u64,
        parts: &[(u32, u64, u64)],
        digests: &[String],
        received: Vec<CompletedPart>,
        (expiry, budget): (Duration, usize),
    ) -> Result<UploadPlan, Rejection> {
        let mut signed = Vec::with_capacity(parts.len());
        let mut bytes = 0usize;
        for &part in parts {
            let digest = digests.get(part.0 as usize - 1).map(String::as_str).unwrap_or_default();
            let (url, headers) = self.part_url(key, upload_id, part, digest, expiry).await?;
            bytes += url.len() + 200;
            if bytes > budget && !signed.is_empty() {
                break;
            }
            signed.push((url, headers));
        }
        let listed = &parts[..signed.len()];
        Ok(UploadPlan::Multipart {
            upload_id: upload_id.to_owned(),
            part_size,
            parts: multipart::plans(listed, signed),
            received,
        })
    }

    async fn resume(
        &self,
        device: &str,
        req: &UploadRequest,
        key: &str,
        upload_id: &str,
        limits: (Duration, usize),
    ) -> Result<UploadPlan, Rejection> {
        self.check_own_key(device, key, Some(req))?;
        validate::check_parts(req.size, req.parts.as_ref(), self.config.presign.part_size.bytes())?;
        let part_size = req.parts.as_ref().map_or(0, |p| p.part_size);
        let digests = req.parts.as_ref().map(|p| p.sha256.as_slice()).unwrap_or_default();
        let bucket = &self.config.storage.bucket;
        let stored = multipart::list_parts(&self.client, bucket, key, upload_id).await?;
        let plan = part_layout(req.size, part_size);
        let missing = multipart::missing(&plan, &stored);
        tracing::info!(device, %key, missing = missing.len(), of = plan.len(), "Multipart upload resumed.");
        let received = stored
            .iter()
            .filter(|p| !missing.iter().any(|m| m.0 == p.number))
            .map(|p| CompletedPart {
                number: p.number,
                etag: p.etag.clone(),
            })
            .collect();
        self.part_plan(key, upload_id, part_size, &missing, digests, received, limits)
            .await
    }

    /// A key this device may touch: under its own prefix and, for a request, made of the
    /// request's id and file name.
    fn check_own_key(&self, device: &str, key: &str, req: Option<&UploadRequest>) -> Result<(), Rejection> {
        let prefix = format!("{}{device}/", self.config.storage.incoming_prefix);
        let bad = |why: &str| {
            Err(rejection(
                RejectReason::InvalidResume,
                format!("key {} {why}", validate::shown(key)),
            ))
        };
        let Some(parsed) = UploadKey::parse(&self.config.storage.incoming_prefix, key) else {
            return match key.starts_with(&prefix) {
                true => bad("is not a key haul chose"),
                false => bad(&format!("is not under {prefix}")),
            };
        };
        if parsed.device != device {
            return bad(&format!("is not under {prefix}"));
        }
        if let Some(req) = req
            && (parsed.request_id != req.request_id || parsed.file_name != sanitize_file_name(&req.file_name))
        {
            return bad("belongs to another request");
        }
        Ok(())
    }

    /// Completes a multipart upload after checking it; aborts it when the check fails.
    pub async fn complete(&self, device: &str, c: UploadComplete) -> UploadResponse {
        let id = c.request_id.clone();
        match self.try_complete(device, c).await {
            Ok(r) => r,
            Err(r) => {
                tracing::warn!(device, request_id = %id, reason = ?r.reason, message = %r.message, "Completion refused.");
                rejected(&id, r)
            }
        }
    }

    async fn try_complete(&self, device: &str, c: UploadComplete) -> Result<UploadResponse, Rejection> {
        self.check_own_key(device, &c.key, None)
            .map_err(|r| rejection(RejectReason::BadCompletion, r.message))?;
        let bucket = &self.config.storage.bucket;
        let stored = match multipart::list_parts(&self.client, bucket, &c.key, &c.upload_id).await {
            Ok(stored) => stored,
            Err(r) if r.reason == RejectReason::InvalidResume => {
                // A repeated `complete` (the first answer was lost): the object is there.
                return match self.client.head_object().bucket(bucket).key(&c.key).send().await {
                    Ok(head) if head.content_length() == Some(c.size as i64) => Ok(UploadResponse::Completed {
                        request_id: c.request_id,
                        key: c.key,
                        etag: head.e_tag().unwrap_or("").trim_matches('"').to_owned(),
                    }),
                    _ => Err(rejection(RejectReason::BadCompletion, r.message)),
                };
            }
            Err(r) => return Err(r),
        };
        let max = self.config.presign.max_size.bytes();
        if let Err(why) = multipart::check_completion(&c.parts, &stored, c.size, max) {
            multipart::abort(&self.client, bucket, &c.key, &c.upload_id).await;
            return Err(rejection(
                RejectReason::BadCompletion,
                format!("{why}; the upload was aborted"),
            ));
        }
        let etag = match multipart::complete(&self.client, bucket, &c.key, &c.upload_id, &stored).await {
            Ok(etag) => etag,
            Err(r) => {
                multipart::abort(&self.client, bucket, &c.key, &c.upload_id).await;
                return Err(rejection(
                    RejectReason::BadCompletion,
                    format!("{}; the upload was aborted", r.message),
                ));
            }
        };
        tracing::info!(device, key = %c.key, size = c.size, parts = c.parts.len(), "Multipart upload completed.");
        Ok(UploadResponse::Completed {
            request_id: c.request_id,
            key: c.key,
            etag,
        })
    }
}

fn rejection(reason: RejectReason, message: String) -> Rejection {
    Rejection { reason, message }
}

fn rejected(request_id: &str, r: Rejection) -> UploadResponse {
    UploadResponse::Rejected {
        request_id: request_id.to_owned(),
        reason: r.reason,
        message: r.message,
    }
}

fn accepted(
    request_id: &str,
    key: String,
    expires_at: String,
    upload: UploadPlan,
    stages: Vec<String>,
) -> UploadResponse {
    UploadResponse::Accepted {
        request_id: request_id.to_owned(),
        key,
        expires_at,
        upload,
        stages,
    }
}

/// The answer to a payload that is not a valid message; echoes its request id if one
/// can be read.
fn malformed(payload: &[u8], err: &serde_json::Error) -> UploadResponse {
    let request_id = serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| v.get("request_id").and_then(|r| r.as_str()).map(str::to_owned))
        .unwrap_or_default();
    UploadResponse::Rejected {
        request_id,
        reason: RejectReason::MalformedRequest,
        message: format!("not a valid message: {}", validate::shown(&err.to_string())),
    }
}
