//! Deployment: the AWS SAM template and the equivalent resources on an AWS emulator, both
//! derived from `haul.toml`, whose routes are the single source of the SNS filter
//! policies.
//!
//! ```text
//!                 haul.toml [[routes]], [stages.*]
//!                              |
//!                     plan (per stage: filter policy, timeout, retries)
//!                     /                                   \
//!   template: deploy/template.yaml (SAM)      local: `haul deploy local --endpoint URL`
//!   `sam build` + `sam deploy` on AWS          the same bucket, topics, queues, DLQs,
//!                                              subscriptions and notification on MiniStack
//! ```
//!
//! - [`policy`]: the SNS filter policy of a stage, and what it cannot express.
//! - [`plan`]: the stages to deploy and their numbers (Lambda timeout, visibility timeout,
//!   `maxReceiveCount`), shared by both targets.
//! - [`template`]: the SAM template as a value and as YAML; [`makefile`]: the Makefile
//!   beside it that `sam build` runs to build the binary every function runs.
//! - [`local`]: the resources on an emulator through the AWS SDK, idempotently.
//!
//! ```
//! use haul_pipeline::config::HaulConfig;
//!
//! let config = HaulConfig::from_toml("[[routes]]\nstage = \"checksum\"\n", "example")?;
//! let target = haul_deploy::BuildTarget { package: "my-stages".into(), binary: "my-stages".into() };
//! let template = haul_deploy::template::build(&config, &target)?;
//! assert!(template.to_yaml().contains("ChecksumQueue:"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod local;
pub mod makefile;
pub mod plan;
pub mod policy;
pub mod template;
mod yaml;

pub use local::{FilterMode, LocalDeployment, LocalError, LocalOptions, StageQueues, deploy_local, deploy_local_with};
pub use plan::{PlanError, StagePlan, plan};
pub use policy::{FilterPolicy, PolicyError, filter_policy, routed_stages};
pub use template::{BuildTarget, Template};
