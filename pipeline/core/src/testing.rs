//! For tests that need an external program or server (a broker, an emulator, a Python
//! oracle): skip with one visible line when it is missing, or fail when the run requires it.
//!
//! `HAUL_REQUIRE_INTEROP=1` (as CI sets it) turns every skip into a failure, so a CI
//! machine that lacks a tool cannot pass silently.
//!
//! ```
//! fn mosquitto() -> Option<std::path::PathBuf> {
//!     let path = std::path::PathBuf::from("/usr/sbin/mosquitto");
//!     if !path.is_file() {
//!         haul_pipeline::testing::skip("mosquitto is not installed (apt-get install mosquitto)");
//!         return None;
//!     }
//!     Some(path)
//! }
//! ```

use std::io::Write;

/// Whether this run requires every external program (`HAUL_REQUIRE_INTEROP=1`).
pub fn interop_required() -> bool {
    std::env::var("HAUL_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
}

/// Skips the calling test because `reason` (what is missing, and how to install it): prints
/// one line straight to stderr (past the test harness's capture, so it shows), or panics
/// when [`interop_required`].
pub fn skip(reason: &str) {
    assert!(!interop_required(), "HAUL_REQUIRE_INTEROP=1 but {reason}");
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let _ = writeln!(
        std::io::stderr().lock(),
        "skipped {test}: {reason} (HAUL_REQUIRE_INTEROP=1 makes this a failure)"
    );
}

/// The first executable file named `name` in the folders of `PATH`.
pub fn find_program(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}
