//! `csv-stats`: haul's commands with the csv-stats stage.

fn main() -> std::process::ExitCode {
    haul_pipeline::cli::App::new(custom_stage::registry())
        .default_config(
            r#"
            [[routes]]
            stage = "csv-stats"
            suffixes = [".csv"]

            [stages.csv-stats]
            delimiter = ","
            "#,
        )
        .main()
}
