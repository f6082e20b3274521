//! Commands of the `haul` binary beyond the framework's shared ones.

#[cfg(feature = "dev")]
pub mod bench;
pub mod deploy;
#[cfg(feature = "dev")]
pub mod dev;
pub mod eval;
