//! The local topic and queues: retries with backoff, the DLQ after max_receive_count,
//! and recovery of unprocessed uploads at start.

use std::sync::Arc;
use std::time::Duration;

use haul_local::attempts::Attempts;
use haul_local::bus::{BusOptions, LocalBus};
use haul_local::dlq::Dlq;
use haul_pipeline::config::HaulConfig;
use haul_pipeline::delivery::Backoff;
use haul_pipeline::event::{ObjectEvent, notification_json};
use haul_pipeline::store::{FsStore, ObjectStore, PutBody};
use haul_pipeline::{Pipeline, Registry};
use haul_tests::scripted::Scripted;

fn bus(dir: &std::path::Path, stage: &Scripted) -> LocalBus {
    let config = HaulConfig::from_toml(
        "[[routes]]\nstage = \"scripted\"\nsuffixes = [\".bin\"]\n[stages.scripted]\nmax_receive_count = 3\nconcurrency = 2\n",
        "test",
    )
    .unwrap();
    let store = Arc::new(FsStore::new(dir));
    let pipeline = Arc::new(Pipeline::new(config, &Registry::new().register(stage.clone()), store).unwrap());
    let options = BusOptions {
        backoff: Backoff {
            base: Duration::from_millis(10),
            max: Duration::from_millis(50),
        },
    };
    LocalBus::start(pipeline, Dlq::new(dir), Attempts::new(dir), options, None)
}

async fn upload(dir: &std::path::Path, key: &str) -> String {
    FsStore::new(dir)
        .put(
            "haul-data",
            key,
            PutBody::Bytes("payload".into()),
            "application/octet-stream",
        )
        .await
        .unwrap();
    let mut e = ObjectEvent::synthesized("haul-data", key, Some(7), None);
    e.event_name = "ObjectCreated:Put".into();
    e.sequencer = Some("0A".into());
    notification_json(&[e], "us-east-1")
}

#[tokio::test]
async fn a_retryable_failure_is_retried_then_dead_lettered_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let stage = Scripted::default();
    let bus = bus(dir.path(), &stage);
    let note = upload(dir.path(), "incoming/d/retry.bin").await;
    assert_eq!(bus.publish(&note).unwrap(), 1);
    tokio::time::timeout(Duration::from_secs(10), bus.wait_idle())
        .await
        .expect("settles");
    assert_eq!(stage.calls(), 3, "delivered max_receive_count times");
    let dlq = Dlq::new(dir.path());
    let letter = std::fs::read_to_string(dlq.path("scripted", "haul-data", "incoming/d/retry.bin")).unwrap();
    assert!(
        letter.contains("upstream throttled") && letter.contains("\"attempts\": 3"),
        "{letter}"
    );
    assert!(
        haul_pipeline::event::parse_str(&letter).is_ok(),
        "a dead letter can be replayed"
    );
}

#[tokio::test]
async fn a_restart_queues_uploads_without_results_and_skips_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let stage = Scripted::default();
    {
        let first = bus(dir.path(), &stage);
        first.publish(&upload(dir.path(), "incoming/d/done.bin").await).unwrap();
        first.wait_idle().await;
        first
            .publish(&upload(dir.path(), "incoming/d/retry.bin").await)
            .unwrap();
        first.wait_idle().await;
    }
    assert_eq!(stage.calls(), 1 + 3);
    // Uploaded while the stack was down: no notification was ever delivered.
    upload(dir.path(), "incoming/d/missed.bin").await;
    upload(dir.path(), "incoming/d/also-missed.bin").await;
    let restarted = bus(dir.path(), &stage);
    let queued = restarted.recover("haul-data", "incoming/").await.unwrap();
    assert_eq!(queued, 2, "done.bin has a result, retry.bin a dead letter");
    restarted.wait_idle().await;
    assert_eq!(stage.calls(), 4 + 2);
    let results = dir.path().join("haul-data/results/scripted/incoming/d");
    assert!(results.join("missed.bin.json").is_file() && results.join("also-missed.bin.json").is_file());
}

/// Issue 11, item 4: one notification holding the same record three times (same key,
/// ETag, sequencer) ran the stage three times, the duplicate check passing for each.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_simultaneous_deliveries_of_one_object_version_run_the_stage_once() {
    let dir = tempfile::tempdir().unwrap();
    let stage = Scripted::default();
    let bus = bus(dir.path(), &stage);
    let note = upload(dir.path(), "incoming/d/linger-dup.bin").await;
    let mut doc: serde_json::Value = serde_json::from_str(&note).unwrap();
    let record = doc["Records"][0].clone();
    doc["Records"] = serde_json::json!([record.clone(), record.clone(), record]);
    assert_eq!(bus.publish(&doc.to_string()).unwrap(), 3, "three deliveries queued");
    tokio::time::timeout(Duration::from_secs(30), bus.wait_idle())
        .await
        .expect("settles");
    assert_eq!(stage.calls(), 1, "the stage ran once per object version");
    let result = FsStore::new(dir.path())
        .get_bytes("haul-data", "results/scripted/incoming/d/linger-dup.bin.json")
        .await
        .expect("one result");
    assert!(!result.is_empty());
    let claim = dir
        .path()
        .join("haul-data/results/scripted/incoming/d/linger-dup.bin.claim");
    assert!(!claim.exists(), "the claim is released after the result");
}

/// Issue 11, item 3: an object whose processing stops the process (here: the runtime is
/// dropped while the stage runs, as `kill -9` would) used to start again at attempt 1
/// after every restart and loop forever. The count survives restarts: after
/// `max_receive_count` (3) deliveries that never finished, it goes to the dead letters.
#[test]
fn an_object_that_stops_the_process_every_time_ends_in_the_dlq_after_max_receive_count() {
    let dir = tempfile::tempdir().unwrap();
    let stage = Scripted::default();
    let key = "incoming/d/slow-poison.bin";
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    };
    for crash in 0..3 {
        let rt = runtime();
        rt.block_on(async {
            let bus = bus(dir.path(), &stage);
            match crash {
                0 => assert_eq!(bus.publish(&upload(dir.path(), key).await).unwrap(), 1),
                _ => assert_eq!(bus.recover("haul-data", "incoming/").await.unwrap(), 1),
            }
            haul_tests::wait_for("the stage to start", Duration::from_secs(10), || async {
                (stage.calls() == crash + 1).then_some(())
            })
            .await;
        });
        drop(rt); // the process dies in the middle of the stage
    }
    runtime().block_on(async {
        let bus = bus(dir.path(), &stage);
        bus.recover("haul-data", "incoming/").await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), bus.wait_idle())
            .await
            .expect("settles");
    });
    assert_eq!(stage.calls(), 3, "no fourth delivery ran the stage");
    assert!(
        Dlq::new(dir.path()).contains("scripted", "haul-data", key),
        "dead-lettered"
    );
}
