//! The pipeline's promises: retry vs permanent, panic isolation, idempotency, timeouts,
//! artifacts, routing — through the Lambda SQS adapter and replay, over a folder store.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use haul_aws::lambda::handle_sqs_event;
use haul_pipeline::config::HaulConfig;
use haul_pipeline::event::{ObjectEvent, notification_json};
use haul_pipeline::replay::{ReplayInput, backfill, replay};
use haul_pipeline::result::ResultRecord;
use haul_pipeline::store::{FsStore, ObjectStore, PutBody};
use haul_pipeline::{ErrorKind, Pipeline, Registry, RunOptions, Status};
use haul_tests::scripted::Scripted;
use serde_json::json;

const BUCKET: &str = "haul-data";

struct World {
    dir: tempfile::TempDir,
    store: Arc<FsStore>,
    stage: Scripted,
    pipeline: Pipeline,
}

async fn world(stage_settings: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FsStore::new(dir.path()));
    let stage = Scripted::default();
    let config = HaulConfig::from_toml(
        &format!("[[routes]]\nstage = \"scripted\"\nsuffixes = [\".bin\"]\n[stages.scripted]\n{stage_settings}\n"),
        "test",
    )
    .unwrap();
    let pipeline = Pipeline::new(config, &Registry::new().register(stage.clone()), store.clone()).unwrap();
    World {
        dir,
        store,
        stage,
        pipeline,
    }
}

impl World {
    async fn upload(&self, key: &str, body: &str) -> ObjectEvent {
        self.store
            .put(
                BUCKET,
                key,
                PutBody::Bytes(body.to_owned().into()),
                "application/octet-stream",
            )
            .await
            .unwrap();
        let mut e = ObjectEvent::synthesized(BUCKET, key, Some(body.len() as u64), None);
        e.event_name = "ObjectCreated:Put".into();
        e.sequencer = Some(format!("{:016X}", key.len() * 7919 + body.len()));
        e
    }

    async fn result(&self, key: &str) -> Option<ResultRecord> {
        let bytes = self
            .store
            .get_bytes(BUCKET, &format!("results/scripted/{key}.json"))
            .await
            .ok()?;
        Some(serde_json::from_slice(&bytes).unwrap())
    }
}

fn sqs_event(messages: &[(&str, &ObjectEvent)]) -> SqsEvent {
    let records: Vec<_> = messages
        .iter()
        .map(|(id, e)| {
            json!({ "messageId": id, "body": notification_json(&[(*e).clone()], "us-east-1"),
                    "attributes": { "ApproximateReceiveCount": "2" }, "eventSource": "aws:sqs" })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

#[tokio::test]
async fn retryable_error_is_reported_as_batch_item_failure_and_permanent_is_not() {
    let w = world("").await;
    let ok = w.upload("incoming/d/ok.bin", "fine").await;
    let retry = w.upload("incoming/d/retry.bin", "x").await;
    let corrupt = w.upload("incoming/d/corrupt.bin", "x").await;
    let event = sqs_event(&[("m-ok", &ok), ("m-retry", &retry), ("m-corrupt", &corrupt)]);
    let response = handle_sqs_event(&w.pipeline, Some("scripted"), event).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m-retry"]);
    let ok_result = w.result("incoming/d/ok.bin").await.expect("success result");
    assert_eq!(
        ok_result.output.unwrap()["attempt"],
        2,
        "attempt comes from ApproximateReceiveCount"
    );
    let error = w.result("incoming/d/corrupt.bin").await.expect("error result");
    assert_eq!(error.error.unwrap().kind, ErrorKind::Permanent);
    assert!(
        w.result("incoming/d/retry.bin").await.is_none(),
        "retryable failures write nothing"
    );
}

#[tokio::test]
async fn panicking_stage_fails_only_its_record() {
    let w = world("").await;
    let ok = w.upload("incoming/d/ok.bin", "fine").await;
    let boom = w.upload("incoming/d/panic.bin", "x").await;
    let response = handle_sqs_event(&w.pipeline, None, sqs_event(&[("a", &boom), ("b", &ok)])).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["a"], "the panic goes back to the queue (and on to the DLQ)");
    assert!(w.result("incoming/d/ok.bin").await.is_some());
    let outcome = w.pipeline.process(&boom, &RunOptions::default()).await;
    assert_eq!(outcome[0].status, Status::Failed(ErrorKind::Panic));
    assert!(outcome[0].message.as_deref().unwrap().contains("scripted panic"));
}

#[tokio::test]
async fn test_event_and_unparseable_bodies_are_handled_per_message() {
    let w = world("").await;
    let event: SqsEvent = serde_json::from_value(json!({ "Records": [
        { "messageId": "test", "body": "{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Bucket\":\"haul-data\"}" },
        { "messageId": "junk", "body": "not json at all" },
    ]}))
    .unwrap();
    let response = handle_sqs_event(&w.pipeline, None, event).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failed,
        ["junk"],
        "the TestEvent is acknowledged, the junk kept for the DLQ"
    );
    assert_eq!(w.stage.calls(), 0);
}

#[tokio::test]
async fn replaying_the_same_event_twice_runs_the_stage_once() {
    let w = world("").await;
    let event = w.upload("incoming/d/twice.bin", "payload").await;
    let file = w.dir.path().join("event.json");
    std::fs::write(&file, notification_json(&[event], "us-east-1")).unwrap();
    let inputs = [ReplayInput::Path(file)];
    let first = replay(&w.pipeline, &inputs, &RunOptions::default()).await;
    assert_eq!(first.outcomes[0].status, Status::Succeeded);
    let second = replay(&w.pipeline, &inputs, &RunOptions::default()).await;
    assert_eq!(second.outcomes[0].status, Status::Duplicate);
    assert_eq!(w.stage.calls(), 1);
    let forced = RunOptions {
        force: true,
        ..RunOptions::default()
    };
    let third = replay(&w.pipeline, &inputs, &forced).await;
    assert_eq!(third.outcomes[0].status, Status::Succeeded);
    assert_eq!(w.stage.calls(), 2);
}

#[tokio::test]
async fn a_new_upload_of_the_same_key_is_processed_again() {
    let w = world("").await;
    let first = w.upload("incoming/d/again.bin", "v1").await;
    w.pipeline.process(&first, &RunOptions::default()).await;
    let second = w.upload("incoming/d/again.bin", "v2-longer").await;
    assert_ne!(first.sequencer, second.sequencer);
    let outcome = w.pipeline.process(&second, &RunOptions::default()).await;
    assert_eq!(outcome[0].status, Status::Succeeded);
    assert_eq!(
        w.result("incoming/d/again.bin").await.unwrap().output.unwrap()["bytes"],
        9
    );
}

#[tokio::test]
async fn a_stage_over_its_timeout_fails_retryably() {
    let w = world("timeout = \"200ms\"").await;
    let slow = w.upload("incoming/d/slow.bin", "x").await;
    let outcome = w.pipeline.process(&slow, &RunOptions::default()).await;
    assert_eq!(outcome[0].status, Status::Failed(ErrorKind::Timeout));
    assert!(outcome[0].status.needs_retry());
    assert!(w.result("incoming/d/slow.bin").await.is_none());
}

#[tokio::test]
async fn artifacts_are_stored_beside_the_result() {
    let w = world("").await;
    let e = w.upload("incoming/d/artifact.bin", "x").await;
    w.pipeline.process(&e, &RunOptions::default()).await;
    let result = w.result("incoming/d/artifact.bin").await.unwrap();
    let names: Vec<_> = result.artifacts.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        names,
        [
            "results/scripted/incoming/d/artifact.bin.artifacts/note.txt",
            "results/scripted/incoming/d/artifact.bin.artifacts/table.csv",
        ]
    );
    let csv = w.store.get_bytes(BUCKET, names[1]).await.unwrap();
    assert_eq!(
        &csv[..],
        b"a,b\n1,2\n",
        "file artifacts outlive the stage's scratch folder"
    );
}

