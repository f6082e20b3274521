//! The embedded S3 endpoint of `haul-local` (SigV4, checksums verified), wrapped to count
//! and observe PUTs and to inject faults (a part that is stored but never answered), and a
//! presigner built on aws-sigv4 that binds headers (content-length, checksum) into the
//! signature at a time the test chooses. The test cloud signs itself rather than through
//! `haul-presign` because it must produce what the real presign function never does: URLs
//! signed in the past (already expired) and plans cut to a few parts.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use haul_local::s3::FolderS3;
use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};

pub const ACCESS_KEY: &str = "haul-test-access";
pub const SECRET_KEY: &str = "haul-test-secret-key-0123456789";
pub const BUCKET: &str = "haul";
pub const REGION: &str = "us-east-1";

/// What the endpoint saw.
#[derive(Default)]
pub struct S3Stats {
    /// Every UploadPart call that passed authentication: (upload id, part number).
    pub part_puts: Mutex<Vec<(String, i32)>>,
    /// Parts stored per upload id: number -> quoted ETag (what ListParts would return).
    pub stored: Mutex<HashMap<String, BTreeMap<i32, String>>>,
    /// PutObject calls that passed authentication.
    pub put_objects: AtomicUsize,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    /// When > 0, UploadPart calls after this many store the part but never answer
    /// (the device sees a hung request, S3 has the part).
    pub hold_after: AtomicUsize,
    /// When set, each UploadPart waits (up to 2 s) for a second one to be in flight.
    pub want_overlap: AtomicBool,
    /// Keys of stored objects, for the result publisher.
    pub stored_objects: Mutex<Vec<String>>,
}

impl S3Stats {
    pub fn part_numbers_put(&self) -> Vec<i32> {
        self.part_puts.lock().unwrap().iter().map(|(_, n)| *n).collect()
    }
    pub fn stored_parts(&self, upload_id: &str) -> BTreeMap<i32, String> {
        self.stored.lock().unwrap().get(upload_id).cloned().unwrap_or_default()
    }
}

/// The embedded endpoint with counters.
pub struct Observed {
    pub fs: Arc<FolderS3>,
    pub stats: Arc<S3Stats>,
}

#[async_trait::async_trait]
impl S3 for Observed {
    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        self.stats.put_objects.fetch_add(1, Ordering::SeqCst);
        let key = req.input.key.clone();
        let out = self.fs.put_object(req).await?;
        self.stats.stored_objects.lock().unwrap().push(key);
        Ok(out)
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        let (upload_id, number) = (req.input.upload_id.clone(), req.input.part_number);
        let call = {
            let mut puts = self.stats.part_puts.lock().unwrap();
            puts.push((upload_id.clone(), number));
            puts.len()
        };
        let now = self.stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if self.stats.want_overlap.load(Ordering::SeqCst) {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
            while self.stats.max_in_flight.load(Ordering::SeqCst) < 2 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let out = self.fs.upload_part(req).await;
        self.stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        let out = out?;
        let etag = out.output.e_tag.as_ref().map(etag_header).unwrap_or_default();
        self.stats
            .stored
            .lock()
            .unwrap()
            .entry(upload_id)
            .or_default()
            .insert(number, etag);
        let hold = self.stats.hold_after.load(Ordering::SeqCst);
        if hold > 0 && call > hold {
            std::future::pending::<()>().await;
        }
        Ok(out)
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.fs.create_multipart_upload(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let key = req.input.key.clone();
        let out = self.fs.complete_multipart_upload(req).await?;
        self.stats.stored_objects.lock().unwrap().push(key);
        Ok(out)
    }
}

/// `"hex"` as sent in the ETag header.
pub fn etag_header(etag: &ETag) -> String {
    match etag {
        ETag::Strong(v) => format!("\"{v}\""),
        ETag::Weak(v) => format!("W/\"{v}\""),
    }
}

/// An S3Request as the endpoint would build it for the test's credentials.
pub fn request<T>(input: T) -> S3Request<T> {
    S3Request {
        input,
        method: http::Method::POST,
        uri: http::Uri::from_static("/"),
        headers: http::HeaderMap::new(),
        extensions: http::Extensions::new(),
        credentials: Some(s3s::auth::Credentials {
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
        }),
        region: None,
        service: None,
        trailing_headers: None,
    }
}

/// A presigned PUT URL for `path_and_query` (e.g. `/haul/key?partNumber=1&uploadId=u`),
/// signing `headers` (host is always signed).
pub fn presign(
    endpoint: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    expires_in: Duration,
    signed_at: SystemTime,
) -> String {
    let url = format!("{endpoint}{path_and_query}");
    let identity: Identity = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires_in);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("s3")
        .time(signed_at)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "PUT",
        &url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::UnsignedPayload,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = http::Request::builder().method("PUT").uri(&url).body(()).unwrap();
    instructions.apply_to_request_http1x(&mut req);
    req.uri().to_string()
}
