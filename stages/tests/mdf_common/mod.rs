//! Shared helpers of the MDF interop tests: finding the Python oracle, running the fixture
//! scripts, and comparing haul's summary and CSV with what asammdf read.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, ensure};
use haul_stages::mdf::{ChannelSummary, summarize_file};
use serde_json::Value;

/// The crate root (scripts/mdf/ lives there; fixtures are in ../tests/fixtures/mdf).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python interpreter that has asammdf, or `None` (after printing why) when it is
/// missing and `HAUL_REQUIRE_INTEROP` is unset. With `HAUL_REQUIRE_INTEROP` set, a missing
/// oracle is an error.
pub fn oracle_python() -> Result<Option<String>> {
    let python = std::env::var("HAUL_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import asammdf, numpy; print(asammdf.__version__)"])
        .output();
    let reason = match probe {
        Ok(out) if out.status.success() => return Ok(Some(python)),
        // The traceback's last line names the cause (`ModuleNotFoundError: ...`).
        Ok(out) => format!(
            "{python} cannot import asammdf: {}",
            String::from_utf8_lossy(&out.stderr)
                .trim()
                .lines()
                .last()
                .unwrap_or("no message")
        ),
        Err(e) => format!("{python} did not start: {e}"),
    };
    haul_pipeline::testing::skip(&format!(
        "the asammdf oracle is missing: {reason} (pip install -r stages/scripts/mdf/requirements.txt)"
    ));
    Ok(None)
}

/// Run a script from scripts/ with arguments.
pub fn run_script(python: &str, script: &str, args: &[&Path]) -> Result<()> {
    let out = Command::new(python)
        .arg(root().join("scripts/mdf").join(script))
        .args(args)
        .output()?;
    ensure!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Minimal CSV reader (quoted cells with doubled quotes).
pub fn read_csv(path: &Path) -> Result<Vec<Vec<String>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    Ok(rows)
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// Compare one CSV cell with one oracle value.
fn cell_matches(cell: &str, expected: &Value) -> bool {
    match expected {
        Value::Number(n) if n.is_f64() => cell
            .parse::<f64>()
            .is_ok_and(|v| n.as_f64().is_some_and(|e| close(v, e))),
        Value::Number(n) => cell.parse::<i128>().ok() == n.to_string().parse::<i128>().ok(),
        Value::Object(o) => o.get("t").or_else(|| o.get("b")).and_then(Value::as_str) == Some(cell),
        _ => false,
    }
}

/// Compare the reader's summary and CSVs for `mf4` with asammdf's dump `oracle`.
/// Returns the number of channels compared value by value.
pub fn compare_with_oracle(mf4: &Path, oracle: &Path) -> Result<usize> {
    let dir = tempfile::tempdir()?;
    let summary = summarize_file(mf4, Some(dir.path())).with_context(|| format!("reading {}", mf4.display()))?;
    let oracle: Value = serde_json::from_str(&std::fs::read_to_string(oracle)?)?;
    let groups: Vec<&Value> = array(&oracle, "groups")?
        .iter()
        .filter(|g| g["channels"].as_array().is_some_and(|c| !c.is_empty()))
        .collect();
    ensure!(
        groups.len() == summary.channel_groups.len(),
        "{}: {} groups, asammdf has {}",
        mf4.display(),
        summary.channel_groups.len(),
        groups.len()
    );
    let mut compared = 0;
    for (og, sg) in groups.iter().zip(&summary.channel_groups) {
        let csv_name = sg
            .csv
            .as_deref()
            .ok_or_else(|| anyhow!("group {} has no CSV", sg.index))?;
        let rows = read_csv(&dir.path().join(csv_name))?;
        let header = rows.first().ok_or_else(|| anyhow!("empty CSV"))?;
        let channels = array(og, "channels")?;
        ensure!(
            channels.len() == sg.channels.len(),
            "group {}: {} channels, asammdf has {}",
            sg.index,
            sg.channels.len(),
            channels.len()
        );
        for (oc, sc) in channels.iter().zip(&sg.channels) {
            let what = format!("{} group {} channel {}", mf4.display(), sg.index, sc.name);
            let column = header.iter().position(|h| *h == sc.name);
            compared += compare_channel(oc, sc, column, &rows[1..]).with_context(|| what)?;
        }
    }
    Ok(compared)
}

fn array<'a>(v: &'a Value, key: &str) -> Result<&'a Vec<Value>> {
    v[key].as_array().ok_or_else(|| anyhow!("oracle has no {key}"))
}

