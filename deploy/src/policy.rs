//! The SNS subscription filter policy of a stage, derived from the `[[routes]]` of
//! `haul.toml`.
//!
//! The policy has `FilterPolicyScope: MessageBody` and matches the S3 notification JSON
//! that S3 publishes to the objects topic:
//!
//! ```json
//! {"Records":{"s3":{"object":{"key":[{"suffix":".wav"},{"suffix":".WAV"}],"size":[{"numeric":["<=",67108864]}]}}}}
//! ```
//!
//! SNS filter policies are less expressive than the router, so a policy is never narrower
//! than the routes it stands for except where noted, and the stage re-checks every
//! delivery with [`haul_pipeline::router::Router`] (a delivery no route matches is
//! acknowledged as `no route`):
//!
//! - The bucket notification already filters on `storage.incoming_prefix`; a route with a
//!   longer prefix of its own and no suffixes becomes a `prefix` condition.
//! - SNS cannot AND a prefix and a suffix on one attribute: a route with both becomes its
//!   suffixes alone (broader than the route).
//! - SNS has no case-insensitive suffix: each suffix is listed lower- and upper-case
//!   (`.wav`, `.WAV`). A key with a mixed-case ending (`Heart.Wav`) matches neither, so on
//!   AWS it is **not delivered** to the stage at all, although `haul dev` and
//!   `haul replay` (whose router is case-insensitive) process it.
//! - Keys arrive URL-encoded (`+` for space), so suffixes and prefixes are encoded the same
//!   way ([`encode_key`]).
//! - `max_size` becomes `{"numeric":["<=",N]}`, but SNS compares numbers only up to 10^9:
//!   a larger `max_size` is left out of the policy (the stage's re-check enforces it).
//! - Several routes to one stage are OR'd: routes with the same size condition share one
//!   list of key conditions, different ones become branches of `$or`.
//! - A route with no condition SNS can express means the stage gets every upload: no
//!   filter policy at all.
//!
//! Content types are not part of S3 events; they are checked after delivery.

use haul_pipeline::config::HaulConfig;
use haul_pipeline::event::encode_key;
use haul_pipeline::router::{Route, Router};
use serde_json::{Value, json};

/// The largest number SNS numeric matching accepts (10^9).
pub const SNS_MAX_NUMBER: u64 = 1_000_000_000;
/// SNS's limit on the total combination of values in one filter policy.
pub const SNS_MAX_COMBINATIONS: usize = 150;

/// A route that cannot be turned into a filter policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The route's prefix lies outside `storage.incoming_prefix`, which the bucket
    /// notification filters on: its objects would never reach SNS.
    #[error(
        "stage {stage}: route prefix {prefix:?} is outside storage.incoming_prefix {incoming:?}, \
         so the bucket notification never reports its objects; use a prefix under {incoming:?}"
    )]
    PrefixOutsideIncoming {
        /// Stage name.
        stage: String,
        /// The route's prefix.
        prefix: String,
        /// `storage.incoming_prefix`.
        incoming: String,
    },
    /// The policy has more value combinations than SNS accepts.
    #[error(
        "stage {stage}: its filter policy has {combinations} value combinations, above SNS's limit \
         of {SNS_MAX_COMBINATIONS}; list fewer suffixes"
    )]
    TooComplex {
        /// Stage name.
        stage: String,
        /// The policy's combinations.
        combinations: usize,
    },
}

/// The filter policy of one stage, with what it cannot express.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPolicy {
    /// The policy (`FilterPolicyScope: MessageBody`); `None`: the stage gets every upload.
    pub policy: Option<Value>,
    /// Where the policy is broader than the routes (the stage's re-check catches those).
    pub notes: Vec<String>,
}

/// The stages the routes name, each once, in the order of their first route.
pub fn routed_stages(config: &HaulConfig) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for route in &config.routes {
        if !out.contains(&route.stage) {
            out.push(route.stage.clone());
        }
    }
    out
}

/// One route's conditions, as SNS can express them.
struct Branch {
    /// Key conditions OR'd together; `None`: any key.
    key: Option<Vec<Value>>,
    /// `<=` bound on the size; `None`: any size.
    size: Option<u64>,
}

