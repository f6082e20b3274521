//! The per-device request limit across a fleet of presign processes (Lambda containers):
//! in memory each process grants the whole budget again; with the shared counters in the
//! bucket (what the Lambda function uses) the fleet grants it once. Checked against the
//! embedded S3 endpoint and against MiniStack.

use std::sync::Arc;

use haul_contract::{RejectReason, UploadRequest, UploadResponse};
use haul_pipeline::config::HaulConfig;
use haul_presign::Presigner;
use haul_tests::stack::Cloud;

/// Five requests per device per minute.
const CONFIG: &str = "[presign]\nrate_limit = 5\nrate_window = \"1m\"\n\n[[routes]]\nstage = \"checksum\"\n";
/// Presign processes, and requests each gets from the one device at the same time.
const CONTAINERS: usize = 4;
const REQUESTS_EACH: usize = 10;

fn request(n: usize) -> UploadRequest {
    UploadRequest {
        request_id: format!("burst-{n}"),
        file_name: "reading.bin".into(),
        size: 10,
        sha256: "0".repeat(64),
        content_type: None,
        resume: None,
        parts: None,
    }
}

/// Sends every container its requests for `dev-busy` at once; (accepted, rate limited).
async fn burst(containers: Vec<Presigner>) -> (usize, usize) {
    let containers: Vec<Arc<Presigner>> = containers.into_iter().map(Arc::new).collect();
    let mut sent = Vec::new();
    for (c, presigner) in containers.iter().enumerate() {
        for i in 0..REQUESTS_EACH {
            let presigner = presigner.clone();
            sent.push(tokio::spawn(async move {
                presigner.request("dev-busy", request(c * REQUESTS_EACH + i)).await
            }));
        }
    }
    let (mut accepted, mut limited) = (0, 0);
    for response in sent {
        match response.await.unwrap() {
            UploadResponse::Accepted { .. } => accepted += 1,
            UploadResponse::Rejected {
                reason: RejectReason::RateLimited,
                ..
            } => limited += 1,
            other => panic!("neither accepted nor rate limited: {other:?}"),
        }
    }
    (accepted, limited)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_memory_each_container_grants_the_whole_budget_again() {
    let cloud = Cloud::start(CONFIG).await;
    let containers = (0..CONTAINERS)
        .map(|_| {
            Presigner::for_endpoint(
                cloud.config.clone(),
                &cloud.s3.url,
                "haul-dev",
                haul_tests::stack::SECRET_KEY,
            )
        })
        .collect();
    assert_eq!(
        burst(containers).await,
        (5 * CONTAINERS, (REQUESTS_EACH - 5) * CONTAINERS)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_shared_counters_the_fleet_grants_the_budget_once() {
    let cloud = Cloud::start(CONFIG).await;
    let mut containers = Vec::new();
    for _ in 0..CONTAINERS {
        let presigner = Presigner::for_endpoint(
            cloud.config.clone(),
            &cloud.s3.url,
            "haul-dev",
            haul_tests::stack::SECRET_KEY,
        );
        containers.push(presigner.with_shared_limit());
    }
    assert_eq!(burst(containers).await, (5, CONTAINERS * REQUESTS_EACH - 5));
    let counters = cloud.dir.path().join("haul-data/rate-limit/dev-busy");
    let files: Vec<_> = std::fs::read_dir(&counters).unwrap().collect();
    assert_eq!(files.len(), 1, "one counter for the current window in {counters:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ministack_serves_the_shared_counters_the_same_way() {
    let Some(ms) = haul_tests::ministack::MiniStack::start() else {
        return;
    };
    ms.store_with_bucket("haul-data").await;
    let config = Arc::new(HaulConfig::from_toml(CONFIG, "t").unwrap());
    let (access, secret) = (haul_tests::ministack::ACCESS_KEY, haul_tests::ministack::SECRET_KEY);
    let containers = (0..CONTAINERS)
        .map(|_| Presigner::for_endpoint(config.clone(), &ms.url, access, secret).with_shared_limit())
        .collect();
    assert_eq!(burst(containers).await, (5, CONTAINERS * REQUESTS_EACH - 5));
}
