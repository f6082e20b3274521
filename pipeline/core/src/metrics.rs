//! Metrics of each (object, stage) run, as CloudWatch Embedded Metric Format: one JSON line
//! per run on stdout, which Lambda's log pipeline (or the CloudWatch agent next to `haul
//! worker`) turns into metrics in the `haul` namespace, without a PutMetricData call.
//!
//! Metrics: `Runs` (1), `Failures` (1 when the stage failed), `Duration` (ms in the stage),
//! `Bytes` (object size), `Attempts` (the delivery's receive count), `EndToEndLatency` (ms
//! from the object's creation to now). Dimension sets: `[stage]` (what the template's
//! error-rate alarm reads) and `[stage, outcome]`. Duplicates (a result already there) and
//! unrouted objects are not runs and emit nothing.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::pipeline::{RecordOutcome, Status};

/// The CloudWatch namespace.
pub const NAMESPACE: &str = "haul";

/// The EMF document of one run, or `None` for a duplicate or an unrouted object.
pub fn emf(outcome: &RecordOutcome, attempt: u32, now: DateTime<Utc>) -> Option<Value> {
    let stage = outcome.stage.as_deref()?;
    if matches!(outcome.status, Status::Duplicate | Status::NoRoute) {
        return None;
    }
    let mut metrics = vec![
        json!({ "Name": "Runs", "Unit": "Count" }),
        json!({ "Name": "Failures", "Unit": "Count" }),
        json!({ "Name": "Duration", "Unit": "Milliseconds" }),
        json!({ "Name": "Attempts", "Unit": "Count" }),
    ];
    let mut doc = json!({
        "stage": stage,
        "outcome": outcome.status.label(),
        "key": outcome.key,
        "Runs": 1,
        "Failures": u8::from(outcome.status.is_failure()),
        "Duration": outcome.duration.as_secs_f64() * 1e3,
        "Attempts": attempt,
    });
    if let Some(size) = outcome.size {
        metrics.push(json!({ "Name": "Bytes", "Unit": "Bytes" }));
        doc["Bytes"] = json!(size);
    }
    if let Some(created) = outcome.event_time {
        metrics.push(json!({ "Name": "EndToEndLatency", "Unit": "Milliseconds" }));
        doc["EndToEndLatency"] = json!((now - created).num_milliseconds().max(0));
    }
    doc["_aws"] = json!({
        "Timestamp": now.timestamp_millis(),
        "CloudWatchMetrics": [{
            "Namespace": NAMESPACE,
            "Dimensions": [["stage"], ["stage", "outcome"]],
            "Metrics": metrics,
        }],
    });
    Some(doc)
}

/// Prints the EMF line of each run (stdout: where Lambda and the CloudWatch agent read it).
pub fn emit(outcomes: &[RecordOutcome], attempt: u32) {
    use std::io::Write;
    let now = Utc::now();
    let mut out = std::io::stdout().lock();
    for doc in outcomes.iter().filter_map(|o| emf(o, attempt, now)) {
        let _ = writeln!(out, "{doc}");
    }
}

/// Stage runs counted by (stage, outcome), with the seconds spent: what `/metrics` serves.
#[derive(Debug, Default)]
pub struct RunCounts {
    runs: std::sync::Mutex<std::collections::BTreeMap<(String, String), (u64, f64)>>,
}

impl RunCounts {
    /// Counts a run (duplicates and unrouted objects too: they are outcomes).
    pub fn observe(&self, outcome: &RecordOutcome) {
        let stage = outcome.stage.clone().unwrap_or_else(|| "-".to_owned());
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        let entry = runs.entry((stage, outcome.status.label())).or_default();
        entry.0 += 1;
        entry.1 += outcome.duration.as_secs_f64();
    }

    /// `haul_stage_runs_total` and `haul_stage_seconds_total` in Prometheus' text format.
    pub fn write_prometheus(&self, out: &mut String) {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        let help = [
            ("haul_stage_runs_total", "Stage runs, by stage and outcome."),
            (
                "haul_stage_seconds_total",
                "Seconds spent in stages, by stage and outcome.",
            ),
        ];
        for (i, (name, text)) in help.iter().enumerate() {
            out.push_str(&format!("# HELP {name} {text}\n# TYPE {name} counter\n"));
            for ((stage, outcome), (n, secs)) in runs.iter() {
                let value = if i == 0 { n.to_string() } else { secs.to_string() };
                let (stage, outcome) = (prometheus_label(stage), prometheus_label(outcome));
                out.push_str(&format!("{name}{{stage=\"{stage}\",outcome=\"{outcome}\"}} {value}\n"));
            }
        }
    }
}