/// The filter policy of `stage` from the routes naming it (none: `policy` is `None`).
pub fn filter_policy(config: &HaulConfig, stage: &str) -> Result<FilterPolicy, PolicyError> {
    let router = Router::new(config);
    let incoming = &config.storage.incoming_prefix;
    let mut notes = Vec::new();
    let mut branches = Vec::new();
    for route in router.routes().iter().filter(|r| r.stage == stage) {
        branches.push(branch(route, incoming, &mut notes)?);
    }
    if branches.is_empty() || branches.iter().any(|b| b.key.is_none() && b.size.is_none()) {
        return Ok(FilterPolicy { policy: None, notes });
    }
    // Routes with the same size bound share one list of key conditions.
    let mut groups: Vec<Branch> = Vec::new();
    for b in branches {
        match groups.iter_mut().find(|g| g.size == b.size) {
            None => groups.push(b),
            Some(group) => match (&mut group.key, b.key) {
                (Some(keys), Some(more)) => {
                    for k in more {
                        if !keys.contains(&k) {
                            keys.push(k);
                        }
                    }
                }
                (keys, _) => *keys = None,
            },
        }
    }
    let mut members: Vec<Value> = groups.iter().map(member).collect();
    let policy = if members.len() == 1 {
        members.remove(0)
    } else {
        json!({ "$or": members })
    };
    let combinations = complexity(&policy);
    if combinations > SNS_MAX_COMBINATIONS {
        return Err(PolicyError::TooComplex {
            stage: stage.to_owned(),
            combinations,
        });
    }
    Ok(FilterPolicy {
        policy: Some(policy),
        notes,
    })
}

fn branch(route: &Route, incoming: &str, notes: &mut Vec<String>) -> Result<Branch, PolicyError> {
    let stage = &route.stage;
    let prefix = if incoming.starts_with(&route.prefix) {
        None // every notified key has it
    } else if route.prefix.starts_with(incoming) {
        Some(route.prefix.as_str())
    } else {
        return Err(PolicyError::PrefixOutsideIncoming {
            stage: stage.clone(),
            prefix: route.prefix.clone(),
            incoming: incoming.to_owned(),
        });
    };
    let key = if !route.suffixes.is_empty() {
        if let Some(p) = prefix {
            notes.push(format!(
                "stage {stage}: the route's prefix {p:?} is dropped from the filter policy (SNS cannot \
                 combine a prefix and a suffix on one key); the stage re-checks it"
            ));
        }
        Some(suffix_conditions(&route.suffixes))
    } else {
        prefix.map(|p| vec![json!({ "prefix": encode_key(p) })])
    };
    let size = match route.max_size {
        Some(max) if max.bytes() <= SNS_MAX_NUMBER => Some(max.bytes()),
        Some(max) => {
            notes.push(format!(
                "stage {stage}: max_size {max} is above SNS's numeric limit (10^9), so the filter \
                 policy has no size condition; the stage re-checks it"
            ));
            None
        }
        None => None,
    };
    Ok(Branch { key, size })
}

/// `{"suffix": ...}` for the lower- and upper-case form of each suffix, URL-encoded.
fn suffix_conditions(suffixes: &[String]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for s in suffixes {
        for form in [s.to_ascii_lowercase(), s.to_ascii_uppercase()] {
            let cond = json!({ "suffix": encode_key(&form) });
            if !out.contains(&cond) {
                out.push(cond);
            }
        }
    }
    out
}

fn member(group: &Branch) -> Value {
    let mut object = serde_json::Map::new();
    if let Some(keys) = &group.key {
        object.insert("key".to_owned(), Value::Array(keys.clone()));
    }
    if let Some(max) = group.size {
        object.insert("size".to_owned(), json!([{ "numeric": ["<=", max] }]));
    }
    json!({ "Records": { "s3": { "object": object } } })
}

