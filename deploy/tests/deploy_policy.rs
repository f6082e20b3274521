//! The SNS filter policies against the router, key by key: a policy never drops an upload
//! the routes send to its stage (except the documented mixed-case ending), and where it is
//! broader than the routes, the plan says so.
//!
//! The policies are evaluated by a small model of SNS payload filtering (MessageBody
//! scope: nested keys, any element of an array, `suffix`, `prefix`, `numeric`, `$or`) on
//! real S3 notification JSON (`haul_pipeline::event::notification_json`, keys URL-encoded).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use haul_deploy::filter_policy;
use haul_pipeline::config::HaulConfig;
use haul_pipeline::event::{ObjectEvent, Origin, notification_json};
use haul_pipeline::router::Router;
use serde_json::Value;

/// SNS MessageBody matching, as AWS documents it.
fn matches(policy: &Value, doc: &Value) -> bool {
    let Value::Object(conditions) = policy else {
        return false;
    };
    conditions.iter().all(|(key, cond)| {
        if key == "$or" {
            return cond
                .as_array()
                .is_some_and(|members| members.iter().any(|m| matches(m, doc)));
        }
        let values = lookup(doc, key);
        match cond {
            Value::Object(_) => values.iter().any(|v| matches(cond, v)),
            Value::Array(rules) => values.iter().any(|v| rules.iter().any(|r| rule(r, v))),
            _ => false,
        }
    })
}

/// The values at `key`, looking through arrays on both sides.
fn lookup<'a>(doc: &'a Value, key: &str) -> Vec<&'a Value> {
    match doc {
        Value::Array(items) => items.iter().flat_map(|i| lookup(i, key)).collect(),
        Value::Object(map) => match map.get(key) {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(v) => vec![v],
            None => vec![],
        },
        _ => vec![],
    }
}

fn rule(rule: &Value, v: &Value) -> bool {
    if let Some(s) = rule.get("suffix").and_then(Value::as_str) {
        return v.as_str().is_some_and(|x| x.ends_with(s));
    }
    if let Some(s) = rule.get("prefix").and_then(Value::as_str) {
        return v.as_str().is_some_and(|x| x.starts_with(s));
    }
    if let Some([op, bound]) = rule.get("numeric").and_then(Value::as_array).map(Vec::as_slice) {
        let (Some(x), Some(b)) = (v.as_f64(), bound.as_f64()) else {
            return false;
        };
        return match op.as_str() {
            Some("<=") => x <= b,
            Some("<") => x < b,
            Some(">=") => x >= b,
            Some(">") => x > b,
            Some("=") => x == b,
            _ => false,
        };
    }
    rule == v
}

fn notification(key: &str, size: u64) -> Value {
    let event = ObjectEvent {
        bucket: "haul-data".into(),
        key: key.into(),
        size: Some(size),
        etag: Some("e".into()),
        version_id: None,
        sequencer: Some("01".into()),
        event_name: "ObjectCreated:Put".into(),
        event_time: None,
        origin: Origin::S3Notification,
    };
    serde_json::from_str(&notification_json(&[event], "us-east-1")).unwrap()
}

/// Keys under incoming/ with every ending the configs below route, in lower, upper and
/// mixed case, with spaces, `+` and non-ASCII names.
fn keys() -> Vec<String> {
    let names = ["heart", "red flower", "a+b", "心音", "x.wav.bak", "noext"];
    let endings = [
        "",
        ".wav",
        ".WAV",
        ".Wav",
        ".flac",
        ".mf4",
        ".MDF",
        ".rec",
        ".jpg",
        ".JPEG",
        ".png",
        ".webp",
        ".ogg",
        ".oga",
        ".bin",
        " final.bin",
        ".tar.gz",
    ];
    let dirs = ["incoming/dev-1/2026/11/26/r1/", "incoming/cam 1/2026/11/26/r2/"];
    let mut out = Vec::new();
    for dir in dirs {
        for name in names {
            for end in endings {
                out.push(format!("{dir}{name}{end}"));
            }
        }
    }
    out
}

fn mixed_case_ending(key: &str, suffixes: &[String]) -> bool {
    suffixes.iter().any(|s| {
        key.len() >= s.len()
            && key.is_char_boundary(key.len() - s.len())
            && key[key.len() - s.len()..].eq_ignore_ascii_case(s)
            && !key.ends_with(s.as_str())
            && !key.ends_with(&s.to_ascii_uppercase())
    })
}

fn check(config: &HaulConfig) -> usize {
    let router = Router::new(config);
    let sizes = [0, 1000, 64 << 20, (64 << 20) + 1, 3 << 30];
    let mut checked = 0;
    for stage in haul_deploy::routed_stages(config) {
        let fp = filter_policy(config, &stage).unwrap();
        let suffixes: Vec<String> = router
            .routes()
            .iter()
            .filter(|r| r.stage == stage)
            .flat_map(|r| r.suffixes.clone())
            .collect();
        for key in keys() {
            for size in sizes {
                let routed = router.stages_for(&key, Some(size), None).contains(&stage.as_str());
                let delivered = fp.policy.as_ref().is_none_or(|p| matches(p, &notification(&key, size)));
                if routed && !delivered {
                    assert!(
                        mixed_case_ending(&key, &suffixes),
                        "stage {stage} loses {key:?} ({size} B)"
                    );
                }
                if delivered && !routed {
                    assert!(
                        !fp.notes.is_empty() || fp.policy.is_none(),
                        "stage {stage} gets {key:?} ({size} B) unnoted"
                    );
                }
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn the_haul_binarys_policies_deliver_what_its_routes_route() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../stages/haul/haul.toml");
    let config = HaulConfig::from_file(&path).unwrap();
    assert!(check(&config) > 1000);
}

#[test]
fn prefixes_sizes_and_several_routes_deliver_what_the_routes_route() {
    let config = HaulConfig::from_toml(
        r#"
        [[routes]]
        stage = "cam"
        prefix = "incoming/cam 1/"
        [[routes]]
        stage = "cam"
        suffixes = [".png"]
        max_size = "64MiB"
        [[routes]]
        stage = "both"
        prefix = "incoming/cam 1/"
        suffixes = [" final.bin", ".tar.gz"]
        [[routes]]
        stage = "small"
        max_size = 1000
        "#,
        "t",
    )
    .unwrap();
    assert!(check(&config) > 1000);
}

#[test]
fn the_model_rejects_what_sns_would_reject() {
    let policy = serde_json::json!({"Records": {"s3": {"object": {"key": [{"suffix": ".wav"}]}}}});
    assert!(matches(&policy, &notification("incoming/a.wav", 1)));
    assert!(!matches(&policy, &notification("incoming/a.WAV", 1)), "case-sensitive");
    assert!(
        !matches(&policy, &serde_json::json!({"Event": "s3:TestEvent"})),
        "TestEvent has no Records"
    );
    let spaced = serde_json::json!({"Records": {"s3": {"object": {"key": [{"suffix": "+final.bin"}]}}}});
    assert!(
        matches(&spaced, &notification("incoming/a final.bin", 1)),
        "keys arrive with + for space"
    );
}
