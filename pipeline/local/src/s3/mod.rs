//! The embedded S3-compatible endpoint: s3s over a folder.
//!
//! - Authentication is s3s's SigV4 (header and presigned query), against configured
//!   credentials; presigned URLs expire; a presigned write carrying an unsigned `x-amz-*`
//!   header is refused, as S3 does.
//! - A body is received into a temporary file, its MD5 and declared checksums
//!   (`x-amz-checksum-*`, `Content-MD5`, also as aws-chunked trailers) verified, and only
//!   then moved into place: a wrong body never replaces an object.
//! - Objects are files at `{root}/{bucket}/{key}` (the layout of [`FsStore`]),
//!   metadata sidecars in `{root}/.haul/meta`, unfinished multipart uploads in
//!   `{root}/.haul/uploads`.
//! - After PutObject and CompleteMultipartUpload it sends the S3 notification JSON
//!   (eventVersion 2.1, URL-encoded key, size, eTag, sequencer) to its [`Notifier`].

mod body;
mod multipart;
mod objects;
mod server;
mod signed_headers;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};

pub use objects::sweep_temporaries;
pub use server::{S3Server, ServerOptions};

use haul_pipeline::event::{ObjectEvent, notification_json};
use haul_pipeline::store::FsStore;

/// Where "object created" notifications go: the S3 notification JSON, as S3 sends it.
pub type Notifier = tokio::sync::mpsc::UnboundedSender<String>;

/// Request counters, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    /// PutObject requests that stored an object.
    pub puts: AtomicU64,
    /// UploadPart requests that stored a part.
    pub part_puts: AtomicU64,
    /// Requests refused with an error (bad checksum, missing object, ...), after
    /// authentication passed.
    pub errors: AtomicU64,
    /// Bytes received so far per key whose upload is in progress (the console's progress
    /// bars); a key leaves when its PUT ends or its multipart upload completes or aborts.
    receiving: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Stats {
    /// Counts `n` more bytes received for `key`.
    pub(crate) fn received(&self, key: &str, n: u64) {
        let mut map = self.receiving.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(key.to_owned()).or_default() += n;
    }

    /// `key` is no longer being received.
    pub(crate) fn done_receiving(&self, key: &str) {
        self.receiving.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }

    /// The keys being received and their bytes so far.
    pub fn receiving(&self) -> Vec<(String, u64)> {
        let map = self.receiving.lock().unwrap_or_else(|e| e.into_inner());
        map.iter().map(|(k, n)| (k.clone(), *n)).collect()
    }
}

/// The S3 implementation over a folder.
pub struct FolderS3 {
    root: PathBuf,
    store: FsStore,
    region: String,
    notifier: Option<Notifier>,
    stats: Arc<Stats>,
    last_sequencer: AtomicU64,
    /// Serializes conditional writes (If-None-Match / If-Match).
    conditional_writes: tokio::sync::Mutex<()>,
}

impl FolderS3 {
    /// An endpoint over `root`, sending notifications to `notifier`.
    pub fn new(root: &Path, region: &str, notifier: Option<Notifier>) -> Self {
        Self {
            root: root.to_owned(),
            store: FsStore::new(root),
            region: region.to_owned(),
            notifier,
            stats: Arc::default(),
            last_sequencer: AtomicU64::new(0),
            conditional_writes: tokio::sync::Mutex::new(()),
        }
    }

    /// The request counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    fn object_path(&self, bucket: &str, key: &str) -> S3Result<PathBuf> {
        self.store
            .path_of(bucket, key)
            .map_err(|e| s3_error!(InvalidArgument, "{e}"))
    }

    fn bucket_path(&self, bucket: &str) -> S3Result<PathBuf> {
        let probe = self.object_path(bucket, "x")?;
        Ok(probe.parent().map(Path::to_owned).unwrap_or_default())
    }

    async fn require_bucket(&self, bucket: &str) -> S3Result<PathBuf> {
        let path = self.bucket_path(bucket)?;
        if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
            Ok(path)
        } else {
            Err(s3_error!(NoSuchBucket, "bucket {bucket} does not exist"))
        }
    }

    /// A per-key sequencer like S3's: hexadecimal, increasing for later events.
    fn next_sequencer(&self) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut last = self.last_sequencer.load(Ordering::SeqCst);
        loop {
            let next = now.max(last + 1);
            match self
                .last_sequencer
                .compare_exchange(last, next, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return format!("{next:016X}"),
                Err(current) => last = current,
            }
        }
    }

    fn notify(&self, bucket: &str, key: &str, size: u64, etag: &str, event_name: &str) {
        let Some(notifier) = &self.notifier else { return };
        let mut event = ObjectEvent::synthesized(bucket, key, Some(size), Some(etag.to_owned()));
        event.event_name = event_name.to_owned();
        event.sequencer = Some(self.next_sequencer());
        event.event_time = Some(chrono::Utc::now());
        if notifier.send(notification_json(&[event], &self.region)).is_err() {
            tracing::warn!(bucket, key, "Notification dropped: nobody listens.");
        }
    }

    fn count_error<T>(&self, result: S3Result<T>) -> S3Result<T> {
        if result.is_err() {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

#[async_trait::async_trait]
impl S3 for FolderS3 {
    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        self.count_error(objects::create_bucket(self, req.input).await)
    }

    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        self.require_bucket(&req.input.bucket).await?;
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn list_buckets(&self, _req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
        objects::list_buckets(self).await
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        self.count_error(signed_headers::require_signed_amz_headers(&req.uri, &req.headers))?;
        let trailers = req.trailing_headers;
        self.count_error(objects::put_object(self, req.input, trailers).await)
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        self.count_error(objects::get_object(self, req.input).await)
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        self.count_error(objects::head_object(self, req.input).await)
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.count_error(objects::delete_object(self, req.input).await)
    }

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.count_error(objects::list_objects_v2(self, req.input).await)
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.count_error(multipart::create(self, req.input).await)
    }

    async fn upload_part(&self, req: S3Request<UploadPartInput>) -> S3Result<S3Response<UploadPartOutput>> {
        self.count_error(signed_headers::require_signed_amz_headers(&req.uri, &req.headers))?;
        let trailers = req.trailing_headers;
        self.count_error(multipart::upload_part(self, req.input, trailers).await)
    }

    async fn list_parts(&self, req: S3Request<ListPartsInput>) -> S3Result<S3Response<ListPartsOutput>> {
        self.count_error(multipart::list_parts(self, req.input).await)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.count_error(signed_headers::require_signed_amz_headers(&req.uri, &req.headers))?;
        self.count_error(multipart::complete(self, req.input).await)
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.count_error(multipart::abort(self, req.input).await)
    }
}
