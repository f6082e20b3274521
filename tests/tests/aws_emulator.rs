#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The AWS path on an emulator (MiniStack): resources created as the SAM template does
//! (`haul deploy local`), objects uploaded to S3, S3 -> SNS -> SQS notifications with the
//! routes' filter policies, one `haul worker` per stage.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use haul_aws::worker::{WorkerOptions, WorkerStats, run};
use haul_aws::{S3Store, SnsResultSink};
use haul_deploy::local::{LocalOptions, deploy_local_with};
use haul_pipeline::Pipeline;
use haul_pipeline::config::HaulConfig;
use haul_stages::samples as payloads;
use haul_tests::ministack::MiniStack;
use haul_tests::scripted::Scripted;

const CONFIG: &str = r#"
[[routes]]
stage = "checksum"
suffixes = [".wav", ".rec", ".bin"]

[[routes]]
stage = "heart-sound"
suffixes = [".wav"]

[[routes]]
stage = "records"
suffixes = [".rec"]

[[routes]]
stage = "scripted"
suffixes = [".poison"]

[stages.scripted]
max_receive_count = 2

[stages.records]
magic = "HREC"
count_field = "count"
crc32 = "record"
header = [{ name = "version", type = "u16" }, { name = "serial", type = "bytes", len = 8 }, { name = "count", type = "u32" }]
fields = [{ name = "t_ms", type = "u32" }, { name = "temperature", type = "i16", scale = 0.01 }, { name = "humidity", type = "u16", scale = 0.01 }, { name = "pressure", type = "f32" }]
"#;