#[tokio::test]
async fn objects_no_route_matches_reach_no_stage() {
    let w = world("").await;
    let e = w.upload("incoming/d/photo.jpg", "x").await;
    let outcome = w.pipeline.process(&e, &RunOptions::default()).await;
    assert_eq!(outcome[0].status, Status::NoRoute);
    assert_eq!(w.stage.calls(), 0);
}

#[tokio::test]
async fn backfill_processes_listed_objects_once() {
    let w = world("").await;
    for i in 0..3 {
        w.upload(&format!("incoming/d/{i}.bin"), "abc").await;
    }
    w.upload("incoming/d/skip.txt", "abc").await;
    let report = backfill(&w.pipeline, BUCKET, "incoming/", &RunOptions::default())
        .await
        .unwrap();
    let ok = report.outcomes.iter().filter(|o| o.status == Status::Succeeded).count();
    assert_eq!(ok, 3);
    assert_eq!(
        report.outcomes.iter().filter(|o| o.status == Status::NoRoute).count(),
        1
    );
    let again = backfill(&w.pipeline, BUCKET, "incoming/", &RunOptions::default())
        .await
        .unwrap();
    assert_eq!(
        again.outcomes.iter().filter(|o| o.status == Status::Duplicate).count(),
        3
    );
    assert_eq!(w.stage.calls(), 3);
}

/// Issue 11, item 5: a replayed event naming a key the folder store refuses (`..`, NUL)
/// was refused but labelled retryable, so it would be delivered again and again.
#[tokio::test]
async fn a_key_the_store_refuses_is_a_permanent_failure() {
    let dir = tempfile::tempdir().unwrap();
    let config = HaulConfig::from_toml("[[routes]]\nstage = \"checksum\"\n", "t").unwrap();
    let pipeline = Pipeline::new(
        config,
        &Registry::new().register(haul_stages::checksum::Checksum),
        Arc::new(FsStore::new(dir.path())),
    )
    .unwrap();
    for key in ["incoming/../../etc/passwd", "incoming/a\0b.bin"] {
        let event = ObjectEvent::synthesized("haul-data", key, Some(1), None);
        let outcome = pipeline.process(&event, &RunOptions::default()).await;
        assert_eq!(
            outcome[0].status,
            Status::Failed(ErrorKind::Permanent),
            "{key:?}: {outcome:?}"
        );
        assert!(!outcome[0].status.needs_retry());
    }
}
