//! `haul-device watch DIR`

use std::process::ExitCode;

use anyhow::{Context, Result};

use haul_device::spool::{self, SpoolEvent, SpoolOptions};

use super::args::{Common, WatchArgs};

pub async fn run(common: &Common, args: &WatchArgs) -> Result<ExitCode> {
    std::fs::create_dir_all(&args.dir).with_context(|| format!("creating spool folder {}", args.dir.display()))?;
    let client = super::connect(common).await?;
    let upload = super::upload_options(common, args.dir.join(spool::STATE_DIR));
    let mut opts = SpoolOptions::new(&args.dir);
    (opts.settle, opts.poll, opts.once) = (args.settle, args.poll, args.once);
    tracing::info!(dir = %args.dir.display(), state_dir = %upload.state_dir.display(), "Watching spool folder.");
    let json = common.json;
    // Dropping the watch future stops at once, even mid-upload: the state file is current.
    let result = tokio::select! {
        r = spool::watch(&client, &opts, &upload, std::future::pending(), |event| print_event(event, json)) => r,
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("Stopping; an interrupted upload resumes on the next start.");
            Ok(())
        }
    };
    client.disconnect().await;
    result?;
    Ok(ExitCode::SUCCESS)
}

fn print_event(event: &SpoolEvent, json: bool) {
    let line = match event {
        SpoolEvent::Uploaded { outcome, moved_to } => {
            serde_json::json!({ "event": "uploaded", "moved_to": moved_to, "outcome": outcome })
        }
        SpoolEvent::Rejected { moved_to, error } => {
            serde_json::json!({ "event": "rejected", "moved_to": moved_to, "reason": error.reject_reason(), "error": error.to_string() })
        }
        SpoolEvent::Failed { file, error, retry_in } => {
            serde_json::json!({ "event": "failed", "file": file, "error": error.to_string(), "retry_in_ms": retry_in.map(|d| d.as_millis() as u64) })
        }
    };
    if json {
        println!("{line}");
    } else if let SpoolEvent::Uploaded { outcome, moved_to } = event {
        println!(
            "uploaded {} -> {} (now {})",
            outcome.path.display(),
            outcome.key,
            moved_to.display()
        );
    }
}
