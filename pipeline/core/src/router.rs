//! Which stages an object goes to, from the `[[routes]]` of `haul.toml`.

use crate::config::{ByteSize, HaulConfig};
use crate::content_type;

/// One route, with its prefix resolved and its suffixes lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Stage name.
    pub stage: String,
    /// Key prefix.
    pub prefix: String,
    /// Lower-case key suffixes; empty: any.
    pub suffixes: Vec<String>,
    /// Content type patterns; empty: any.
    pub content_types: Vec<String>,
    /// Size limit.
    pub max_size: Option<ByteSize>,
}

impl Route {
    /// Whether the key, and the size when known, satisfy this route (everything but the
    /// content type).
    pub fn matches_key(&self, key: &str, size: Option<u64>) -> bool {
        if !key.starts_with(&self.prefix) {
            return false;
        }
        if !self.suffixes.is_empty() && !self.suffixes.iter().any(|s| ends_with_ignore_case(key, s)) {
            return false;
        }
        match (self.max_size, size) {
            (Some(max), Some(size)) => size <= max.bytes(),
            _ => true,
        }
    }

    /// Whether a content type satisfies this route.
    pub fn matches_content_type(&self, content_type: &str) -> bool {
        self.content_types.is_empty()
            || self
                .content_types
                .iter()
                .any(|p| content_type::matches(p, content_type))
    }
}

fn ends_with_ignore_case(key: &str, suffix: &str) -> bool {
    key.len() >= suffix.len()
        && key.is_char_boundary(key.len() - suffix.len())
        && key[key.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// The routing table.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// The routes of a configuration, in file order.
    pub fn new(config: &HaulConfig) -> Self {
        let routes = config
            .routes
            .iter()
            .map(|r| Route {
                stage: r.stage.clone(),
                prefix: config.route_prefix(r).to_owned(),
                suffixes: r.suffixes.iter().map(|s| s.to_ascii_lowercase()).collect(),
                content_types: r.content_types.clone(),
                max_size: r.max_size,
            })
            .collect();
        Self { routes }
    }

    /// All routes.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Routes whose key, prefix and size conditions match; each stage at most once. The
    /// caller checks [`Route::matches_content_type`] where a route lists content types.
    pub fn candidates(&self, key: &str, size: Option<u64>) -> Vec<&Route> {
        let mut out: Vec<&Route> = Vec::new();
        for route in &self.routes {
            if route.matches_key(key, size) && !out.iter().any(|r| r.stage == route.stage) {
                out.push(route);
            }
        }
        out
    }

    /// The stages an object goes to, when its content type is known (or `None` to ignore
    /// content-type conditions).
    pub fn stages_for(&self, key: &str, size: Option<u64>, content_type: Option<&str>) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for route in &self.routes {
            let ct_ok = content_type.is_none_or(|ct| route.matches_content_type(ct));
            if route.matches_key(key, size) && ct_ok && !out.contains(&route.stage.as_str()) {
                out.push(&route.stage);
            }
        }
        out
    }

    /// Whether any route accepts a content type (used by presign to refuse uploads no
    /// stage wants).
    pub fn accepts_content_type(&self, content_type: &str) -> bool {
        self.routes.iter().any(|r| r.matches_content_type(content_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let config = HaulConfig::from_toml(
            r#"
            [[routes]]
            stage = "checksum"
            [[routes]]
            stage = "heart-sound"
            suffixes = [".wav", ".FLAC"]
            content_types = ["audio/*"]
            max_size = 1000
            [[routes]]
            stage = "plate"
            prefix = "incoming/cam-"
            suffixes = [".jpg"]
            "#,
            "t",
        )
        .unwrap();
        Router::new(&config)
    }

    #[test]
    fn keys_route_by_prefix_suffix_and_size() {
        let r = router();
        assert_eq!(
            r.stages_for("incoming/d/a.WAV", Some(10), None),
            ["checksum", "heart-sound"]
        );
        assert_eq!(r.stages_for("incoming/d/a.flac", Some(5000), None), ["checksum"]);
        assert_eq!(r.stages_for("incoming/cam-1/x.jpg", None, None), ["checksum", "plate"]);
        assert_eq!(r.stages_for("incoming/dev/x.jpg", None, None), ["checksum"]);
        assert!(r.stages_for("results/checksum/x.json", None, None).is_empty());
    }

    #[test]
    fn content_types_filter_when_known() {
        let r = router();
        assert_eq!(
            r.stages_for("incoming/d/a.wav", Some(1), Some("image/png")),
            ["checksum"]
        );
        assert_eq!(
            r.stages_for("incoming/d/a.wav", Some(1), Some("audio/wav")),
            ["checksum", "heart-sound"]
        );
        assert!(r.accepts_content_type("application/zip"), "checksum takes any type");
    }

    #[test]
    fn multibyte_keys_do_not_panic() {
        let r = router();
        assert_eq!(
            r.stages_for("incoming/心音.wav", None, None),
            ["checksum", "heart-sound"]
        );
        assert_eq!(r.stages_for("incoming/心", None, None), ["checksum"]);
    }
}