/// A label value escaped for Prometheus' text format.
pub fn prometheus_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::ErrorKind;

    fn outcome(status: Status) -> RecordOutcome {
        RecordOutcome {
            stage: Some("heart-sound".into()),
            bucket: "b".into(),
            key: "incoming/dev-1/a.wav".into(),
            status,
            duration: Duration::from_millis(12),
            result_key: None,
            message: None,
            summary: None,
            size: Some(2048),
            event_time: Some(DateTime::from_timestamp(1_800_000_000, 0).unwrap()),
        }
    }

    /// The rules of the format (AWS: "Specification: Embedded metric format"): `_aws` with
    /// an integer millisecond `Timestamp` and `CloudWatchMetrics` directives; each directive
    /// a `Namespace`, `Dimensions` (arrays of at most 30 member names, each a string member
    /// of the root) and `Metrics` (at most 100, each `Name` a number member of the root and
    /// `Unit` a CloudWatch unit).
    fn assert_valid_emf(doc: &Value) {
        let units = ["Count", "Milliseconds", "Bytes", "Seconds", "Percent", "None"];
        let aws = &doc["_aws"];
        assert!(aws["Timestamp"].is_u64(), "{doc}");
        let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
        assert!(!directives.is_empty());
        for d in directives {
            assert!(
                d["Namespace"]
                    .as_str()
                    .is_some_and(|n| !n.is_empty() && n.len() <= 1024)
            );
            for set in d["Dimensions"].as_array().expect("dimension sets") {
                let set = set.as_array().expect("a dimension set");
                assert!(!set.is_empty() && set.len() <= 30);
                for name in set {
                    let name = name.as_str().expect("a dimension name");
                    assert!(doc[name].is_string(), "dimension {name} is a string member: {doc}");
                }
            }
            let metrics = d["Metrics"].as_array().expect("metrics");
            assert!(metrics.len() <= 100);
            for m in metrics {
                let name = m["Name"].as_str().expect("a metric name");
                assert!(doc[name].is_number(), "metric {name} is a number member: {doc}");
                assert!(units.contains(&m["Unit"].as_str().unwrap_or("")), "{m}");
            }
        }
    }

    #[test]
    fn a_run_is_one_valid_emf_document() {
        let now = DateTime::from_timestamp(1_800_000_003, 500_000_000).unwrap();
        let doc = emf(&outcome(Status::Succeeded), 2, now).unwrap();
        assert_valid_emf(&doc);
        assert_eq!(doc["stage"], "heart-sound");
        assert_eq!(doc["outcome"], "ok");
        assert_eq!(doc["Runs"], 1);
        assert_eq!(doc["Failures"], 0);
        assert_eq!(doc["Attempts"], 2);
        assert_eq!(doc["Bytes"], 2048);
        assert_eq!(doc["EndToEndLatency"], 3500);
        assert_eq!(doc["_aws"]["Timestamp"], 1_800_000_003_500u64);
        let failed = emf(&outcome(Status::Failed(ErrorKind::Permanent)), 3, now).unwrap();
        assert_valid_emf(&failed);
        assert_eq!(failed["Failures"], 1);
    }

    #[test]
    fn duplicates_and_unknown_sizes_are_handled() {
        let now = Utc::now();
        assert!(emf(&outcome(Status::Duplicate), 1, now).is_none());
        let mut o = outcome(Status::Succeeded);
        o.size = None;
        o.event_time = None;
        let doc = emf(&o, 1, now).unwrap();
        assert_valid_emf(&doc);
        assert!(doc.get("Bytes").is_none() && doc.get("EndToEndLatency").is_none());
    }

    #[test]
    fn runs_are_counted_in_prometheus_text() {
        let counts = RunCounts::default();
        counts.observe(&outcome(Status::Succeeded));
        counts.observe(&outcome(Status::Succeeded));
        counts.observe(&outcome(Status::Failed(ErrorKind::Permanent)));
        let mut text = String::new();
        counts.write_prometheus(&mut text);
        assert!(text.contains("# TYPE haul_stage_runs_total counter\n"), "{text}");
        assert!(
            text.contains("haul_stage_runs_total{stage=\"heart-sound\",outcome=\"ok\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("haul_stage_runs_total{stage=\"heart-sound\",outcome=\"permanent\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("haul_stage_seconds_total{stage=\"heart-sound\",outcome=\"ok\"} 0.024\n"),
            "{text}"
        );
        assert_eq!(prometheus_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
