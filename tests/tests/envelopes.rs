//! Every event fixture parses to the expected object events (tests/fixtures/README.md).

use haul_pipeline::event::{EnvelopeError, Origin, Parsed, SkipReason, parse};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(haul_tests::fixtures().join("events").join(name)).expect("fixture exists")
}

fn parsed(name: &str) -> Parsed {
    parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn keys(p: &Parsed) -> Vec<&str> {
    p.events.iter().map(|e| e.key.as_str()).collect()
}

#[test]
fn encoded_keys_with_spaces_plus_and_non_ascii_are_decoded() {
    let p = parsed("s3-keys-encoded.json");
    assert_eq!(
        keys(&p),
        [
            "incoming/dev-1/2026/11/20/r1/lung sound (left).wav",
            "incoming/dev-1/2026/11/20/r2/c++ notes+v2.jpg",
            "incoming/dév-2/2026/11/20/r3/心音 café.flac",
        ]
    );
    let first = &p.events[0];
    assert_eq!(first.bucket, "haul-data");
    assert_eq!(first.size, Some(480044));
    assert_eq!(first.etag.as_deref(), Some("9b2cf535f27731c974343645a3985328"));
    assert_eq!(first.sequencer.as_deref(), Some("0055AED6DCD90281E5"));
    assert_eq!(first.event_name, "ObjectCreated:Put");
    assert_eq!(first.origin, Origin::S3Notification);
    assert!(p.skipped.is_empty());
}

#[test]
fn event_version_2_1_multipart_upload_strips_etag_quotes() {
    let p = parsed("s3-event-version-2.1.json");
    assert_eq!(keys(&p), ["incoming/dev-1/2026/11/20/r4/big file.mf4"]);
    assert_eq!(p.events[0].etag.as_deref(), Some("3858f62230ac3c915f300c664312c11f-12"));
    assert_eq!(p.events[0].event_name, "ObjectCreated:CompleteMultipartUpload");
    assert_eq!(p.events[0].size, Some(734_003_200));
}

#[test]
fn event_version_2_6_with_unknown_fields_is_accepted() {
    let p = parsed("s3-event-version-2.6.json");
    assert_eq!(keys(&p), ["incoming/dev-9/2026/11/20/r9/plate.jpg"]);
    assert_eq!(
        p.events[0].version_id.as_deref(),
        Some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")
    );
}

#[test]
fn object_removed_is_skipped() {
    let p = parsed("s3-object-removed.json");
    assert!(p.events.is_empty());
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].reason, SkipReason::ObjectRemoved);
}

#[test]
fn test_event_is_acknowledged() {
    let p = parsed("s3-test-event.json");
    assert!(p.events.is_empty());
    assert_eq!(p.skipped[0].reason, SkipReason::TestEvent);
    assert!(p.skipped[0].detail.contains("haul-data"));
}

#[test]
fn sns_notification_is_unwrapped() {
    let p = parsed("sns-notification.json");
    assert_eq!(keys(&p), ["incoming/dev-1/2026/11/20/r1/lung sound (left).wav"]);
}

#[test]
fn mixed_sqs_batch_yields_every_record_and_acknowledges_the_test_event() {
    let p = parsed("sqs-batch-mixed.json");
    assert_eq!(
        keys(&p),
        [
            "incoming/dev-1/2026/11/20/r1/lung sound (left).wav",
            "incoming/dev-1/2026/11/20/r2/c++ notes+v2.jpg",
            "incoming/dév-2/2026/11/20/r3/心音 café.flac",
            "incoming/dev-1/2026/11/20/r4/big file.mf4",
        ]
    );
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].reason, SkipReason::TestEvent);
}

#[test]
fn sns_fifo_body_without_signature_fields_parses() {
    let p = parsed("sqs-sns-fifo.json");
    assert_eq!(keys(&p), ["incoming/dev-1/2026/11/20/r1/lung sound (left).wav"]);
}

#[test]
fn lambda_sns_event_is_unwrapped() {
    let p = parsed("lambda-sns-event.json");
    assert_eq!(keys(&p), ["incoming/dev-1/2026/11/20/r2/c++ notes+v2.jpg"]);
}

#[test]
fn eventbridge_object_created_is_an_event_with_a_decoded_key() {
    let p = parsed("eventbridge-object-created.json");
    assert_eq!(keys(&p), ["incoming/dev-3/2026/11/20/r5/front door+1.jpg"]);
    let e = &p.events[0];
    assert_eq!(e.origin, Origin::EventBridge);
    assert_eq!(e.size, Some(5));
    assert_eq!(e.version_id.as_deref(), Some("IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"));
    assert_eq!(e.sequencer.as_deref(), Some("00617F08299329D189"));
    assert_eq!(e.event_name, "ObjectCreated:PutObject");
}

#[test]
fn eventbridge_object_deleted_is_skipped() {
    let p = parsed("eventbridge-object-deleted.json");
    assert!(p.events.is_empty());
    assert_eq!(p.skipped[0].reason, SkipReason::ObjectRemoved);
}

#[test]
fn event_version_1_is_a_clear_error() {
    let err = parse(&fixture("invalid-event-version-1.0.json")).unwrap_err();
    assert!(matches!(err, EnvelopeError::UnsupportedVersion { .. }));
    assert!(
        err.to_string().contains("1.0") && err.to_string().contains("2.x"),
        "{err}"
    );
}

#[test]
fn undecodable_key_is_an_error_naming_it() {
    let err = parse(&fixture("invalid-key-escape.json")).unwrap_err();
    assert!(err.to_string().contains("incoming/bad%ZZkey.wav"), "{err}");
}

/// Why haul has its own envelope structs: the aws_lambda_events types reject shapes that
/// real deliveries have.
#[test]
fn aws_lambda_events_types_reject_what_haul_accepts() {
    use aws_lambda_events::event::s3::S3Event;
    use aws_lambda_events::event::sns::SnsMessage;
    assert!(serde_json::from_slice::<S3Event>(&fixture("s3-test-event.json")).is_err());
    let batch: serde_json::Value = serde_json::from_slice(&fixture("sqs-sns-fifo.json")).unwrap();
    let body = batch["Records"][0]["body"].as_str().unwrap();
    assert!(
        serde_json::from_str::<SnsMessage>(body).is_err(),
        "FIFO bodies lack Signature fields"
    );
    assert!(parse(body.as_bytes()).is_ok());
}
