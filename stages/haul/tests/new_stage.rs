//! `haul new stage NAME`: the crate it writes builds and passes its own tests.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_new_stage_crate_passes_its_tests() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(["new", "stage", "door-events"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let crate_dir = dir.path().join("door-events");
    for file in ["Cargo.toml", "src/lib.rs", "src/main.rs", "haul.toml", "README.md"] {
        assert!(crate_dir.join(file).is_file(), "{file}");
    }
    // The workspace's lock file pins the versions this checkout is tested with (no network,
    // and the shared target folder's artifacts fit).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::copy(root.join("Cargo.lock"), crate_dir.join("Cargo.lock")).unwrap();
    // A target folder of its own inside the workspace's (the running `cargo test` holds the
    // workspace's build lock); it stays warm from one run to the next.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), Into::into);
    let test = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--lib", "--no-default-features", "--offline"])
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", Path::new(&target).join("new-stage-test"))
        .output()
        .unwrap();
    let stdout = text(&test.stdout);
    assert!(test.status.success(), "{stdout}\n{}", text(&test.stderr));
    assert!(stdout.contains("test result: ok. 2 passed"), "{stdout}");
}

#[test]
fn a_bad_name_or_an_existing_folder_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(["new", "stage", "Door_Events"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("\"Door_Events\" is not usable"),
        "{}",
        text(&out.stderr)
    );
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    std::fs::write(dir.path().join("taken/x"), "x").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_haul"))
        .args(["new", "stage", "taken"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        text(&out.stderr).contains("taken already exists"),
        "{}",
        text(&out.stderr)
    );
}
