//! `haul deploy`: the SAM template from `haul.toml`, and the same resources on an emulator.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use haul_deploy::{self as deploy, FilterMode, LocalDeployment, LocalOptions};
use haul_pipeline::BoxError;

use super::{App, GlobalArgs, Table};

/// `haul deploy` subcommands.
#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// Write the AWS SAM template generated from haul.toml, for functions running this
    /// binary.
    ///
    /// Per routed stage: an SQS queue and dead-letter queue, a subscription to the objects
    /// topic with the filter policy derived from the routes, a Lambda function and a DLQ
    /// alarm; plus the bucket, topics, presign function, IoT rule and device policy. With
    /// --out, the Makefile that `sam build` runs to build this binary is written beside it.
    /// See deploy/README.md for `sam build` and `sam deploy`.
    #[command(after_help = "Examples:\n  \
        haul deploy template                              # print to stdout\n  \
        haul deploy template --out deploy/template.yaml   # and deploy/Makefile (what the repository commits)\n  \
        haul --config my.toml deploy template --out my-deploy/template.yaml")]
    Template(TemplateArgs),
    /// Create the template's bucket, topics, queues, subscriptions and bucket notification
    /// on an AWS emulator (MiniStack, LocalStack); idempotent.
    ///
    /// Credentials come from the default chain (for MiniStack:
    /// AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test); the region is storage.region.
    /// Lambda and IoT are not created: run each stage with
    /// `haul worker --queue-url QUEUE_URL --stage NAME`.
    #[command(after_help = "Examples:\n  \
        BIND_HOST=127.0.0.1 GATEWAY_PORT=4566 python -m ministack &\n  \
        export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test\n  \
        haul deploy local --endpoint http://127.0.0.1:4566\n  \
        haul deploy local --endpoint http://127.0.0.1:4566 --name-prefix ci --json\n\n\
        --json prints {\"bucket\", \"objects_topic_arn\", \"results_topic_arn\",\n\
        \"stages\": {\"NAME\": {\"queue_url\", \"dlq_url\"}}}.")]
    Local(LocalArgs),
}

/// `haul deploy template`.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Write the template to FILE (and the Makefile beside it) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `haul deploy local`.
#[derive(Debug, Args)]
pub struct LocalArgs {
    /// The emulator's endpoint URL.
    #[arg(long, value_name = "URL")]
    pub endpoint: String,
    /// Prefix of topic and queue names (PREFIX-objects, PREFIX-STAGE, PREFIX-STAGE-dlq).
    #[arg(long, value_name = "P", default_value = "haul")]
    pub name_prefix: String,
    /// Filter policies on the subscriptions: `auto` applies them if the emulator matches
    /// them inside the Records array of S3 notifications (as AWS does; MiniStack 1.5.33
    /// does not), else subscribes every stage unfiltered.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = FilterMode::Auto)]
    pub filter_policies: FilterMode,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs a `haul deploy` subcommand.
pub async fn execute(app: &App, global: &GlobalArgs, cmd: DeployCommand) -> Result<ExitCode, BoxError> {
    let (config, origin) = app.load_config(global)?;
    match cmd {
        DeployCommand::Template(args) => {
            let b = app.binary_name();
            let target = deploy::BuildTarget {
                package: b.package.clone(),
                binary: b.binary.clone(),
            };
            let template = deploy::template::build(&config, &target)?;
            for note in &template.notes {
                tracing::warn!(config = %origin, %note, "The AWS deployment cannot follow haul.toml exactly here.");
            }
            let text = template.to_yaml();
            match args.out {
                Some(path) => write_with_makefile(&path, &text, &target)?,
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        DeployCommand::Local(args) => {
            let options = LocalOptions::new(args.endpoint)
                .name_prefix(args.name_prefix)
                .filters(args.filter_policies);
            let deployed = deploy::deploy_local(&config, &options).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&deployed)?);
            } else {
                print!("{}", human(&deployed));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes the template and, beside it, the Makefile that builds the functions' binary.
fn write_with_makefile(path: &std::path::Path, text: &str, target: &deploy::BuildTarget) -> Result<(), BoxError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::write(path, text).map_err(|e| format!("cannot write the template to {}: {e}", path.display()))?;
    let makefile = dir.join("Makefile");
    std::fs::write(&makefile, deploy::makefile::render(target))
        .map_err(|e| format!("cannot write {}: {e}", makefile.display()))?;
    eprintln!("wrote {} and {}", path.display(), makefile.display());
    Ok(())
}

fn human(d: &LocalDeployment) -> String {
    let mut out = format!(
        "bucket         {}\nobjects topic  {}\nresults topic  {}\nfilter policies {}\n\n",
        d.bucket,
        d.objects_topic_arn,
        d.results_topic_arn,
        if d.filter_policies {
            "applied"
        } else {
            "not applied (the emulator cannot match them)"
        }
    );
    let mut table = Table::new(["stage", "queue", "dead-letter queue"]);
    for (name, q) in &d.stages {
        table.row([name.as_str(), &q.queue_url, &q.dlq_url]);
    }
    out.push_str(&table.render());
    out
}
