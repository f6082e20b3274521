//! `haul.toml`: routes, storage names and per-stage settings.
//!
//! Every table rejects unknown fields; every field has a documented default. Stage options
//! (any key under `[stages.NAME]` that is not a framework setting) are checked by the stage
//! itself when it is built, so a typo there is an error too.

mod presign;
mod size;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use presign::{PresignConfig, RATE_LIMIT_PREFIX};
pub use size::ByteSize;

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HaulConfig {
    /// Bucket and key prefixes.
    #[serde(default)]
    pub storage: StorageConfig,
    /// Which stage gets which objects. An object may match several routes: each matching
    /// stage processes it.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// Settings per stage name (timeout, concurrency, retries, and the stage's options).
    #[serde(default)]
    pub stages: BTreeMap<String, StageSettings>,
    /// What devices may upload, and how URLs are signed.
    #[serde(default)]
    pub presign: PresignConfig,
}

/// `[storage]`: names of the bucket and the prefixes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// The bucket devices upload to. Default `haul-data`. Env: `HAUL_BUCKET`.
    pub bucket: String,
    /// Where uploads land: `{incoming_prefix}{device}/{yyyy}/{mm}/{dd}/{request_id}/{name}`.
    /// Default `incoming/`. Env: `HAUL_INCOMING_PREFIX`.
    pub incoming_prefix: String,
    /// Where results are written: `{results_prefix}{stage}/{source key}.json`.
    /// Default `results/`. Env: `HAUL_RESULTS_PREFIX`.
    pub results_prefix: String,
    /// Bucket for results; default: the bucket of the source object. Env: `HAUL_RESULTS_BUCKET`.
    pub results_bucket: Option<String>,
    /// AWS region of the bucket. Default `us-east-1`. Env: `HAUL_REGION`.
    pub region: String,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            bucket: "haul-data".to_owned(),
            incoming_prefix: "incoming/".to_owned(),
            results_prefix: "results/".to_owned(),
            results_bucket: None,
            region: "us-east-1".to_owned(),
        }
    }
}

/// `[[routes]]`: objects that match all given conditions go to `stage`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The stage's name (required).
    pub stage: String,
    /// Key prefix; default: `storage.incoming_prefix`.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Key suffixes, matched case-insensitively (`.wav` matches `A.WAV`); empty: any key.
    #[serde(default)]
    pub suffixes: Vec<String>,
    /// Content types (`audio/wav`, `audio/*`); empty: any. S3 events carry no content
    /// type, so this is checked after delivery (HEAD), not in SNS filter policies, and
    /// presign accepts only uploads whose type some route allows.
    #[serde(default)]
    pub content_types: Vec<String>,
    /// Largest object the route accepts; default: no limit.
    #[serde(default)]
    pub max_size: Option<ByteSize>,
}

/// `[stages.NAME]`: framework settings for one stage, plus the stage's own options.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct StageSettings {
    /// How long one object may take before the attempt is abandoned (retryable).
    /// Default `5m`. Written like `90s`, `15m`, `1h`.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Objects processed at the same time by this stage. Default 4.
    pub concurrency: usize,
    /// Deliveries before an event goes to the dead-letter queue (SQS `maxReceiveCount`,
    /// local queue). Default 3.
    pub max_receive_count: u32,
    /// The stage's own options (every other key); checked by the stage.
    #[serde(flatten)]
    pub options: toml::Table,
}

impl Default for StageSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(300),
            concurrency: 4,
            max_receive_count: 3,
            options: toml::Table::new(),
        }
    }
}

