//! Parse and route an SQS batch of 10 SNS-wrapped S3 events (issue 2's benchmark).
//! `cargo bench -p haul-pipeline --bench envelope`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use haul_pipeline::config::HaulConfig;
use haul_pipeline::event::{ObjectEvent, notification_json, parse_str};
use haul_pipeline::router::Router;
use serde_json::json;

/// A Lambda SQS batch of `n` messages, each an SNS notification wrapping one S3 record.
fn sqs_batch(n: usize) -> String {
    let records: Vec<_> = (0..n)
        .map(|i| {
            let mut event = ObjectEvent::synthesized(
                "haul-data",
                &format!("incoming/device-{i}/2026/11/26/0b1c2d3e-{i:04}/heart sound {i}.wav"),
                Some(480_044),
                Some("9b2cf535f27731c974343645a3985328".into()),
            );
            event.event_name = "ObjectCreated:Put".into();
            event.sequencer = Some(format!("0055AED6DCD90281{i:02X}"));
            let sns = json!({
                "Type": "Notification",
                "MessageId": format!("95df01b4-ee98-5cb9-9903-4c221d41eb{i:02}"),
                "TopicArn": "arn:aws:sns:eu-west-1:123456789012:haul-objects",
                "Subject": "Amazon S3 Notification",
                "Message": notification_json(&[event], "eu-west-1"),
                "Timestamp": "2026-11-26T10:15:30.456Z",
                "SignatureVersion": "1",
                "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
                "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem",
                "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
            });
            json!({
                "messageId": format!("059f36b4-87a3-44ab-83d2-6619752751{i:02}"),
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
                "body": sns.to_string(),
                "attributes": { "ApproximateReceiveCount": "1", "SentTimestamp": "1763633730456" },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:haul-heart-sound",
                "awsRegion": "eu-west-1",
            })
        })
        .collect();
    json!({ "Records": records }).to_string()
}

fn bench(c: &mut Criterion) {
    let config = HaulConfig::from_toml(
        r#"
        [[routes]]
        stage = "checksum"
        [[routes]]
        stage = "heart-sound"
        suffixes = [".wav", ".flac", ".mp3", ".ogg"]
        [[routes]]
        stage = "plate"
        suffixes = [".jpg", ".jpeg", ".png", ".webp"]
        "#,
        "bench",
    )
    .expect("bench config");
    let router = Router::new(&config);
    let batch = sqs_batch(10);
    let mut group = c.benchmark_group("envelope");
    group.throughput(Throughput::Elements(10));
    group.bench_function("parse_and_route_sqs_batch_of_10_sns_wrapped", |b| {
        b.iter(|| {
            let parsed = parse_str(std::hint::black_box(&batch)).expect("parses");
            let mut routed = 0;
            for event in &parsed.events {
                routed += router.stages_for(&event.key, event.size, None).len();
            }
            assert_eq!(routed, 20);
            routed
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
