//! The `haul` binary's shared commands, run as a user runs them.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use haul_pipeline::event::{ObjectEvent, notification_json};

fn haul(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(args)
        .current_dir(dir)
        .env_remove("HAUL_CONFIG")
        .output()
        .expect("haul runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn run_prints_the_stage_summary_and_its_duration_instead_of_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello").unwrap();
    let out = haul(dir.path(), &["run", "checksum", "hello.txt"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with("checksum  hello.txt  (") && lines[0].ends_with(" ms)"),
        "{stdout}"
    );
    assert_eq!(lines[1], "  5 B, text/plain, sha256 2cf24dba5fb0a30e…, ETag not an MD5");
}

#[test]
fn run_names_each_artifact_with_its_size_and_whether_it_was_saved() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("heart.wav"),
        haul_stages::samples::heart_sound(72.0, 12.0),
    )
    .unwrap();
    let unsaved = haul(dir.path(), &["run", "heart-sound", "heart.wav"]);
    assert!(unsaved.status.success(), "{}", text(&unsaved.stderr));
    let stdout = text(&unsaved.stdout);
    assert!(
        stdout.lines().nth(1).is_some_and(|l| l.starts_with("  72 bpm")),
        "{stdout}"
    );
    assert!(
        stdout.contains("  plot.png (image/png, ") && stdout.contains("KiB) not saved: --out DIR saves it"),
        "{stdout}"
    );
    let saved = haul(dir.path(), &["run", "heart-sound", "heart.wav", "--out", "plots"]);
    let stdout = text(&saved.stdout);
    assert!(stdout.contains("KiB) saved to plots/plot.png"), "{stdout}");
    assert!(dir.path().join("plots/plot.png").is_file());
}

