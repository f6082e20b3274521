//! `config check`: validate a configuration and print the effective routing table.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::{App, GlobalArgs, Table};
use haul_pipeline::BoxError;
use haul_pipeline::router::Router;

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration (every stage is built with its options) and print the
    /// effective routing table and stage settings.
    Check {
        /// The file [default: --config, ./haul.toml, or the built-in defaults].
        file: Option<PathBuf>,
    },
    /// Print the built-in default configuration (a starting point for your own haul.toml).
    Defaults,
}

pub(super) fn execute(app: &App, global: &GlobalArgs, cmd: ConfigCommand) -> Result<ExitCode, BoxError> {
    let file = match cmd {
        ConfigCommand::Defaults => {
            print!("{}", app.default_config_text().unwrap_or(""));
            return Ok(ExitCode::SUCCESS);
        }
        ConfigCommand::Check { file } => file,
    };
    let global = GlobalArgs {
        config: file.or_else(|| global.config.clone()),
        verbose: global.verbose,
    };
    let (config, origin) = app.load_config(&global)?;
    let router = Router::new(&config);
    let mut names: Vec<&str> = router.routes().iter().map(|r| r.stage.as_str()).collect();
    names.extend(config.stages.keys().map(String::as_str));
    names.sort_unstable();
    names.dedup();
    for name in &names {
        app.registry().build(name, &config.stage_settings(name).options)?;
    }
    // What `deploy template` refuses is refused here too (a config without routes is fine
    // for `run` and `replay`).
    match haul_deploy::plan::plan(&config) {
        Ok(_) | Err(haul_deploy::plan::PlanError::NoStages) => {}
        Err(e) => return Err(format!("{origin}: {e}").into()),
    }
    println!("config: {origin} (valid)");
    for (i, r) in router.routes().iter().enumerate() {
        for suffix in r.suffixes.iter().filter(|s| !s.starts_with('.')) {
            println!(
                "warning: route {} ({}): suffix {suffix:?} has no dot, so it also matches names such as \"x{suffix}\"; write \".{suffix}\" if you mean the extension",
                i + 1,
                r.stage
            );
        }
    }
    let s = &config.storage;
    println!(
        "storage: bucket {}, uploads under {}, results under {}{}",
        s.bucket,
        s.incoming_prefix,
        s.results_bucket.as_deref().map(|b| format!("{b}/")).unwrap_or_default(),
        s.results_prefix
    );
    let mut routes = Table::new(["#", "stage", "prefix", "suffixes", "content types", "max size"]);
    for (i, r) in router.routes().iter().enumerate() {
        routes.row([
            (i + 1).to_string(),
            r.stage.clone(),
            r.prefix.clone(),
            list_or_any(&r.suffixes),
            list_or_any(&r.content_types),
            r.max_size.map(|m| m.to_string()).unwrap_or_else(|| "-".into()),
        ]);
    }
    println!("\nroutes (an object goes to every stage whose route matches):");
    print!("{}", routes.render());
    let mut stages = Table::new(["stage", "timeout", "concurrency", "max receives", "options"]);
    for name in &names {
        let st = config.stage_settings(name);
        stages.row([
            (*name).to_owned(),
            humantime::format_duration(st.timeout).to_string(),
            st.concurrency.to_string(),
            st.max_receive_count.to_string(),
            options_summary(&st.options),
        ]);
    }
    println!("\nstages:");
    print!("{}", stages.render());
    let unrouted: Vec<&str> = app
        .registry()
        .names()
        .into_iter()
        .filter(|n| !names.contains(n))
        .collect();
    if !unrouted.is_empty() {
        println!(
            "\nregistered but not routed (usable with `run`): {}",
            unrouted.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `key=value` for scalar options, `key[n]` for lists, `key{..}` for tables.
fn options_summary(options: &toml::Table) -> String {
    if options.is_empty() {
        return "-".to_owned();
    }
    let parts: Vec<String> = options
        .iter()
        .map(|(k, v)| match v {
            toml::Value::Array(a) => format!("{k}[{}]", a.len()),
            toml::Value::Table(_) => format!("{k}{{..}}"),
            other => format!("{k}={other}"),
        })
        .collect();
    parts.join(" ")
}

fn list_or_any(items: &[String]) -> String {
    if items.is_empty() {
        "any".to_owned()
    } else {
        items.join(" ")
    }
}