/// A configuration problem, naming the file, field or variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown/mistyped fields.
    #[error("config {origin}: {message}")]
    Parse {
        /// The file, or `embedded defaults`.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value is not acceptable.
    #[error("config field {field}: {message}")]
    Invalid {
        /// Where (`routes[2].suffixes`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

impl HaulConfig {
    /// Parses a TOML document; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Applies `HAUL_*` environment variables (used on Lambda, where there is no file to
    /// edit): `HAUL_BUCKET`, `HAUL_INCOMING_PREFIX`, `HAUL_RESULTS_PREFIX`,
    /// `HAUL_RESULTS_BUCKET`, `HAUL_REGION`, `HAUL_PRESIGN_MAX_SIZE`,
    /// `HAUL_PRESIGN_MULTIPART_THRESHOLD`, `HAUL_PRESIGN_EXPIRY`. Empty values are ignored;
    /// a malformed one is an error naming the variable.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut next = self.clone();
        let s = &mut next.storage;
        if let Some(v) = get("HAUL_BUCKET") {
            s.bucket = v;
        }
        if let Some(v) = get("HAUL_INCOMING_PREFIX") {
            s.incoming_prefix = v;
        }
        if let Some(v) = get("HAUL_RESULTS_PREFIX") {
            s.results_prefix = v;
        }
        if let Some(v) = get("HAUL_RESULTS_BUCKET") {
            s.results_bucket = Some(v);
        }
        if let Some(v) = get("HAUL_REGION") {
            s.region = v;
        }
        let p = &mut next.presign;
        let size = |name: &str, v: String| v.parse::<ByteSize>().map_err(|e| invalid(name, e));
        let duration =
            |name: &str, v: String| humantime::parse_duration(&v).map_err(|e| invalid(name, format!("{v:?}: {e}")));
        if let Some(v) = get("HAUL_PRESIGN_MAX_SIZE") {
            p.max_size = size("HAUL_PRESIGN_MAX_SIZE", v)?;
        }
        if let Some(v) = get("HAUL_PRESIGN_MULTIPART_THRESHOLD") {
            p.multipart_threshold = size("HAUL_PRESIGN_MULTIPART_THRESHOLD", v)?;
        }
        if let Some(v) = get("HAUL_PRESIGN_EXPIRY") {
            p.expiry = duration("HAUL_PRESIGN_EXPIRY", v)?;
        }
        next.validate()?;
        *self = next;
        Ok(())
    }

    /// The settings of a stage (defaults when it has no `[stages.NAME]` table).
    pub fn stage_settings(&self, stage: &str) -> StageSettings {
        self.stages.get(stage).cloned().unwrap_or_default()
    }

    /// The prefix a route applies to.
    pub fn route_prefix<'a>(&'a self, route: &'a RouteConfig) -> &'a str {
        route.prefix.as_deref().unwrap_or(&self.storage.incoming_prefix)
    }

    /// Checks values that TOML types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.storage;
        if !valid_bucket(&s.bucket) {
            return Err(invalid(
                "storage.bucket",
                format!("{:?} is not a valid bucket name", s.bucket),
            ));
        }
        for (field, prefix) in [
            ("storage.incoming_prefix", &s.incoming_prefix),
            ("storage.results_prefix", &s.results_prefix),
        ] {
            if prefix.is_empty() || !prefix.ends_with('/') || prefix.starts_with('/') {
                return Err(invalid(
                    field,
                    format!("{prefix:?} must be non-empty, end with `/` and not start with `/`"),
                ));
            }
        }
        if s.incoming_prefix.starts_with(&s.results_prefix) || s.results_prefix.starts_with(&s.incoming_prefix) {
            return Err(invalid(
                "storage.results_prefix",
                "must not overlap storage.incoming_prefix (results would be routed as uploads)",
            ));
        }
        for (field, prefix) in [
            ("storage.incoming_prefix", &s.incoming_prefix),
            ("storage.results_prefix", &s.results_prefix),
        ] {
            if prefix.starts_with(RATE_LIMIT_PREFIX) || RATE_LIMIT_PREFIX.starts_with(prefix.as_str()) {
                return Err(invalid(
                    field,
                    format!(
                        "{prefix:?} must not overlap {RATE_LIMIT_PREFIX:?}, where the presign function counts requests"
                    ),
                ));
            }
        }
        for (i, route) in self.routes.iter().enumerate() {
            validate_route(i, route, self)?;
        }
        self.presign.validate()?;
        for (name, settings) in &self.stages {
            if settings.timeout.is_zero() {
                return Err(invalid(format!("stages.{name}.timeout"), "must be above zero"));
            }
            if settings.concurrency == 0 {
                return Err(invalid(format!("stages.{name}.concurrency"), "must be at least 1"));
            }
            if settings.max_receive_count == 0 {
                return Err(invalid(
                    format!("stages.{name}.max_receive_count"),
                    "must be at least 1",
                ));
            }
        }
        Ok(())
    }
}

