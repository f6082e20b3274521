//! The stage's one-line summary of an output (see `Stage::summary`):
//! `MDF 4.10, 2 channel groups, 9 channels, 4000 records over 0–2 s, 2 CSV tables`.

use haul_pipeline::summary::number;
use serde_json::Value;

/// The one-line summary of an MDF output; missing fields read as zero or are left out.
pub fn summary_line(output: &Value) -> String {
    let groups = output["channel_groups"].as_array().map_or(&[][..], Vec::as_slice);
    let channels: usize = groups
        .iter()
        .map(|g| g["channels"].as_array().map_or(0, Vec::len))
        .sum();
    let records: u64 = groups.iter().filter_map(|g| g["records"].as_u64()).sum();
    let version = output.pointer("/header/version").and_then(Value::as_str).unwrap_or("4");
    let mut line = format!(
        "MDF {version}, {}, {}, {}",
        count(groups.len(), "channel group"),
        count(channels, "channel"),
        count(records as usize, "record")
    );
    if let Some(span) = master_span(groups) {
        line.push_str(&format!(" over {span}"));
    }
    let tables = output["csv_files"].as_array().map_or(0, Vec::len);
    if tables > 0 {
        line.push_str(&format!(", {}", count(tables, "CSV table")));
    }
    line
}

fn count(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

/// `0–2 s`: the first to the last master value over the groups, with the unit of the first
/// master channel.
fn master_span(groups: &[Value]) -> Option<String> {
    let first = groups
        .iter()
        .filter_map(|g| g["first_master"].as_f64())
        .reduce(f64::min)?;
    let last = groups
        .iter()
        .filter_map(|g| g["last_master"].as_f64())
        .reduce(f64::max)?;
    let unit = groups
        .iter()
        .flat_map(|g| g["channels"].as_array().into_iter().flatten())
        .find(|c| c["kind"].as_str().is_some_and(|k| k.ends_with("master")))
        .and_then(|c| c["unit"].as_str())
        .filter(|u| !u.is_empty());
    Some(match unit {
        Some(unit) => format!("{}–{} {unit}", number(first), number(last)),
        None => format!("master {}–{}", number(first), number(last)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_channels_records_and_the_time_span_are_counted() {
        let group = |records: u64, first: f64, last: f64| {
            json!({ "records": records, "first_master": first, "last_master": last,
                "channels": [{ "kind": "master", "unit": "s" }, { "kind": "value", "unit": "V" }] })
        };
        let out = json!({ "header": { "version": "4.10" },
            "channel_groups": [group(2000, 0.0, 1.999), group(500, 0.5, 2.000_000_1)],
            "csv_files": ["a.csv", "b.csv"] });
        assert_eq!(
            summary_line(&out),
            "MDF 4.10, 2 channel groups, 4 channels, 2500 records over 0–2 s, 2 CSV tables"
        );
    }

    #[test]
    fn a_file_without_groups_or_masters_says_so() {
        let out = json!({ "header": { "version": "4.20" }, "channel_groups": [], "csv_files": [] });
        assert_eq!(summary_line(&out), "MDF 4.20, 0 channel groups, 0 channels, 0 records");
        assert_eq!(
            summary_line(&json!(null)),
            "MDF 4, 0 channel groups, 0 channels, 0 records"
        );
    }
}