fn compare_channel(oc: &Value, sc: &ChannelSummary, column: Option<usize>, rows: &[Vec<String>]) -> Result<usize> {
    ensure!(
        oc["name"].as_str() == Some(sc.name.as_str()),
        "name {:?} vs asammdf {}",
        sc.name,
        oc["name"]
    );
    let unit = match oc["unit"].as_str() {
        Some(u) if !u.is_empty() => u,
        _ => oc["cc_unit"].as_str().unwrap_or(""),
    };
    ensure!(sc.unit == unit, "unit {:?}, asammdf {unit:?}", sc.unit);
    let values = array(oc, "values")?;
    ensure!(
        sc.samples == values.len() as u64,
        "{} samples, asammdf {}",
        sc.samples,
        values.len()
    );
    if oc["channel_type"].as_u64() == Some(1) {
        // Variable-length signal data: not decoded by this reader, and said so.
        ensure!(
            sc.note.is_some() && column.is_none(),
            "VLSD channel should be listed as not decoded"
        );
        return Ok(0);
    }
    let column = column.ok_or_else(|| anyhow!("no CSV column"))?;
    let invalid: Vec<bool> = match oc["invalid"].as_array() {
        Some(flags) => flags.iter().map(|f| f.as_bool() == Some(true)).collect(),
        None => vec![false; values.len()],
    };
    ensure!(
        rows.len() == values.len(),
        "{} CSV rows, asammdf {}",
        rows.len(),
        values.len()
    );
    ensure!(
        sc.invalid == invalid.iter().filter(|&&i| i).count() as u64,
        "invalid count {}",
        sc.invalid
    );
    for (i, (row, expected)) in rows.iter().zip(values).enumerate() {
        let cell = row.get(column).map_or("", String::as_str);
        if invalid[i] {
            ensure!(cell.is_empty(), "row {i}: invalid sample written as {cell:?}");
        } else {
            ensure!(cell_matches(cell, expected), "row {i}: {cell:?}, asammdf {expected}");
        }
    }
    compare_stats(oc, sc, values, &invalid)?;
    Ok(1)
}

fn compare_stats(oc: &Value, sc: &ChannelSummary, values: &[Value], invalid: &[bool]) -> Result<()> {
    let valid: Vec<usize> = (0..values.len()).filter(|&i| !invalid[i]).collect();
    let numbers: Vec<f64> = valid.iter().filter_map(|&i| values[i].as_f64()).collect();
    let texts = valid.iter().filter(|&&i| values[i].get("t").is_some()).count() as u64;
    ensure!(sc.text_samples == texts, "text samples {} vs {texts}", sc.text_samples);
    let min = numbers.iter().copied().reduce(f64::min);
    let max = numbers.iter().copied().reduce(f64::max);
    let mean = (!numbers.is_empty()).then(|| numbers.iter().sum::<f64>() / numbers.len() as f64);
    ensure!(
        opt_close(sc.min, min, 1e-12) && opt_close(sc.max, max, 1e-12),
        "min/max {:?}/{:?} vs {min:?}/{max:?}",
        sc.min,
        sc.max
    );
    ensure!(opt_close(sc.mean, mean, 1e-9), "mean {:?} vs {mean:?}", sc.mean);
    let times = array(oc, "timestamps")?;
    let at = |i: Option<&usize>| i.and_then(|&i| times.get(i)).and_then(Value::as_f64);
    let (first, last) = (at(valid.first()), at(valid.last()));
    ensure!(
        opt_close(sc.first_master, first, 1e-12) && opt_close(sc.last_master, last, 1e-12),
        "first/last master {:?}/{:?} vs {first:?}/{last:?}",
        sc.first_master,
        sc.last_master
    );
    Ok(())
}

fn opt_close(a: Option<f64>, b: Option<f64>, rel: f64) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b || (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300),
        (None, None) => true,
        _ => false,
    }
}