fn validate_route(i: usize, route: &RouteConfig, config: &HaulConfig) -> Result<(), ConfigError> {
    let at = |f: &str| format!("routes[{i}].{f}");
    if route.stage.is_empty()
        || !route
            .stage
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(invalid(
            at("stage"),
            format!("{:?} must be kebab-case (a-z, 0-9, -)", route.stage),
        ));
    }
    let prefix = config.route_prefix(route);
    if prefix.starts_with('/') {
        return Err(invalid(at("prefix"), format!("{prefix:?} must not start with `/`")));
    }
    if prefix.starts_with(&config.storage.results_prefix) {
        return Err(invalid(
            at("prefix"),
            format!("{prefix:?} is inside results_prefix: results would trigger stages"),
        ));
    }
    if let Some(s) = route.suffixes.iter().find(|s| s.is_empty()) {
        return Err(invalid(
            at("suffixes"),
            format!("{s:?}: an empty suffix matches everything; leave the list empty instead"),
        ));
    }
    for ct in &route.content_types {
        let ok = ct
            .split_once('/')
            .is_some_and(|(t, s)| !t.is_empty() && !s.is_empty() && !ct.contains(char::is_whitespace));
        if !ok {
            return Err(invalid(
                at("content_types"),
                format!("{ct:?} is not a MIME type like audio/wav or audio/*"),
            ));
        }
    }
    if route.max_size == Some(ByteSize(0)) {
        return Err(invalid(at("max_size"), "must be above zero"));
    }
    Ok(())
}

/// S3 bucket naming rules (3-63 characters, lower-case letters, digits, `-` and `.`).
fn valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        [storage]
        bucket = "my-bucket"

        [[routes]]
        stage = "heart-sound"
        suffixes = [".wav", ".flac"]
        content_types = ["audio/*"]
        max_size = "2GiB"

        [stages.heart-sound]
        timeout = "10m"
        concurrency = 2
        min_quality = 0.3
    "#;

    #[test]
    fn accepts_a_documented_example() {
        let c = HaulConfig::from_toml(GOOD, "test").unwrap();
        assert_eq!(c.storage.bucket, "my-bucket");
        assert_eq!(c.storage.results_prefix, "results/");
        assert_eq!(c.routes[0].max_size, Some(ByteSize(2 << 30)));
        let s = c.stage_settings("heart-sound");
        assert_eq!(s.timeout, Duration::from_secs(600));
        assert_eq!(s.max_receive_count, 3);
        assert_eq!(s.options.get("min_quality").and_then(|v| v.as_float()), Some(0.3));
        assert_eq!(c.route_prefix(&c.routes[0]), "incoming/");
    }

    #[test]
    fn rejects_unknown_fields_with_their_name() {
        let err = HaulConfig::from_toml("[[routes]]\nstage = \"x\"\nsufixes = [\".wav\"]\n", "t").unwrap_err();
        assert!(err.to_string().contains("sufixes"), "{err}");
        let err = HaulConfig::from_toml("[storage]\nbuckett = \"x\"\n", "t").unwrap_err();
        assert!(err.to_string().contains("buckett"), "{err}");
    }

    #[test]
    fn rejects_bad_values() {
        for (doc, needle) in [
            ("[storage]\nbucket = \"Bad_Bucket\"", "storage.bucket"),
            ("[storage]\nresults_prefix = \"incoming/r/\"", "overlap"),
            ("[storage]\nincoming_prefix = \"rate-limit/in/\"", "counts requests"),
            ("[[routes]]\nstage = \"Heart Sound\"", "kebab-case"),
            ("[[routes]]\nstage = \"x\"\nsuffixes = [\"\"]", "empty suffix"),
            ("[[routes]]\nstage = \"x\"\ncontent_types = [\"audio\"]", "MIME"),
            ("[[routes]]\nstage = \"x\"\nprefix = \"results/a/\"", "results"),
            ("[stages.x]\nconcurrency = 0", "concurrency"),
            ("[stages.x]\ntimeout = \"soon\"", "timeout"),
        ] {
            let err = HaulConfig::from_toml(doc, "t").unwrap_err().to_string();
            assert!(err.contains(needle), "{doc:?}: {err}");
        }
    }

    #[test]
    fn env_overrides_storage_names() {
        let mut c = HaulConfig::from_toml(GOOD, "t").unwrap();
        c.apply_env(|k| match k {
            "HAUL_BUCKET" => Some("from-env".into()),
            "HAUL_RESULTS_PREFIX" => Some("".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.storage.bucket, "from-env");
        assert_eq!(c.storage.results_prefix, "results/");
        let err = c.apply_env(|k| (k == "HAUL_BUCKET").then(|| "NO".into())).unwrap_err();
        assert!(err.to_string().contains("\"NO\""), "{err}");
        c.apply_env(|k| (k == "HAUL_PRESIGN_EXPIRY").then(|| "30m".into()))
            .unwrap();
        assert_eq!(c.presign.expiry, Duration::from_secs(1800));
        let err = c
            .apply_env(|k| (k == "HAUL_PRESIGN_MAX_SIZE").then(|| "lots".into()))
            .unwrap_err();
        assert!(err.to_string().contains("HAUL_PRESIGN_MAX_SIZE"), "{err}");
    }
}
