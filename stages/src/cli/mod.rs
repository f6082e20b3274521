//! Commands of the `haul` binary beyond the framework's shared ones.

pub mod eval;
