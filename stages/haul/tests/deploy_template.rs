//! `deploy/template.yaml` and `deploy/Makefile` are generated from the haul binary's
//! `haul.toml`: these tests regenerate them and read the committed template back with an
//! independent YAML parser, so the template, its filter policies, the routes and the
//! binary the functions run cannot drift apart.
//!
//! After changing `haul.toml` or the generator, regenerate with
//! `cargo run -p haul -- deploy template --out deploy/template.yaml`
//! (or run these tests with `HAUL_UPDATE_TEMPLATE=1`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use haul_deploy::{BuildTarget, filter_policy, makefile, plan, template};
use haul_pipeline::config::HaulConfig;
use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config() -> HaulConfig {
    HaulConfig::from_file(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("haul.toml"))
        .expect("the haul binary's haul.toml parses")
}

/// What every function runs: this package's binary.
fn target() -> BuildTarget {
    BuildTarget {
        package: env!("CARGO_PKG_NAME").into(),
        binary: "haul".into(),
    }
}

fn committed() -> String {
    if std::env::var_os("HAUL_UPDATE_TEMPLATE").is_some() {
        // Being rewritten by the test below: read what it writes.
        return template::build(&config(), &target())
            .expect("haul.toml deploys")
            .to_yaml();
    }
    std::fs::read_to_string(repo().join("deploy/template.yaml")).expect("deploy/template.yaml exists")
}

fn to_json(y: &Yaml) -> Value {
    match y {
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(r) => serde_json::from_str(r).unwrap_or_else(|_| panic!("real {r}")),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Null => Value::Null,
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Hash(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let Yaml::String(key) = k else {
                    panic!("non-string key {k:?}")
                };
                assert!(out.insert(key.clone(), to_json(v)).is_none(), "duplicate key {key}");
            }
            Value::Object(out)
        }
        other => panic!("unexpected YAML node {other:?}"),
    }
}

fn parsed() -> Value {
    let docs = YamlLoader::load_from_str(&committed()).expect("deploy/template.yaml is YAML");
    assert_eq!(docs.len(), 1, "one document");
    to_json(&docs[0])
}

