//! `haul event`: an S3 event in the envelope a stage is handed on AWS, ready for
//! `haul replay` (like `sam local generate-event`).

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use haul_pipeline::BoxError;
use haul_pipeline::config::ByteSize;
use haul_pipeline::event::ObjectEvent;
use haul_pipeline::event::generate::{Envelope, generate};

use super::{App, GlobalArgs};

/// `haul event`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  haul event s3 --key 'incoming/dev-1/2026/12/01/r1/heart sound.wav' --size 1MiB > event.json
  haul replay --store ./haul-data event.json
  haul event sqs --key incoming/dev-1/x.csv | haul replay --store ./haul-data -
  haul event eventbridge --bucket my-bucket --key incoming/dev-2/plate.jpg --etag 9b2cf535f27731c974343645a3985328")]
pub struct EventArgs {
    /// The envelope: s3 (S3 -> Lambda or SQS), sns (Lambda SNS event), sqs (Lambda SQS
    /// batch, raw delivery: haul's deployment), eventbridge (Object Created).
    #[arg(value_enum)]
    pub envelope: Kind,
    /// The object key, as stored (it is URL-encoded in the event as S3 does).
    #[arg(long)]
    pub key: String,
    /// The bucket [default: storage.bucket of the configuration].
    #[arg(long)]
    pub bucket: Option<String>,
    /// The object's size.
    #[arg(long, default_value = "0B")]
    pub size: ByteSize,
    /// The object's ETag (an MD5 for single-part uploads).
    #[arg(long)]
    pub etag: Option<String>,
    /// The region [default: storage.region of the configuration].
    #[arg(long)]
    pub region: Option<String>,
}

/// The envelopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// The S3 notification.
    S3,
    /// A Lambda SNS event carrying it.
    Sns,
    /// A Lambda SQS batch carrying it.
    Sqs,
    /// EventBridge Object Created.
    Eventbridge,
}

pub(super) fn execute(app: &App, global: &GlobalArgs, args: EventArgs) -> Result<ExitCode, BoxError> {
    if args.key.is_empty() {
        return Err("--key is empty: an S3 key has 1 to 1024 bytes".into());
    }
    if args.key.len() > 1024 {
        return Err(format!("--key has {} bytes; S3 allows at most 1024", args.key.len()).into());
    }
    let (config, _) = app.load_config(global)?;
    let bucket = args.bucket.unwrap_or_else(|| config.storage.bucket.clone());
    let region = args.region.unwrap_or_else(|| config.storage.region.clone());
    let mut event = ObjectEvent::synthesized(&bucket, &args.key, Some(args.size.bytes()), args.etag);
    event.event_time = Some(chrono::Utc::now());
    let envelope = match args.envelope {
        Kind::S3 => Envelope::S3,
        Kind::Sns => Envelope::Sns,
        Kind::Sqs => Envelope::Sqs,
        Kind::Eventbridge => Envelope::EventBridge,
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&generate(envelope, &event, &region))?
    );
    Ok(ExitCode::SUCCESS)
}
