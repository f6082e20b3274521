//! The `haul` binary, started as Lambda starts it (no arguments, `AWS_LAMBDA_RUNTIME_API` set), under a stand-in Lambda Runtime API: an SQS batch in, the
//! `batchItemFailures` response out, objects read from an S3-compatible endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use haul_local::s3::{S3Server, ServerOptions};
use haul_pipeline::event::{ObjectEvent, notification_json};
use haul_pipeline::store::{FsStore, ObjectStore, PutBody};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Reads one HTTP request: (request line, body).
async fn read_request(stream: &mut BufReader<TcpStream>) -> (String, Vec<u8>) {
    let mut line = String::new();
    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
        return (String::new(), Vec::new());
    }
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        stream.read_line(&mut header).await.unwrap();
        if header.trim().is_empty() {
            break;
        }
        if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    (line, body)
}

async fn respond(stream: &mut BufReader<TcpStream>, headers: &str, body: &str) {
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    stream.get_mut().write_all(reply.as_bytes()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stage_handler_reports_only_retryable_failures_to_the_runtime_api() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("s3");
    let s3 = S3Server::start(
        ServerOptions {
            root: data.clone(),
            bind: "127.0.0.1:0".parse().unwrap(),
            access_key: "lambda-key".into(),
            secret_key: "lambda-secret".into(),
            region: "us-east-1".into(),
            buckets: vec!["haul-data".into()],
        },
        None,
    )
    .await
    .unwrap();
    let store = FsStore::new(&data);
    let key = "incoming/dev-1/2026/11/26/r1/hello.bin";
    store
        .put(
            "haul-data",
            key,
            PutBody::Bytes(bytes::Bytes::from_static(b"hello")),
            "application/octet-stream",
        )
        .await
        .unwrap();
    let ok = ObjectEvent::synthesized("haul-data", key, Some(5), None);
    let event = json!({ "Records": [
        { "messageId": "m-ok", "body": notification_json(&[ok], "us-east-1"), "eventSource": "aws:sqs",
          "attributes": { "ApproximateReceiveCount": "1" } },
        { "messageId": "m-junk", "body": "not an event", "eventSource": "aws:sqs" },
    ]});

    let api = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = api.local_addr().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_haul"))
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("_HANDLER", "checksum")
        .env("AWS_LAMBDA_FUNCTION_NAME", "haul-checksum")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/haul-checksum")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "lambda-key")
        .env("AWS_SECRET_ACCESS_KEY", "lambda-secret")
        .env("AWS_ENDPOINT_URL", &s3.url)
        .env_remove("HAUL_CONFIG")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let served = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let event_text = event.to_string();
    tokio::spawn(async move {
        while let Ok((socket, _)) = api.accept().await {
            let (tx, served, event_text) = (tx.clone(), served.clone(), event_text.clone());
            tokio::spawn(async move {
                let mut conn = BufReader::new(socket);
                loop {
                    let (line, body) = read_request(&mut conn).await;
                    if line.is_empty() {
                        return;
                    }
                    if line.contains("/runtime/invocation/next") {
                        if served.swap(true, std::sync::atomic::Ordering::SeqCst) {
                            return std::future::pending().await; // one event only
                        }
                        let headers = "lambda-runtime-aws-request-id: req-1\r\nlambda-runtime-deadline-ms: 9999999999999\r\n\
                                       lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:000000000000:function:haul-checksum\r\n";
                        respond(&mut conn, headers, &event_text).await;
                    } else if line.contains("/invocation/req-1/response") {
                        respond(&mut conn, "", "{}").await;
                        let _ = tx.send(serde_json::from_slice::<Value>(&body).unwrap());
                    } else {
                        respond(&mut conn, "", "{}").await;
                        let _ = tx.send(json!({ "unexpected": line, "body": String::from_utf8_lossy(&body) }));
                    }
                }
            });
        }
    });
    let exchange = async { rx.recv().await.unwrap() };
    let response = tokio::time::timeout(Duration::from_secs(60), exchange)
        .await
        .expect("the bootstrap answers");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        response,
        json!({ "batchItemFailures": [{ "itemIdentifier": "m-junk" }] })
    );
    assert!(
        data.join("haul-data/results/checksum")
            .join(format!("{key}.json"))
            .is_file()
    );
}