#[test]
fn committed_template_is_what_haul_toml_generates() {
    let generated = template::build(&config(), &target())
        .expect("haul.toml deploys")
        .to_yaml();
    if std::env::var_os("HAUL_UPDATE_TEMPLATE").is_some() {
        std::fs::write(repo().join("deploy/template.yaml"), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(repo().join("deploy/template.yaml")).expect("deploy/template.yaml exists");
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(committed.lines().count().min(generated.lines().count()));
        panic!(
            "deploy/template.yaml is stale (first difference at line {}); regenerate it with\n  \
             cargo run -p haul -- deploy template --out deploy/template.yaml",
            line + 1
        );
    }
}

#[test]
fn committed_makefile_builds_the_haul_binary() {
    let generated = makefile::render(&target());
    if std::env::var_os("HAUL_UPDATE_TEMPLATE").is_some() {
        std::fs::write(repo().join("deploy/Makefile"), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(repo().join("deploy/Makefile")).expect("deploy/Makefile exists");
    assert!(
        committed == generated,
        "deploy/Makefile is stale; regenerate it with\n  cargo run -p haul -- deploy template --out deploy/template.yaml"
    );
}

#[test]
fn the_deploy_command_writes_the_template_and_its_makefile() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(["deploy", "template", "--out"])
        .arg(dir.path().join("stack/template.yaml"))
        .current_dir(dir.path())
        .env_remove("HAUL_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(dir.path().join("stack/template.yaml")).unwrap();
    assert_eq!(written, template::build(&config(), &target()).unwrap().to_yaml());
    let make = std::fs::read_to_string(dir.path().join("stack/Makefile")).unwrap();
    assert!(make.contains("HAUL_BINARY ?= haul\n"), "{make}");
}

#[test]
fn committed_template_reads_back_as_the_generated_value() {
    let generated = template::build(&config(), &target()).unwrap();
    assert_eq!(parsed(), generated.value, "the YAML emitter changed a value");
}

#[test]
fn template_filter_policies_are_the_routes_policies() {
    let config = config();
    let t = parsed();
    let resources = t["Resources"].as_object().unwrap();
    let stages = plan(&config).unwrap();
    let mut expected_subscriptions = Vec::new();
    for stage in &stages {
        let id = format!("{}Subscription", stage.id);
        let props = &resources[&id]["Properties"];
        let policy = filter_policy(&config, &stage.name).unwrap().policy;
        assert_eq!(props.get("FilterPolicy"), policy.as_ref(), "stage {}", stage.name);
        let scope = props.get("FilterPolicyScope").and_then(Value::as_str);
        assert_eq!(scope, policy.as_ref().map(|_| "MessageBody"), "stage {}", stage.name);
        assert_eq!(props["RawMessageDelivery"], true);
        assert_eq!(props["TopicArn"]["Ref"], "ObjectsTopic");
        expected_subscriptions.push(id);
    }
    let mut subscriptions: Vec<&String> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::SNS::Subscription")
        .map(|(id, _)| id)
        .collect();
    subscriptions.sort();
    expected_subscriptions.sort();
    assert_eq!(
        subscriptions,
        expected_subscriptions.iter().collect::<Vec<_>>(),
        "one per routed stage"
    );
    // The repository's routes exercise the shapes: suffixes, and none (checksum).
    assert!(
        resources["ChecksumSubscription"]["Properties"]
            .get("FilterPolicy")
            .is_none()
    );
    let plate = &resources["PlateSubscription"]["Properties"]["FilterPolicy"]["Records"]["s3"]["object"];
    assert_eq!(plate["size"], serde_json::json!([{"numeric": ["<=", 64 << 20]}]));
}

#[test]
fn stage_functions_fit_their_queues() {
    let config = config();
    let t = parsed();
    let r = &t["Resources"];
    assert_eq!(t["Globals"]["Function"]["Runtime"], "provided.al2023");
    assert_eq!(t["Globals"]["Function"]["Architectures"], serde_json::json!(["x86_64"]));
    for stage in plan(&config).unwrap() {
        let f = &r[format!("{}Function", stage.id)]["Properties"];
        let q = &r[format!("{}Queue", stage.id)]["Properties"];
        let timeout = f["Timeout"].as_u64().unwrap();
        assert!((1..=900).contains(&timeout), "{}: {timeout}", stage.name);
        assert!(
            q["VisibilityTimeout"].as_u64().unwrap() >= 6 * timeout,
            "{}",
            stage.name
        );
        let settings = config.stage_settings(&stage.name);
        assert_eq!(q["RedrivePolicy"]["maxReceiveCount"], settings.max_receive_count);
        assert_eq!(f["Handler"], stage.name.as_str());
        let event = &f["Events"]["Queue"]["Properties"];
        assert_eq!(
            event["FunctionResponseTypes"],
            serde_json::json!(["ReportBatchItemFailures"])
        );
        assert_eq!(
            r[format!("{}Function", stage.id)]["Metadata"]["BuildMethod"],
            "makefile"
        );
    }
}

/// Every object ARN a function may touch is under incoming/ or that stage's own results;
/// the presign function reads the results (to resend them) and its request counters.
#[test]
fn function_policies_reach_only_their_prefixes() {
    let config = config();
    let t = parsed();
    let uploads = format!("{}*", config.storage.incoming_prefix);
    let presign = vec![
        uploads.clone(),
        format!("{}*", config.storage.results_prefix),
        format!("{}*", haul_pipeline::config::RATE_LIMIT_PREFIX),
    ];
    let mut allowed = vec![("PresignFunction".to_owned(), presign)];
    for stage in plan(&config).unwrap() {
        let results = format!("{}{}/*", config.storage.results_prefix, stage.name);
        allowed.push((format!("{}Function", stage.id), vec![uploads.clone(), results]));
    }
    for (id, paths) in &allowed {
        let policies = &t["Resources"][id]["Properties"]["Policies"];
        assert!(
            !policies.to_string().contains("\"Resource\":\"*\""),
            "{id} grants a wildcard resource"
        );
        let mut seen = Vec::new();
        for statement in policies[0]["Statement"].as_array().unwrap() {
            let sub = statement["Resource"]["Fn::Sub"].as_str().unwrap_or_default();
            if let Some(path) = sub.strip_prefix("arn:${AWS::Partition}:s3:::${Bucket}/") {
                assert!(paths.iter().any(|p| p == path), "{id} reaches {path}");
                seen.push(path.to_owned());
            }
        }
        assert_eq!(seen.len(), paths.len(), "{id}: {seen:?}");
    }
}
