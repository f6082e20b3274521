//! `haul-device upload FILE...`

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};

use haul_device::contract::UploadResult;
use haul_device::{Client, ResultWait, UploadOutcome};

use super::args::{Common, UploadArgs};

pub async fn run(common: &Common, args: &UploadArgs) -> Result<ExitCode> {
    if args.request_id.is_some() && args.files.len() > 1 {
        bail!(
            "--request-id applies to one file, but {} files were given",
            args.files.len()
        );
    }
    let client = super::connect(common).await?;
    let mut opts = super::upload_options(common, super::default_state_dir());
    opts.content_type = args.content_type.clone();
    opts.request_id = args.request_id.clone();
    let mut failed = 0usize;
    for file in &args.files {
        match client.upload(file, &opts).await {
            Ok(outcome) => {
                print_outcome(&outcome, common.json);
                if args.wait_result && !wait_results(&client, &outcome, args, common.json).await {
                    failed += 1;
                }
            }
            Err(e) => {
                failed += 1;
                tracing::error!(file = %file.display(), error = %e, "Upload failed.");
                if common.json {
                    let line = serde_json::json!({ "file": file, "error": e.to_string(), "reason": e.reject_reason() });
                    println!("{line}");
                }
            }
        }
    }
    client.disconnect().await;
    if failed > 0 {
        let what = if args.wait_result {
            "uploads failed or were not processed"
        } else {
            "uploads failed"
        };
        eprintln!("error: {failed} of {} {what}", args.files.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_outcome(outcome: &UploadOutcome, json: bool) {
    if json {
        match serde_json::to_string(outcome) {
            Ok(line) => println!("{line}"),
            Err(e) => tracing::error!(error = %e, "Cannot encode the outcome."),
        }
        return;
    }
    let secs = Duration::from_millis(outcome.elapsed_ms).as_secs_f64().max(0.001);
    let transfer = Duration::from_millis(outcome.elapsed_ms.saturating_sub(outcome.hash_ms))
        .as_secs_f64()
        .max(0.001);
    let rate = super::human_bytes((outcome.size as f64 / transfer) as u64);
    let mut detail = format!("{:?}", outcome.kind).to_lowercase();
    if outcome.parts_sent + outcome.parts_skipped > 0 {
        detail.push_str(&format!(
            ", {} parts sent, {} already stored",
            outcome.parts_sent, outcome.parts_skipped
        ));
    }
    println!(
        "uploaded {} -> {} ({}, {detail}, {secs:.1} s of which hashing {:.1} s, {rate}/s after hashing, request {})",
        outcome.path.display(),
        outcome.key,
        super::human_bytes(outcome.size),
        Duration::from_millis(outcome.hash_ms).as_secs_f64(),
        outcome.request_id
    );
}

/// Waits for the results: until every stage the cloud named has answered (or
/// `--result-timeout`), else by the idle rule. True when every result arrived and succeeded.
async fn wait_results(client: &Client, outcome: &UploadOutcome, args: &UploadArgs, json: bool) -> bool {
    let known = !outcome.stages.is_empty() && args.expect_results.is_none();
    let wait = ResultWait {
        first: args.result_timeout,
        idle: if known { args.result_timeout } else { args.result_idle },
        expect: args.expect_results.or(known.then_some(outcome.stages.len())),
    };
    let results = client.wait_results(outcome, &wait, |r| print_result(r, json)).await;
    let missing: Vec<&str> = outcome
        .stages
        .iter()
        .filter(|s| !results.iter().any(|r| &r.stage == *s))
        .map(String::as_str)
        .collect();
    if results.is_empty() && outcome.stages.is_empty() {
        eprintln!(
            "no processing result for {} within {}",
            outcome.file_name,
            humantime::format_duration(args.result_timeout)
        );
        return false;
    }
    if !missing.is_empty() {
        eprintln!(
            "no result from {} for {} within {}",
            missing.join(", "),
            outcome.file_name,
            humantime::format_duration(args.result_timeout)
        );
    }
    missing.is_empty() && results.iter().all(|r| r.outcome == "succeeded")
}

fn print_result(result: &UploadResult, json: bool) {
    if json {
        match serde_json::to_string(result) {
            Ok(line) => println!("{line}"),
            Err(e) => tracing::error!(error = %e, "Cannot encode the result."),
        }
        return;
    }
    let detail = match (&result.error, &result.summary) {
        (Some(error), _) => error.clone(),
        (None, Some(summary)) => summary.clone(),
        (None, None) => "(no summary; --json shows the output)".to_owned(),
    };
    println!("  {:<12} {:<9} {detail}", result.stage, result.outcome);
    println!("  {:<12} {:<9} full result: {}", "", "", result.result_key);
}
