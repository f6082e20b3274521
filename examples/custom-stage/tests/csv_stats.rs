//! The example stage through the public API: a direct call, and the pipeline over a folder.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use custom_stage::{CsvStats, registry};
use haul_pipeline::config::HaulConfig;
use haul_pipeline::event::ObjectEvent;
use haul_pipeline::prelude::*;
use haul_pipeline::store::FsStore;
use haul_pipeline::{ErrorKind, Pipeline, RunOptions, Status};

fn cx() -> Context {
    Context::new("csv-stats", 1, Duration::from_secs(10)).unwrap()
}

#[tokio::test]
async fn columns_get_count_min_max_and_mean() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    std::fs::write(&path, "temp,humidity\n20.5,40\n22.5,50\n\n21,45\n").unwrap();
    let out = CsvStats::default()
        .process(Object::from_file(&path).unwrap(), &cx())
        .await
        .unwrap();
    assert_eq!(out.data["rows"], 4);
    assert_eq!(out.data["columns"]["temp"]["min"], 20.5);
    assert_eq!(out.data["columns"]["temp"]["max"], 22.5);
    assert_eq!(out.data["columns"]["humidity"]["mean"], 45.0);
}

#[tokio::test]
async fn the_summary_gives_each_column_mean_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    std::fs::write(
        &path,
        "temp,humidity
20.5,40
22.5,50
21.1,45
",
    )
    .unwrap();
    let stage = CsvStats::default();
    let out = stage.process(Object::from_file(&path).unwrap(), &cx()).await.unwrap();
    assert_eq!(
        stage.summary(&out.data),
        "3 rows; humidity 45 (40–50), temp 21.4 (20.5–22.5)"
    );
    assert_eq!(stage.summary(&serde_json::json!({})), "0 rows, no numeric columns");
}

#[tokio::test]
async fn a_malformed_row_is_a_permanent_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "a,b\n1,2\n3,oops\n").unwrap();
    let err = CsvStats::default()
        .process(Object::from_file(&path).unwrap(), &cx())
        .await
        .unwrap_err();
    assert!(!err.is_retryable());
    assert!(
        err.to_string().contains("row 3") && err.to_string().contains("oops"),
        "{err}"
    );
}

#[tokio::test]
async fn the_pipeline_writes_an_error_result_for_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("b/incoming");
    std::fs::create_dir_all(&bucket).unwrap();
    std::fs::write(bucket.join("x.csv"), "a;b\n1;2\n").unwrap();
    std::fs::write(bucket.join("y.csv"), "a;b\n1\n").unwrap();
    let config = HaulConfig::from_toml(
        "[[routes]]\nstage = \"csv-stats\"\nsuffixes = [\".csv\"]\n[stages.csv-stats]\ndelimiter = \";\"\n",
        "test",
    )
    .unwrap();
    let pipeline = Pipeline::new(config, &registry(), Arc::new(FsStore::new(dir.path()))).unwrap();
    let good = pipeline
        .process(
            &ObjectEvent::synthesized("b", "incoming/x.csv", Some(8), None),
            &RunOptions::default(),
        )
        .await;
    assert_eq!(good[0].status, Status::Succeeded);
    let bad = pipeline
        .process(
            &ObjectEvent::synthesized("b", "incoming/y.csv", Some(6), None),
            &RunOptions::default(),
        )
        .await;
    assert_eq!(bad[0].status, Status::Failed(ErrorKind::Permanent));
    assert!(dir.path().join("b/results/csv-stats/incoming/y.csv.json").is_file());
}

#[test]
fn unknown_options_are_rejected() {
    let config = HaulConfig::from_toml("[stages.csv-stats]\ndelimeter = \";\"\n", "test").unwrap();
    let err = registry()
        .build("csv-stats", &config.stage_settings("csv-stats").options)
        .err()
        .expect("typo is refused");
    assert!(err.to_string().contains("delimeter"), "{err}");
}
