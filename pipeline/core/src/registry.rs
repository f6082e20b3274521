//! The stages a binary knows, by name, and how to build them from their options.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::config::ConfigError;
use crate::error::BoxError;
use crate::stage::{DynStage, Stage};

type Factory = Box<dyn Fn(&toml::Table) -> Result<Arc<dyn DynStage>, BoxError> + Send + Sync>;

/// The stages a binary can run. The `haul` binary registers the built-in stages; a user's
/// binary registers its own the same way.
///
/// ```
/// use haul_pipeline::prelude::*;
/// # struct Echo;
/// # impl Stage for Echo {
/// #     fn name(&self) -> &str { "echo" }
/// #     async fn process(&self, o: Object, _: &Context) -> Result<Output, StageError> {
/// #         Ok(Output::json(serde_json::json!({ "key": o.key() })))
/// #     }
/// # }
/// #[derive(serde::Deserialize, Default)]
/// #[serde(default, deny_unknown_fields)]
/// struct GreetOptions { greeting: String }
///
/// let registry = Registry::new()
///     .register(Echo)
///     .register_with("greet", |opts: GreetOptions| Ok(Echo));
/// assert_eq!(registry.names(), ["echo", "greet"]);
/// ```
#[derive(Default)]
pub struct Registry {
    factories: BTreeMap<String, Factory>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a stage that takes no options: any key in its `[stages.NAME]` table other
    /// than the framework settings is an error.
    pub fn register<S: Stage>(mut self, stage: S) -> Self {
        let name = stage.name().to_owned();
        let stage: Arc<dyn DynStage> = Arc::new(stage);
        self.factories.insert(
            name,
            Box::new(move |options| {
                if let Some(key) = options.keys().next() {
                    return Err(format!("unknown option {key:?} (this stage takes no options)").into());
                }
                Ok(stage.clone())
            }),
        );
        self
    }

    /// Registers a stage built from options: the keys of `[stages.NAME]` (other than the
    /// framework settings) are deserialized into `O` (use `#[serde(default,
    /// deny_unknown_fields)]`) and handed to `build`.
    pub fn register_with<O, S, F>(mut self, name: &str, build: F) -> Self
    where
        O: DeserializeOwned,
        S: Stage,
        F: Fn(O) -> Result<S, BoxError> + Send + Sync + 'static,
    {
        self.factories.insert(
            name.to_owned(),
            Box::new(move |options| {
                let opts: O = toml::Value::Table(options.clone()).try_into()?;
                let stage = build(opts)?;
                Ok(Arc::new(stage) as Arc<dyn DynStage>)
            }),
        );
        self
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.factories.keys().map(String::as_str).collect()
    }

    /// Whether a stage of this name is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.factories.contains_key(name)
    }

    /// Builds a stage from its options.
    pub fn build(&self, name: &str, options: &toml::Table) -> Result<Arc<dyn DynStage>, ConfigError> {
        let factory = self.factories.get(name).ok_or_else(|| ConfigError::Invalid {
            field: "stage".to_owned(),
            message: format!("no stage named {name:?} (known: {})", self.names().join(", ")),
        })?;
        factory(options).map_err(|e| ConfigError::Invalid {
            field: format!("stages.{name}"),
            message: e.to_string(),
        })
    }
}
