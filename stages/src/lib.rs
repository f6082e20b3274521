//! # haul-stages
//!
//! haul's built-in stages, and the `haul` binary that assembles them with the framework
//! exactly as a user assembles their own stages (see `examples/custom-stage`).
//!
//! | stage | input | output |
//! |---|---|---|
//! | `checksum` | any object | size, SHA-256, MD5, detected type, ETag check |

#![forbid(unsafe_code)]

pub mod checksum;

use haul_pipeline::Registry;

/// The default configuration (`haul.toml` at the repository root), embedded in the binary.
pub const DEFAULT_CONFIG: &str = include_str!("../../haul.toml");

/// Every built-in stage.
pub fn registry() -> Registry {
    Registry::new().register(checksum::Checksum)
}
