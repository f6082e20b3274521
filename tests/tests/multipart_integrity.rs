//! Multipart uploads carry the device's declared digests to the end (issue 11, item 2):
//! each part's SHA-256 is signed into its URL, so the endpoint refuses any other part
//! body; on the embedded endpoint a completion whose object does not hash to the declared
//! whole-file SHA-256 is refused before the object exists; on MiniStack (like AWS, which
//! cannot check a whole-file SHA-256 of a multipart upload) the checksum stage fails
//! permanently on it; a request without part digests is refused.

use std::sync::Arc;

use haul_device::contract::{
    CompletedPart, PartDigests, RejectReason, UploadComplete, UploadPlan, UploadRequest, UploadResponse,
};
use haul_pipeline::config::HaulConfig;
use haul_pipeline::event::ObjectEvent;
use haul_pipeline::{ErrorKind, Pipeline, Registry, RunOptions, Status};
use haul_presign::Presigner;
use haul_tests::ministack::{ACCESS_KEY, MiniStack, SECRET_KEY};
use haul_tests::stack::Cloud;
use sha2::{Digest, Sha256};

const CONFIG: &str = r#"
[presign]
multipart_threshold = "5MiB"
part_size = "5MiB"
[[routes]]
stage = "checksum"
suffixes = [".bin"]
"#;

const PART: u64 = 5 << 20;

fn body(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn digests(data: &[u8]) -> PartDigests {
    PartDigests {
        part_size: PART,
        sha256: data
            .chunks(PART as usize)
            .map(|c| hex::encode(Sha256::digest(c)))
            .collect(),
    }
}

/// A multipart request for `declared` (the file the device says it sends).
fn request(id: &str, declared_sha256: String, size: u64, parts: Option<PartDigests>) -> UploadRequest {
    UploadRequest {
        request_id: id.into(),
        file_name: "big.bin".into(),
        size,
        sha256: declared_sha256,
        content_type: None,
        resume: None,
        parts,
    }
}

struct Plan {
    key: String,
    upload_id: String,
    parts: Vec<haul_device::contract::PartPlan>,
}

async fn accepted(presigner: &Presigner, req: UploadRequest) -> Plan {
    match presigner.request("dev-a", req).await {
        UploadResponse::Accepted {
            key,
            upload: UploadPlan::Multipart { upload_id, parts, .. },
            ..
        } => Plan { key, upload_id, parts },
        other => panic!("not a multipart acceptance: {other:?}"),
    }
}

/// PUTs each part's bytes with the plan's signed headers; returns the statuses and ETags.
async fn put_parts(plan: &Plan, data: &[u8]) -> Vec<(u16, Option<String>)> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for part in &plan.parts {
        let bytes = data[part.offset as usize..(part.offset + part.size) as usize].to_vec();
        let mut req = client.put(&part.url);
        for (k, v) in &part.headers {
            if k != "content-length" {
                req = req.header(k, v);
            }
        }
        let resp = req.body(bytes).send().await.expect("endpoint answers");
        let etag = resp
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        out.push((resp.status().as_u16(), etag));
    }
    out
}

async fn complete(presigner: &Presigner, plan: &Plan, size: u64, etags: Vec<String>) -> UploadResponse {
    let parts = etags
        .into_iter()
        .enumerate()
        .map(|(i, etag)| CompletedPart {
            number: i as u32 + 1,
            etag,
        })
        .collect();
    let done = UploadComplete {
        request_id: "r".into(),
        key: plan.key.clone(),
        upload_id: plan.upload_id.clone(),
        size,
        parts,
    };
    presigner.complete("dev-a", done).await
}

#[tokio::test]
async fn every_part_url_binds_the_parts_declared_sha256() {
    let cloud = Cloud::start(CONFIG).await;
    let data = body(11 << 20, 1);
    let req = request(
        "r1",
        hex::encode(Sha256::digest(&data)),
        data.len() as u64,
        Some(digests(&data)),
    );
    let plan = accepted(&cloud.presigner, req).await;
    assert_eq!(plan.parts.len(), 3);
    for part in &plan.parts {
        assert!(part.headers.contains_key("x-amz-checksum-sha256"), "{part:?}");
    }
    let mut tampered = data.clone();
    tampered[(PART + 10) as usize] ^= 0xFF; // part 2 changes, same length
    let statuses: Vec<u16> = put_parts(&plan, &tampered).await.into_iter().map(|s| s.0).collect();
    assert_eq!(
        statuses,
        [200, 400, 200],
        "the endpoint refuses the part whose bytes differ"
    );
}