const PREFIX: &str = "incoming/dev-9/2026/11/26/r1/";

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uploads_reach_their_stages_once_poison_ends_in_the_dlq_and_test_events_are_acknowledged() {
    let Some(ms) = MiniStack::start() else { return };
    let sdk = ms.sdk_config().await;
    let config = HaulConfig::from_toml(CONFIG, "test").unwrap();
    let deployment = deploy_local_with(&config, &LocalOptions::new(&ms.url), &sdk)
        .await
        .expect("resources");
    let s3 = S3Store::from_config(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);

    // Results topic -> a queue, to count result events.
    let sns = aws_sdk_sns::Client::new(&sdk);
    let results_queue = sqs
        .create_queue()
        .queue_name("results-watch")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let results_arn = sqs
        .get_queue_attributes()
        .queue_url(&results_queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    sns.subscribe()
        .topic_arn(&deployment.results_topic_arn)
        .protocol("sqs")
        .endpoint(&results_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();

    // Workers, one per stage, with the results topic as a sink.
    let scripted = Scripted::default();
    let registry = haul_stages::registry().register(scripted.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    for (stage, queues) in &deployment.stages {
        let store = Arc::new(S3Store::from_config(&sdk));
        let sink = Arc::new(SnsResultSink::new(sns.clone(), &deployment.results_topic_arn));
        let pipeline = Arc::new(Pipeline::new(config.clone(), &registry, store).unwrap().with_sink(sink));
        let options = WorkerOptions {
            stage: Some(stage.clone()),
            visibility: Duration::from_secs(20),
            wait: Duration::from_secs(1),
            retry_backoff: Duration::ZERO,
            ..WorkerOptions::new(&queues.queue_url)
        };
        let mut stop = stop_rx.clone();
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        let stats = Arc::new(WorkerStats::default());
        workers.push(tokio::spawn(run(pipeline, sqs.clone(), options, stats, shutdown)));
    }

    // Uploads: every routed type, one nobody routes, one poison.
    let uploads: Vec<(String, Vec<u8>)> = vec![
        (format!("{PREFIX}heart.wav"), payloads::heart_sound(75.0, 8.0)),
        (format!("{PREFIX}sensor log.rec"), payloads::sensor_records(50)),
        (format!("{PREFIX}blob+1.bin"), vec![1u8; 4096]),
        (format!("{PREFIX}notes.txt"), b"nobody routes text".to_vec()),
        (format!("{PREFIX}panic.poison"), b"boom".to_vec()),
    ];
    for (key, body) in &uploads {
        s3.client()
            .put_object()
            .bucket(&deployment.bucket)
            .key(key)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
    }
    // An s3:TestEvent straight into a stage queue: acknowledged, never an error.
    let checksum_queue = &deployment.stages["checksum"].queue_url;
    sqs.send_message()
        .queue_url(checksum_queue)
        .message_body(
            r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-26T10:00:00Z","Bucket":"haul-data"}"#,
        )
        .send()
        .await
        .unwrap();

    let expected = [
        ("checksum", "heart.wav"),
        ("heart-sound", "heart.wav"),
        ("checksum", "sensor log.rec"),
        ("records", "sensor log.rec"),
        ("checksum", "blob+1.bin"),
    ];
    let bucket = deployment.bucket.clone();
    wait_until("every result", || {
        let (s3, bucket) = (s3.client().clone(), bucket.clone());
        async move {
            for (stage, name) in expected {
                let key = format!("results/{stage}/{PREFIX}{name}.json");
                if s3.head_object().bucket(&bucket).key(&key).send().await.is_err() {
                    return false;
                }
            }
            true
        }
    })
    .await;
    let dlq = deployment.stages["scripted"].dlq_url.clone();
    wait_until("the poison object in the DLQ", || {
        let (sqs, dlq) = (sqs.clone(), dlq.clone());
        async move {
            let out = sqs
                .receive_message()
                .queue_url(&dlq)
                .visibility_timeout(0)
                .send()
                .await
                .unwrap();
            out.messages
                .is_some_and(|m| m.iter().any(|m| m.body().unwrap_or("").contains("panic.poison")))
        }
    })
    .await;
    assert_eq!(scripted.calls(), 2, "the poison was delivered max_receive_count times");

    // Every result event once; nothing for the unrouted object.
    let mut events: BTreeMap<(String, String), usize> = BTreeMap::new();
    for _ in 0..10 {
        let out = sqs
            .receive_message()
            .queue_url(&results_queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in out.messages.unwrap_or_default() {
            let doc: serde_json::Value = serde_json::from_str(m.body().unwrap()).unwrap();
            let key = doc["source"]["key"].as_str().unwrap().to_owned();
            *events
                .entry((doc["stage"]["name"].as_str().unwrap().to_owned(), key))
                .or_default() += 1;
            sqs.delete_message()
                .queue_url(&results_queue)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    let _ = stop_tx.send(true);
    for w in workers {
        w.await.unwrap().unwrap();
    }
    for (stage, name) in expected {
        assert_eq!(
            events.get(&(stage.to_owned(), format!("{PREFIX}{name}"))),
            Some(&1),
            "{stage} {name}: {events:?}"
        );
    }
    assert_eq!(events.len(), expected.len(), "no other result events: {events:?}");
    let text = s3
        .client()
        .list_objects_v2()
        .bucket(&deployment.bucket)
        .prefix("results/")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = text.contents().iter().filter_map(|o| o.key()).collect();
    assert!(
        !keys.iter().any(|k| k.contains("notes.txt")),
        "the unrouted object reached no stage: {keys:?}"
    );
    let checksum_dlq = sqs
        .receive_message()
        .queue_url(&deployment.stages["checksum"].dlq_url)
        .send()
        .await
        .unwrap();
    assert!(
        checksum_dlq.messages.unwrap_or_default().is_empty(),
        "the TestEvent was acknowledged, not dead-lettered"
    );
}

const WORKER_CONFIG: &str = r#"
[[routes]]
stage = "scripted"
suffixes = [".bin"]

[stages.scripted]
max_receive_count = 3
"#;

/// `haul worker` on its own: a slow object keeps its message invisible through heartbeats
/// (processed once, though it takes longer than the visibility timeout), and a permanent
/// failure is written as an error result and deleted, never retried nor dead-lettered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_worker_extends_visibility_while_it_works_and_deletes_permanent_failures() {
    let Some(ms) = MiniStack::start() else { return };
    let sdk = ms.sdk_config().await;
    let config = HaulConfig::from_toml(WORKER_CONFIG, "test").unwrap();
    let deployment = deploy_local_with(&config, &LocalOptions::new(&ms.url), &sdk)
        .await
        .expect("resources");
    let s3 = S3Store::from_config(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let scripted = Scripted::default();
    let registry = haul_stages::registry().register(scripted.clone());
    let queues = &deployment.stages["scripted"];
    let pipeline = Arc::new(Pipeline::new(config.clone(), &registry, Arc::new(S3Store::from_config(&sdk))).unwrap());
    // Two seconds of visibility against five seconds of work: without heartbeats the
    // message would be received again while the first delivery is still running.
    let options = WorkerOptions {
        stage: Some("scripted".into()),
        visibility: Duration::from_secs(2),
        wait: Duration::from_secs(1),
        retry_backoff: Duration::ZERO,
        ..WorkerOptions::new(&queues.queue_url)
    };
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let shutdown = async move {
        let _ = stop_rx.wait_for(|s| *s).await;
    };
    let stats = Arc::new(WorkerStats::default());
    let worker = tokio::spawn(run(pipeline, sqs.clone(), options, stats.clone(), shutdown));

    for name in ["linger.bin", "corrupt.bin"] {
        s3.client()
            .put_object()
            .bucket(&deployment.bucket)
            .key(format!("{PREFIX}{name}"))
            .body(ByteStream::from_static(b"payload"))
            .send()
            .await
            .unwrap();
    }
    let bucket = deployment.bucket.clone();
    let result = |name: &str| format!("results/scripted/{PREFIX}{name}.json");
    wait_until("both results", || {
        let (s3, bucket) = (s3.client().clone(), bucket.clone());
        let keys = [result("linger.bin"), result("corrupt.bin")];
        async move {
            for key in keys {
                if s3.head_object().bucket(&bucket).key(&key).send().await.is_err() {
                    return false;
                }
            }
            true
        }
    })
    .await;
    // Longer than a visibility timeout more: a message not deleted would be back by now.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let _ = stop_tx.send(true);
    worker.await.unwrap().unwrap();

    assert_eq!(scripted.calls(), 2, "each object processed once");
    let heartbeats = stats.heartbeats.load(Relaxed);
    assert!(
        heartbeats >= 2,
        "visibility extended while the slow object ran: {heartbeats}"
    );
    // Every message received was deleted (the bucket's s3:TestEvent too), none retried.
    let (received, deleted) = (stats.received.load(Relaxed), stats.deleted.load(Relaxed));
    assert!(
        received >= 2 && deleted == received,
        "received {received}, deleted {deleted}"
    );
    assert_eq!(stats.retried.load(Relaxed), 0, "nothing retried");
    let read = |key: String| {
        let (s3, bucket) = (s3.client().clone(), bucket.clone());
        async move {
            let out = s3.get_object().bucket(&bucket).key(key).send().await.unwrap();
            let bytes = out.body.collect().await.unwrap().into_bytes();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        }
    };
    let failed = read(result("corrupt.bin")).await;
    assert_eq!(failed["outcome"], "failed", "{failed}");
    assert!(
        failed["error"]["message"].as_str().unwrap().contains("is corrupt"),
        "{failed}"
    );
    assert_eq!(read(result("linger.bin")).await["outcome"], "succeeded");
    for url in [&queues.queue_url, &queues.dlq_url] {
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .unwrap();
        let count = |name: aws_sdk_sqs::types::QueueAttributeName| {
            attrs
                .attributes()
                .and_then(|a| a.get(&name))
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(
            count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages),
            "0",
            "{url} is empty"
        );
        assert_eq!(
            count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            "0",
            "{url} has nothing in flight"
        );
    }
}

/// Issue 11, item 4, across processes: the same S3 notification delivered three times to a
/// queue that two workers poll at once runs the stage once; the claim is the S3 object
/// `results/scripted/{key}.claim`, created with `If-None-Match: *`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_given_the_same_object_three_times_run_the_stage_once() {
    let Some(ms) = MiniStack::start() else { return };
    let sdk = ms.sdk_config().await;
    let config = HaulConfig::from_toml(WORKER_CONFIG, "test").unwrap();
    let deployment = deploy_local_with(&config, &LocalOptions::new(&ms.url), &sdk)
        .await
        .expect("resources");
    let s3 = S3Store::from_config(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let scripted = Scripted::default();
    let registry = haul_stages::registry().register(scripted.clone());
    let queue = deployment.stages["scripted"].queue_url.clone();
    let key = format!("{PREFIX}linger-twice.bin");
    s3.client()
        .put_object()
        .bucket(&deployment.bucket)
        .key(&key)
        .body(ByteStream::from_static(b"payload"))
        .send()
        .await
        .unwrap();
    // Two more copies of S3's own notification, as at-least-once delivery may bring them.
    let original = loop {
        let out = sqs
            .receive_message()
            .queue_url(&queue)
            .wait_time_seconds(2)
            .send()
            .await
            .unwrap();
        let mut found = None;
        for m in out.messages.unwrap_or_default() {
            // Every message looked at (the bucket's s3:TestEvent too) is made visible again.
            sqs.change_message_visibility()
                .queue_url(&queue)
                .receipt_handle(m.receipt_handle().unwrap())
                .visibility_timeout(0)
                .send()
                .await
                .unwrap();
            if m.body().is_some_and(|b| b.contains("linger-twice")) {
                found = Some(m);
            }
        }
        if let Some(m) = found {
            break m;
        }
    };
    for _ in 0..2 {
        let body = original.body().unwrap();
        sqs.send_message()
            .queue_url(&queue)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    for _ in 0..2 {
        let pipeline =
            Arc::new(Pipeline::new(config.clone(), &registry, Arc::new(S3Store::from_config(&sdk))).unwrap());
        let options = WorkerOptions {
            stage: Some("scripted".into()),
            wait: Duration::from_secs(1),
            concurrency: 2,
            ..WorkerOptions::new(&queue)
        };
        let mut stop = stop_rx.clone();
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        let stats = Arc::new(WorkerStats::default());
        workers.push(tokio::spawn(run(pipeline, sqs.clone(), options, stats, shutdown)));
    }
    let result = format!("results/scripted/{key}.json");
    let bucket = deployment.bucket.clone();
    wait_until("the result", || {
        let (s3, bucket, result) = (s3.client().clone(), bucket.clone(), result.clone());
        async move { s3.head_object().bucket(&bucket).key(&result).send().await.is_ok() }
    })
    .await;
    wait_until("every copy handled", || {
        let (sqs, queue) = (sqs.clone(), queue.clone());
        async move {
            let attrs = sqs
                .get_queue_attributes()
                .queue_url(&queue)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
                .send()
                .await
                .unwrap();
            let n = |name| {
                attrs
                    .attributes()
                    .and_then(|a| a.get(&name))
                    .cloned()
                    .unwrap_or_default()
            };
            n(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages) == "0"
                && n(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible) == "0"
        }
    })
    .await;
    let _ = stop_tx.send(true);
    for w in workers {
        w.await.unwrap().unwrap();
    }
    assert_eq!(
        scripted.calls(),
        1,
        "the stage ran once for three deliveries to two workers"
    );
}
