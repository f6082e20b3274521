//! The fake cloud: S3 endpoint + broker + presign responder + result publisher.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine;
use haul_device::contract::*;
use haul_local::s3::{FolderS3, S3Server, ServerOptions};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use s3s::S3;
use s3s::dto::{
    CompleteMultipartUploadInput, CompletedMultipartUpload, CompletedPart as S3Part, CreateMultipartUploadInput, ETag,
};

use super::s3::{BUCKET, Observed, S3Stats, presign, request};

/// How the fake cloud behaves.
#[derive(Clone)]
pub struct CloudConfig {
    /// Files above this size get a multipart plan.
    pub multipart_threshold: u64,
    /// Multipart part size (the endpoint, like S3, refuses parts under 5 MiB but the last).
    pub part_size: u64,
    /// At most this many part URLs per plan (the device asks again for the rest).
    pub max_parts_per_plan: usize,
    /// This many first plans are signed already expired (while `expires_at` says
    /// otherwise), so only the endpoint's 403 tells the device.
    pub expired_plans: usize,
    /// Requests for files with this extension are rejected (unsupported content type).
    pub reject_extension: Option<&'static str>,
    /// A result is published per stage when an object is stored.
    pub stages: Vec<&'static str>,
    /// Answer with URLs on this endpoint instead of the real one (a thief posing as the cloud).
    pub upload_endpoint: Option<String>,
}

impl Default for CloudConfig {
    fn default() -> Self {
        CloudConfig {
            multipart_threshold: 8 << 20,
            part_size: 5 << 20,
            max_parts_per_plan: 1000,
            expired_plans: 0,
            reject_extension: None,
            stages: vec![],
            upload_endpoint: None,
        }
    }
}

pub struct Cloud {
    pub endpoint: String,
    pub mqtt_url: String,
    pub mqtt_port: u16,
    pub root: tempfile::TempDir,
    pub stats: Arc<S3Stats>,
    _s3: S3Server,
    pub requests: Arc<Mutex<Vec<UploadRequest>>>,
    pub completions: Arc<Mutex<Vec<UploadComplete>>>,
}

struct Shared {
    cfg: CloudConfig,
    endpoint: String,
    fs: Arc<FolderS3>,
    stats: Arc<S3Stats>,
    requests: Arc<Mutex<Vec<UploadRequest>>>,
    completions: Arc<Mutex<Vec<UploadComplete>>>,
    expired_left: AtomicUsize,
    client: AsyncClient,
}