#[tokio::test]
async fn a_multipart_upload_whose_bytes_are_not_the_declared_file_never_becomes_an_object() {
    let mut cloud = Cloud::start(CONFIG).await;
    // The attack: declare a whole-file SHA-256 of zeros, send random parts with their own digests.
    let data = body(11 << 20, 7);
    let req = request("r2", "0".repeat(64), data.len() as u64, Some(digests(&data)));
    let plan = accepted(&cloud.presigner, req).await;
    let puts = put_parts(&plan, &data).await;
    assert!(puts.iter().all(|p| p.0 == 200), "{puts:?}");
    let etags = puts.into_iter().map(|p| p.1.expect("etag")).collect();
    let answer = complete(&cloud.presigner, &plan, data.len() as u64, etags).await;
    let UploadResponse::Rejected { reason, message, .. } = answer else {
        panic!("completed: {answer:?}")
    };
    assert_eq!(reason, RejectReason::BadCompletion, "{message}");
    assert!(message.contains("declared SHA-256"), "{message}");
    assert!(!cloud.object_path(&plan.key).exists(), "the object must not exist");
    assert!(cloud.notifications.try_recv().is_err(), "no stage may hear of it");
}

#[tokio::test]
async fn a_multipart_upload_of_the_declared_file_completes_with_a_composite_checksum() {
    let mut cloud = Cloud::start(CONFIG).await;
    let data = body(11 << 20, 3);
    let req = request(
        "r3",
        hex::encode(Sha256::digest(&data)),
        data.len() as u64,
        Some(digests(&data)),
    );
    let plan = accepted(&cloud.presigner, req).await;
    let etags = put_parts(&plan, &data)
        .await
        .into_iter()
        .map(|p| p.1.unwrap())
        .collect();
    let answer = complete(&cloud.presigner, &plan, data.len() as u64, etags).await;
    assert!(matches!(answer, UploadResponse::Completed { .. }), "{answer:?}");
    assert_eq!(std::fs::read(cloud.object_path(&plan.key)).unwrap(), data);
    assert!(cloud.notifications.recv().await.is_some());
}

#[tokio::test]
async fn a_multipart_request_without_usable_part_digests_is_rejected() {
    let cloud = Cloud::start(CONFIG).await;
    let data = body(11 << 20, 5);
    let sha = hex::encode(Sha256::digest(&data));
    let size = data.len() as u64;
    let short = PartDigests {
        part_size: PART,
        sha256: digests(&data).sha256[..2].to_vec(),
    };
    let tiny = PartDigests {
        part_size: 1 << 20,
        sha256: vec!["00".repeat(32); 11],
    };
    for (parts, words) in [
        (None, "needs the SHA-256"),
        (Some(short), "2 part digests"),
        (Some(tiny), "part_size"),
    ] {
        let answer = cloud
            .presigner
            .request("dev-a", request("r4", sha.clone(), size, parts))
            .await;
        let UploadResponse::Rejected { reason, message, .. } = answer else {
            panic!("accepted: {answer:?}")
        };
        assert_eq!(reason, RejectReason::InvalidPartDigests, "{message}");
        assert!(message.contains(words), "{message}");
    }
}

/// The attack of the test above, on MiniStack: the parts upload, the completion succeeds
/// (S3 can only check the parts' composite checksum), and the checksum stage refuses the
/// object permanently because its bytes are not the declared file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_ministack_a_part_must_match_its_digest_and_a_false_whole_file_digest_fails_the_checksum_stage() {
    let Some(ms) = MiniStack::start() else { return };
    let s3 = Arc::new(ms.store_with_bucket("haul-data").await);
    let config = HaulConfig::from_toml(CONFIG, "t").unwrap();
    let presigner = Presigner::for_endpoint(Arc::new(config.clone()), &ms.url, ACCESS_KEY, SECRET_KEY);
    let data = body(11 << 20, 9);
    let plan = accepted(
        &presigner,
        request("m1", "0".repeat(64), data.len() as u64, Some(digests(&data))),
    )
    .await;
    let mut tampered = data.clone();
    tampered[10] ^= 0xFF;
    let refused = put_parts(
        &Plan {
            parts: plan.parts[..1].to_vec(),
            ..plan_clone(&plan)
        },
        &tampered,
    )
    .await;
    assert_ne!(
        refused[0].0, 200,
        "MiniStack stored a part whose bytes differ from its signed digest"
    );
    let puts = put_parts(&plan, &data).await;
    assert!(puts.iter().all(|p| p.0 == 200), "{puts:?}");
    let etags = puts.into_iter().map(|p| p.1.expect("etag")).collect();
    let answer = complete(&presigner, &plan, data.len() as u64, etags).await;
    assert!(matches!(answer, UploadResponse::Completed { .. }), "{answer:?}");
    let registry = Registry::new().register(haul_stages::checksum::Checksum);
    let pipeline = Pipeline::new(config, &registry, s3).unwrap();
    let event = ObjectEvent::synthesized("haul-data", &plan.key, Some(data.len() as u64), None);
    let outcome = pipeline.process(&event, &RunOptions::default()).await;
    assert_eq!(outcome[0].status, Status::Failed(ErrorKind::Permanent), "{outcome:?}");
    let message = outcome[0].message.clone().unwrap_or_default();
    assert!(message.contains(&"0".repeat(64)), "{message}");
}

fn plan_clone(plan: &Plan) -> Plan {
    Plan {
        key: plan.key.clone(),
        upload_id: plan.upload_id.clone(),
        parts: plan.parts.clone(),
    }
}
