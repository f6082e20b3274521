//! `csv-stats`: the haul application with the csv-stats stage. It gets every command
//! `haul` has (run, replay, worker, dev, demo, deploy, config, bench) and serves the
//! Lambda Runtime API when Lambda starts it.

/// The default configuration: `.csv` uploads go to csv-stats.
const DEFAULT_CONFIG: &str = r#"
[[routes]]
stage = "csv-stats"
suffixes = [".csv"]

[stages.csv-stats]
delimiter = ","
"#;

fn main() -> std::process::ExitCode {
    haul_app::App::new(custom_stage::registry())
        .binary(env!("CARGO_PKG_NAME"), env!("CARGO_BIN_NAME"))
        .about("csv-stats: per-column statistics of CSV sensor logs, on haul.")
        .default_config(DEFAULT_CONFIG)
        .main()
}