/// SNS's measure of a policy: the product of the lengths of its condition lists, summed
/// over the branches of `$or`.
pub fn complexity(policy: &Value) -> usize {
    match policy {
        Value::Object(map) => {
            let mut product = 1usize;
            let mut alternatives = 0usize;
            for (k, v) in map {
                match v {
                    Value::Array(members) if k == "$or" => {
                        alternatives += members.iter().map(complexity).sum::<usize>();
                    }
                    Value::Array(conditions) => product = product.saturating_mul(conditions.len()),
                    nested => product = product.saturating_mul(complexity(nested)),
                }
            }
            if alternatives > 0 {
                product.saturating_mul(alternatives)
            } else {
                product
            }
        }
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(toml: &str, stage: &str) -> FilterPolicy {
        let config = HaulConfig::from_toml(toml, "test").unwrap();
        filter_policy(&config, stage).unwrap()
    }

    fn object(p: &FilterPolicy) -> &Value {
        &p.policy.as_ref().expect("a policy")["Records"]["s3"]["object"]
    }

    #[test]
    fn suffixes_become_lower_and_upper_case_suffix_conditions() {
        let p = policy("[[routes]]\nstage = \"a\"\nsuffixes = [\".wav\", \".FLAC\"]\n", "a");
        assert_eq!(
            p.policy,
            Some(json!({"Records": {"s3": {"object": {"key": [
                {"suffix": ".wav"}, {"suffix": ".WAV"}, {"suffix": ".flac"}, {"suffix": ".FLAC"}
            ]}}}}))
        );
        assert!(p.notes.is_empty());
    }

    #[test]
    fn suffixes_are_url_encoded_like_notification_keys() {
        let p = policy(
            "[[routes]]\nstage = \"a\"\nsuffixes = [\" final.bin\", \"+1.dat\", \"é.txt\"]\n",
            "a",
        );
        let keys = &object(&p)["key"];
        assert_eq!(keys[0], json!({"suffix": "+final.bin"}));
        assert_eq!(keys[1], json!({"suffix": "+FINAL.BIN"}));
        assert_eq!(keys[2], json!({"suffix": "%2B1.dat"}));
        assert_eq!(keys[4], json!({"suffix": "%C3%A9.txt"}), "non-ASCII is not upper-cased");
    }

    #[test]
    fn suffixes_without_letters_are_listed_once() {
        let p = policy("[[routes]]\nstage = \"a\"\nsuffixes = [\"_1\"]\n", "a");
        assert_eq!(object(&p)["key"], json!([{"suffix": "_1"}]));
    }

    #[test]
    fn a_custom_prefix_without_suffixes_is_a_prefix_condition() {
        let p = policy("[[routes]]\nstage = \"a\"\nprefix = \"incoming/cam 1/\"\n", "a");
        assert_eq!(object(&p)["key"], json!([{"prefix": "incoming/cam+1/"}]));
    }

    #[test]
    fn the_incoming_prefix_itself_needs_no_condition() {
        for prefix in ["incoming/", "inc"] {
            let p = policy(&format!("[[routes]]\nstage = \"a\"\nprefix = \"{prefix}\"\n"), "a");
            assert_eq!(p.policy, None, "{prefix}");
        }
    }

    #[test]
    fn a_prefix_and_suffixes_use_the_suffixes_and_say_so() {
        let p = policy(
            "[[routes]]\nstage = \"a\"\nprefix = \"incoming/cam-\"\nsuffixes = [\".jpg\"]\n",
            "a",
        );
        assert_eq!(object(&p)["key"], json!([{"suffix": ".jpg"}, {"suffix": ".JPG"}]));
        assert!(p.notes[0].contains("incoming/cam-"), "{:?}", p.notes);
    }

    #[test]
    fn a_prefix_outside_incoming_is_an_error() {
        let config = HaulConfig::from_toml("[[routes]]\nstage = \"a\"\nprefix = \"uploads/\"\n", "t").unwrap();
        let err = filter_policy(&config, "a").unwrap_err();
        assert!(matches!(err, PolicyError::PrefixOutsideIncoming { .. }), "{err}");
        assert!(err.to_string().contains("uploads/"));
    }

    #[test]
    fn max_size_becomes_a_numeric_condition() {
        let p = policy(
            "[[routes]]\nstage = \"a\"\nsuffixes = [\".jpg\"]\nmax_size = \"64MiB\"\n",
            "a",
        );
        assert_eq!(object(&p)["size"], json!([{"numeric": ["<=", 67108864]}]));
        let p = policy("[[routes]]\nstage = \"a\"\nmax_size = 1000\n", "a");
        assert_eq!(
            p.policy,
            Some(json!({"Records": {"s3": {"object": {"size": [{"numeric": ["<=", 1000]}]}}}}))
        );
    }

    #[test]
    fn max_size_above_the_sns_limit_is_left_out_and_noted() {
        let p = policy(
            "[[routes]]\nstage = \"a\"\nsuffixes = [\".wav\"]\nmax_size = \"2GiB\"\n",
            "a",
        );
        assert_eq!(object(&p).get("size"), None);
        assert!(p.notes[0].contains("2 GiB"), "{:?}", p.notes);
        let p = policy("[[routes]]\nstage = \"a\"\nmax_size = \"2GiB\"\n", "a");
        assert_eq!(p.policy, None, "nothing left to filter on");
    }

    #[test]
    fn a_route_without_conditions_means_no_policy() {
        let p = policy(
            "[[routes]]\nstage = \"a\"\nsuffixes = [\".wav\"]\n[[routes]]\nstage = \"a\"\n",
            "a",
        );
        assert_eq!(p.policy, None);
        assert_eq!(policy("[[routes]]\nstage = \"a\"\n", "b").policy, None, "no route");
    }

    #[test]
    fn routes_with_the_same_shape_share_one_list() {
        let toml = "[[routes]]\nstage = \"a\"\nsuffixes = [\".wav\"]\n[[routes]]\nstage = \"a\"\nprefix = \"incoming/x/\"\n[[routes]]\nstage = \"b\"\nsuffixes = [\".wav\"]\n";
        let p = policy(toml, "a");
        assert_eq!(
            object(&p)["key"],
            json!([{"suffix": ".wav"}, {"suffix": ".WAV"}, {"prefix": "incoming/x/"}])
        );
    }

    #[test]
    fn routes_with_different_size_bounds_are_ored() {
        let toml = "[[routes]]\nstage = \"a\"\nsuffixes = [\".jpg\"]\nmax_size = 100\n[[routes]]\nstage = \"a\"\nsuffixes = [\".png\"]\n";
        let p = policy(toml, "a");
        assert_eq!(
            p.policy,
            Some(json!({"$or": [
                {"Records": {"s3": {"object": {"key": [{"suffix": ".jpg"}, {"suffix": ".JPG"}], "size": [{"numeric": ["<=", 100]}]}}}},
                {"Records": {"s3": {"object": {"key": [{"suffix": ".png"}, {"suffix": ".PNG"}]}}}}
            ]}))
        );
        assert_eq!(complexity(p.policy.as_ref().unwrap()), 4);
    }

    #[test]
    fn a_key_condition_absorbed_by_any_key_keeps_the_size_bound() {
        let toml = "[[routes]]\nstage = \"a\"\nsuffixes = [\".jpg\"]\nmax_size = 100\n[[routes]]\nstage = \"a\"\nmax_size = 100\n";
        let p = policy(toml, "a");
        assert_eq!(
            p.policy,
            Some(json!({"Records": {"s3": {"object": {"size": [{"numeric": ["<=", 100]}]}}}}))
        );
    }

    #[test]
    fn too_many_suffixes_are_refused() {
        let suffixes: Vec<String> = (0..80).map(|i| format!("\".x{i}\"")).collect();
        let toml = format!("[[routes]]\nstage = \"a\"\nsuffixes = [{}]\n", suffixes.join(","));
        let config = HaulConfig::from_toml(&toml, "t").unwrap();
        let err = filter_policy(&config, "a").unwrap_err();
        assert_eq!(
            err,
            PolicyError::TooComplex {
                stage: "a".into(),
                combinations: 160
            }
        );
    }

    #[test]
    fn routed_stages_are_listed_once_in_route_order() {
        let toml = "[[routes]]\nstage = \"b\"\n[[routes]]\nstage = \"a\"\n[[routes]]\nstage = \"b\"\n";
        let config = HaulConfig::from_toml(toml, "t").unwrap();
        assert_eq!(routed_stages(&config), ["b", "a"]);
    }
}