impl Cloud {
    pub async fn start(cfg: CloudConfig) -> Cloud {
        let root = tempfile::tempdir().unwrap();
        let stats = Arc::new(S3Stats::default());
        let (s3, fs) = serve_s3(root.path(), stats.clone()).await;
        let endpoint = s3.url.clone();
        let broker = haul_local::broker::EmbeddedBroker::start(([127, 0, 0, 1], 0).into(), None).unwrap();
        let mqtt_port = broker.addr.port();
        let mut opts = MqttOptions::new("haul-cloud", "127.0.0.1", mqtt_port);
        opts.set_max_packet_size(1 << 20, 1 << 20)
            .set_keep_alive(Duration::from_secs(30));
        let (client, mut eventloop) = AsyncClient::new(opts, 256);
        client
            .subscribe("haul/+/upload/request", QoS::AtLeastOnce)
            .await
            .unwrap();
        client
            .subscribe("haul/+/upload/complete", QoS::AtLeastOnce)
            .await
            .unwrap();
        let shared = Arc::new(Shared {
            expired_left: AtomicUsize::new(cfg.expired_plans),
            cfg,
            endpoint: endpoint.clone(),
            fs,
            stats: stats.clone(),
            requests: Arc::default(),
            completions: Arc::default(),
            client,
        });
        let (subscribed_tx, subscribed_rx) = tokio::sync::oneshot::channel();
        let responder = shared.clone();
        tokio::spawn(async move {
            let mut acks = 0;
            let mut subscribed_tx = Some(subscribed_tx);
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        acks += 1;
                        if acks == 2 {
                            subscribed_tx.take().map(|tx| tx.send(()));
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let shared = responder.clone();
                        tokio::spawn(async move { shared.handle(&p.topic, &p.payload).await });
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), subscribed_rx)
            .await
            .unwrap()
            .unwrap();
        tokio::spawn(publish_results(shared.clone()));
        Cloud {
            endpoint,
            mqtt_url: format!("mqtt://127.0.0.1:{mqtt_port}"),
            mqtt_port,
            root,
            stats,
            _s3: s3,
            requests: shared.requests.clone(),
            completions: shared.completions.clone(),
        }
    }

    /// The stored object's bytes.
    pub fn object(&self, key: &str) -> Vec<u8> {
        std::fs::read(self.root.path().join(BUCKET).join(key)).unwrap()
    }
}

async fn serve_s3(root: &std::path::Path, stats: Arc<S3Stats>) -> (S3Server, Arc<FolderS3>) {
    let options = ServerOptions {
        root: root.to_owned(),
        bind: "127.0.0.1:0".parse().unwrap(),
        access_key: super::s3::ACCESS_KEY.into(),
        secret_key: super::s3::SECRET_KEY.into(),
        region: super::s3::REGION.into(),
        buckets: vec![BUCKET.into()],
    };
    let mut shared = None;
    let server = S3Server::start_with(options, None, |fs| {
        let fs = Arc::new(fs);
        shared = Some(fs.clone());
        Observed { fs, stats }
    })
    .await
    .unwrap();
    (server, shared.unwrap())
}

/// Publishes an UploadResult per configured stage for every stored object.
async fn publish_results(shared: Arc<Shared>) {
    let mut done = 0;
    loop {
        let keys: Vec<String> = shared.stats.stored_objects.lock().unwrap()[done..].to_vec();
        done += keys.len();
        for key in keys {
            // incoming/{device}/{request_id}/{file}
            let parts: Vec<&str> = key.split('/').collect();
            let (device, request_id) = (parts[1], parts[2]);
            for stage in &shared.cfg.stages {
                let result = UploadResult {
                    request_id: request_id.into(),
                    key: key.clone(),
                    stage: (*stage).into(),
                    outcome: "succeeded".into(),
                    result_key: format!("results/{stage}/{key}.json"),
                    output: Some(serde_json::json!({ "stage": stage })),
                    output_truncated: false,
                    error: None,
                    summary: Some(format!("{stage} done")),
                };
                let topic = topic(device, TopicKind::Result);
                shared
                    .client
                    .publish(topic, QoS::AtLeastOnce, false, serde_json::to_vec(&result).unwrap())
                    .await
                    .unwrap();
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl Shared {
    async fn handle(&self, topic_name: &str, payload: &[u8]) {
        let Some((device, kind)) = parse_topic(topic_name) else {
            return;
        };
        let response = match kind {
            TopicKind::Request => {
                let req: UploadRequest = serde_json::from_slice(payload).unwrap();
                self.requests.lock().unwrap().push(req.clone());
                self.answer_request(device, req).await
            }
            TopicKind::Complete => {
                let done: UploadComplete = serde_json::from_slice(payload).unwrap();
                self.completions.lock().unwrap().push(done.clone());
                self.complete(done).await
            }
            _ => return,
        };
        let bytes = serde_json::to_vec(&response).unwrap();
        self.client
            .publish(topic(device, TopicKind::Response), QoS::AtLeastOnce, false, bytes)
            .await
            .unwrap();
    }

    fn signing(&self) -> (SystemTime, Duration, String) {
        let now = SystemTime::now();
        let expires_at = chrono::DateTime::<chrono::Utc>::from(now + Duration::from_secs(600)).to_rfc3339();
        let expired = self
            .expired_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if expired {
            (now - Duration::from_secs(3600), Duration::from_secs(60), expires_at)
        } else {
            (now, Duration::from_secs(600), expires_at)
        }
    }

    async fn answer_request(&self, device: &str, req: UploadRequest) -> UploadResponse {
        let request_id = req.request_id.clone();
        if let Some(ext) = self.cfg.reject_extension.filter(|e| req.file_name.ends_with(e)) {
            let message = format!("no route accepts {:?} files", ext);
            return UploadResponse::Rejected {
                request_id,
                reason: RejectReason::UnsupportedContentType,
                message,
            };
        }
        let key = format!("incoming/{device}/{}/{}", req.request_id, req.file_name);
        if req.size <= self.cfg.multipart_threshold {
            return self.single(req, key);
        }
        self.multipart(req, key).await
    }

    fn single(&self, req: UploadRequest, key: String) -> UploadResponse {
        let digest = hex::decode(&req.sha256).unwrap();
        let headers = vec![
            ("content-length".to_owned(), req.size.to_string()),
            ("content-type".to_owned(), "application/octet-stream".to_owned()),
            (
                "x-amz-checksum-sha256".to_owned(),
                base64::engine::general_purpose::STANDARD.encode(digest),
            ),
        ];
        let (signed_at, expires_in, expires_at) = self.signing();
        let url = presign(
            self.cfg.upload_endpoint.as_ref().unwrap_or(&self.endpoint),
            &format!("/{BUCKET}/{key}"),
            &headers,
            expires_in,
            signed_at,
        );
        let upload = UploadPlan::Single {
            url,
            method: "PUT".into(),
            headers: headers.into_iter().collect(),
        };
        UploadResponse::Accepted {
            request_id: req.request_id,
            key,
            expires_at,
            upload,
            stages: self.cfg.stages.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    async fn multipart(&self, req: UploadRequest, key: String) -> UploadResponse {
        let (key, upload_id) = match req.resume.clone() {
            Some(resume) => (resume.key, resume.upload_id),
            None => {
                let input = CreateMultipartUploadInput::builder()
                    .bucket(BUCKET.into())
                    .key(key.clone())
                    .build()
                    .unwrap();
                let out = self.fs.create_multipart_upload(request(input)).await.unwrap();
                (key, out.output.upload_id.unwrap())
            }
        };
        let stored = self.stats.stored_parts(&upload_id);
        let part_size = self.cfg.part_size;
        let (signed_at, expires_in, expires_at) = self.signing();
        let count = req.size.div_ceil(part_size);
        let parts = (1..=count)
            .filter(|n| !stored.contains_key(&(*n as i32)))
            .take(self.cfg.max_parts_per_plan)
            .map(|n| {
                let (offset, size) = ((n - 1) * part_size, part_size.min(req.size - (n - 1) * part_size));
                let path = format!("/{BUCKET}/{key}?partNumber={n}&uploadId={upload_id}");
                let headers = [("content-length".to_owned(), size.to_string())];
                PartPlan {
                    number: n as u32,
                    offset,
                    size,
                    url: presign(
                        self.cfg.upload_endpoint.as_ref().unwrap_or(&self.endpoint),
                        &path,
                        &headers,
                        expires_in,
                        signed_at,
                    ),
                    headers: Default::default(),
                }
            })
            .collect();
        let received = stored
            .iter()
            .map(|(n, etag)| CompletedPart {
                number: *n as u32,
                etag: etag.clone(),
            })
            .collect();
        let upload = UploadPlan::Multipart {
            upload_id,
            part_size,
            parts,
            received,
        };
        UploadResponse::Accepted {
            request_id: req.request_id,
            key,
            expires_at,
            upload,
            stages: self.cfg.stages.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    async fn complete(&self, done: UploadComplete) -> UploadResponse {
        let stored = self.stats.stored_parts(&done.upload_id);
        let expected = done.size.div_ceil(self.cfg.part_size) as usize;
        let matches = done.parts.len() == expected
            && done
                .parts
                .iter()
                .all(|p| stored.get(&(p.number as i32)) == Some(&p.etag));
        if !matches {
            let message = format!("{} parts given, {expected} expected, or ETags differ", done.parts.len());
            return UploadResponse::Rejected {
                request_id: done.request_id,
                reason: RejectReason::BadCompletion,
                message,
            };
        }
        let parts = done
            .parts
            .iter()
            .map(|p| S3Part {
                part_number: Some(p.number as i32),
                e_tag: Some(ETag::Strong(p.etag.trim_matches('"').into())),
                ..Default::default()
            })
            .collect();
        let input = CompleteMultipartUploadInput::builder()
            .bucket(BUCKET.into())
            .key(done.key.clone())
            .upload_id(done.upload_id.clone())
            .multipart_upload(Some(CompletedMultipartUpload { parts: Some(parts) }))
            .build()
            .unwrap();
        let observed = Observed {
            fs: self.fs.clone(),
            stats: self.stats.clone(),
        };
        let mut out = observed.complete_multipart_upload(request(input)).await.unwrap().output;
        if let Some(future) = out.future.take() {
            out = future.await.unwrap();
        }
        let etag = out.e_tag.as_ref().map(super::s3::etag_header).unwrap_or_default();
        UploadResponse::Completed {
            request_id: done.request_id,
            key: done.key,
            etag,
        }
    }
}