#[test]
fn run_json_prints_the_whole_outcome_as_before() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello").unwrap();
    let out = haul(dir.path(), &["run", "checksum", "hello.txt", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("{\n  \""), "pretty-printed: {stdout}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(doc["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{doc}");
    let expected = serde_json::json!({
        "stage": "checksum",
        "file": "hello.txt",
        "duration_ms": doc["duration_ms"],
        "output": {
            "size": 5,
            "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
            "md5": "5d41402abc4b2a76b9719d911017c592",
            "detected_content_type": "text/plain",
            "declared_content_type": "text/plain",
            "declared_sha256": null,
            "etag_matches": null
        },
        "artifacts": []
    });
    assert_eq!(doc, expected);
}

#[test]
fn run_help_says_it_prints_a_summary_and_json_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let out = haul(dir.path(), &["run", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("one-line summary") && help.contains("--json"), "{help}");
    assert!(help.contains("instead of the summary"), "{help}");
}

#[test]
fn run_names_an_unknown_stage_and_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = haul(dir.path(), &["run", "nope", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("\"nope\"") && err.contains("checksum"), "{err}");
}

#[test]
fn replay_processes_once_then_reports_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/haul-data/incoming/d");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("a b.bin"), "abc").unwrap();
    let event = ObjectEvent::synthesized("haul-data", "incoming/d/a b.bin", Some(3), None);
    std::fs::write(dir.path().join("event.json"), notification_json(&[event], "us-east-1")).unwrap();
    let first = haul(dir.path(), &["replay", "--store", "data", "event.json"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("incoming/d/a b.bin  checksum  ok"),
        "{}",
        text(&first.stdout)
    );
    let second = haul(dir.path(), &["replay", "--store", "data", "event.json", "--json"]);
    let line: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(line["outcome"], "duplicate");
    assert!(
        dir.path()
            .join("data/haul-data/results/checksum/incoming/d/a b.bin.json")
            .is_file()
    );
}

#[test]
fn replay_exits_non_zero_and_says_so_when_a_record_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data/haul-data")).unwrap();
    let event = ObjectEvent::synthesized("haul-data", "incoming/d/missing.bin", Some(3), None);
    std::fs::write(dir.path().join("event.json"), notification_json(&[event], "us-east-1")).unwrap();
    std::fs::write(dir.path().join("junk.json"), "{\"what\": 1}").unwrap();
    let out = haul(dir.path(), &["replay", "--store", "data", "event.json", "junk.json"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("bad input") && stdout.contains("what"), "{stdout}");
    assert!(text(&out.stderr).contains("2 of 2 failed"), "{}", text(&out.stderr));
}

#[test]
fn config_check_prints_the_routing_table_and_rejects_typos() {
    let dir = tempfile::tempdir().unwrap();
    let out = haul(dir.path(), &["config", "check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("built-in defaults (valid)"));
    assert!(text(&out.stdout).contains("checksum"));
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[routes]]\nstage = \"checksum\"\nsufixes = [\".x\"]\n",
    )
    .unwrap();
    let out = haul(dir.path(), &["config", "check", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("sufixes"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_backfill_finds_s3_through_aws_endpoint_url_and_the_default_credential_chain() {
    use haul_local::s3::{S3Server, ServerOptions};
    use haul_pipeline::store::{FsStore, ObjectStore, PutBody};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("s3");
    let server = S3Server::start(
        ServerOptions {
            root: data.clone(),
            bind: "127.0.0.1:0".parse().unwrap(),
            access_key: "cli-key".into(),
            secret_key: "cli-secret".into(),
            region: "us-east-1".into(),
            buckets: vec!["haul-data".into()],
        },
        None,
    )
    .await
    .unwrap();
    FsStore::new(&data)
        .put(
            "haul-data",
            "incoming/d/x.bin",
            PutBody::Bytes(bytes::Bytes::from_static(b"abc")),
            "application/octet-stream",
        )
        .await
        .unwrap();
    let (url, cwd) = (server.url.clone(), dir.path().to_owned());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_haul"))
            .args(["replay", "--backfill", "--json"])
            .current_dir(cwd)
            .env_remove("HAUL_CONFIG")
            .env("AWS_ENDPOINT_URL", url)
            .env("AWS_ACCESS_KEY_ID", "cli-key")
            .env("AWS_SECRET_ACCESS_KEY", "cli-secret")
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("\"key\":\"incoming/d/x.bin\""),
        "{}",
        text(&out.stdout)
    );
    assert!(data.join("haul-data/results/checksum/incoming/d/x.bin.json").is_file());
}

/// The error a person sees: one line on stderr, naming the value.
fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success(), "should fail: {}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn run_on_a_folder_says_it_is_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("recordings")).unwrap();
    let err = one_line_error(&haul(dir.path(), &["run", "heart-sound", "recordings"]));
    assert!(err.contains("recordings is a folder"), "{err}");
}

#[test]
fn dev_with_a_file_as_its_data_folder_names_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    let out = haul(
        dir.path(),
        &[
            "dev",
            "--data",
            "notes.txt",
            "--s3-addr",
            "127.0.0.1:0",
            "--mqtt-addr",
            "127.0.0.1:0",
        ],
    );
    let err = one_line_error(&out);
    assert!(err.contains("--data notes.txt: not a folder"), "{err}");
}

#[test]
fn config_check_refuses_what_deploy_template_refuses_and_warns_of_a_suffix_without_a_dot() {
    let dir = tempfile::tempdir().unwrap();
    let outside = "[[routes]]\nstage = \"checksum\"\nprefix = \"other/\"\n";
    std::fs::write(dir.path().join("outside.toml"), outside).unwrap();
    let check = one_line_error(&haul(dir.path(), &["config", "check", "outside.toml"]));
    let deploy = one_line_error(&haul(dir.path(), &["--config", "outside.toml", "deploy", "template"]));
    assert!(check.contains("outside storage.incoming_prefix"), "{check}");
    assert!(deploy.contains("outside storage.incoming_prefix"), "{deploy}");
    std::fs::write(
        dir.path().join("nodot.toml"),
        "[[routes]]\nstage = \"checksum\"\nsuffixes = [\"wav\"]\n",
    )
    .unwrap();
    let out = haul(dir.path(), &["config", "check", "nodot.toml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("suffix \"wav\" has no dot"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn replay_without_aws_credentials_says_what_to_do_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let event = notification_json(
        &[ObjectEvent::synthesized(
            "haul-data",
            "incoming/dev-1/a.bin",
            Some(1),
            None,
        )],
        "us-east-1",
    );
    std::fs::write(dir.path().join("event.json"), event).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(["replay", "event.json"])
        .current_dir(dir.path())
        .env_clear()
        .env("HOME", dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let err = one_line_error(&out);
    assert!(
        err.contains("no AWS credentials") && err.contains("--store DIR"),
        "{err}"
    );
    assert!(!err.contains("DispatchFailure") && !err.contains("SdkBody"), "{err}");
}

#[test]
fn each_generated_event_replays_the_object_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data/haul-data/incoming/dev-1");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("a b+c.txt"), "hello").unwrap();
    for (i, envelope) in ["s3", "sns", "sqs", "eventbridge"].iter().enumerate() {
        let out = haul(
            dir.path(),
            &["event", envelope, "--key", "incoming/dev-1/a b+c.txt", "--size", "5B"],
        );
        assert!(out.status.success(), "{envelope}: {}", text(&out.stderr));
        let file = format!("{envelope}.json");
        std::fs::write(dir.path().join(&file), &out.stdout).unwrap();
        let replayed = haul(dir.path(), &["replay", "--store", "data", &file, "--json"]);
        assert!(replayed.status.success(), "{envelope}: {}", text(&replayed.stderr));
        let line: serde_json::Value = serde_json::from_slice(&replayed.stdout).unwrap();
        assert_eq!(line["key"], "incoming/dev-1/a b+c.txt", "{envelope}");
        let expected = if i == 0 { "ok" } else { "duplicate" };
        assert_eq!(line["outcome"], expected, "{envelope}: {line}");
    }
    let bad = haul(dir.path(), &["event", "s3", "--key", ""]);
    assert!(text(&bad.stderr).contains("--key is empty"), "{}", text(&bad.stderr));
}

#[test]
fn demo_uploads_each_stage_sample_and_prints_every_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = haul(dir.path(), &["demo", "--keep", "kept"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for stage in ["checksum", "heart-sound", "plate", "mdf", "records"] {
        assert!(stdout.contains(stage), "{stage} missing: {stdout}");
    }
    assert!(!stdout.contains("failed"), "{stdout}");
    let secret = dir.path().join("kept/.haul/dev-secret");
    assert!(secret.is_file(), "the data folder keeps its own S3 secret");
}

#[test]
fn a_decoder_failure_is_one_line_without_library_logs() {
    let dir = tempfile::tempdir().unwrap();
    // Not audio: symphonia's probe scans to the end and logs an error of its own, which
    // is not the user's concern; the stage's failure is.
    let junk: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("junk.mp3"), junk).unwrap();
    let out = haul(dir.path(), &["run", "heart-sound", "junk.mp3"]);
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("symphonia"),
        "library logs stay quiet without -v: {stderr}"
    );
    assert!(!out.status.success());
    let all = format!("{}{stderr}", text(&out.stdout));
    assert!(all.contains("junk.mp3"), "the failure names the file: {all}");
}
