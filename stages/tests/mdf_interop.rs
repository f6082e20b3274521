//! The MDF reader against the asammdf oracle, channel by channel: every value of every
//! channel in the CSV, the statistics and the master range in the summary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mdf_common;

use anyhow::{Result, ensure};
use mdf_common::{compare_with_oracle, oracle_python, root, run_script};

#[test]
fn reader_matches_asammdf_on_freshly_generated_files() -> Result<()> {
    let Some(python) = oracle_python()? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    run_script(&python, "gen_fixtures.py", &[dir.path()])?;
    let mut files: Vec<_> = std::fs::read_dir(dir.path())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "mf4"))
        .collect();
    files.sort();
    ensure!(files.len() == 6, "expected 6 generated files, got {files:?}");
    let args: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    run_script(&python, "asammdf_oracle.py", &args)?;
    for file in &files {
        let oracle = file.with_extension("mf4.oracle.json");
        let compared = compare_with_oracle(file, &oracle)?;
        ensure!(compared >= 3, "{}: only {compared} channels compared", file.display());
    }
    Ok(())
}

#[test]
fn reader_matches_the_recorded_asammdf_output_of_committed_fixtures() -> Result<()> {
    let dir = root().join("../tests/fixtures/mdf");
    let mut compared = 0;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|x| x == "mf4") {
            compared += compare_with_oracle(&path, &path.with_extension("mf4.oracle.json"))?;
        }
    }
    ensure!(compared >= 30, "only {compared} channels compared in {}", dir.display());
    Ok(())
}
