//! The stage's one-line summary of an output (see `Stage::summary`): `600 records of 14 B,
//! no CRC failures; t_ms 0–59900 ms, temperature 18–25.1 degC, humidity 40–60 %, +1 field`.

use haul_pipeline::summary::{bytes, number};
use serde_json::Value;

/// Fields whose range the line shows; the others are counted.
const SHOWN_FIELDS: usize = 3;

/// The one-line summary of a records output; missing fields read as zero or are left out.
pub fn summary_line(output: &Value) -> String {
    let records = output["records"].as_u64().unwrap_or(0);
    let mut line = match records {
        1 => "1 record".to_owned(),
        n => format!("{n} records"),
    };
    if let Some(size) = output["record_bytes"].as_u64() {
        line.push_str(&format!(" of {}", bytes(size)));
    }
    line.push_str(&match output["crc_failures"].as_u64().unwrap_or(0) {
        0 => ", no CRC failures".to_owned(),
        1 => ", 1 CRC failure skipped".to_owned(),
        n => format!(", {n} CRC failures skipped"),
    });
    let fields = output["fields"].as_array().map_or(&[][..], Vec::as_slice);
    let ranges: Vec<String> = fields.iter().take(SHOWN_FIELDS).map(range).collect();
    if !ranges.is_empty() {
        line.push_str("; ");
        line.push_str(&ranges.join(", "));
    }
    match fields.len().saturating_sub(SHOWN_FIELDS) {
        0 => {}
        1 => line.push_str(", +1 field"),
        n => line.push_str(&format!(", +{n} fields")),
    }
    line
}

/// `temperature 18–25.1 degC`, or the name alone for a field without numbers.
fn range(field: &Value) -> String {
    let name = field["name"].as_str().unwrap_or("?");
    let (Some(min), Some(max)) = (field["min"].as_f64(), field["max"].as_f64()) else {
        return name.to_owned();
    };
    let span = match min == max {
        true => number(min),
        false => format!("{}–{}", number(min), number(max)),
    };
    match field["unit"].as_str() {
        Some(unit) if !unit.is_empty() => format!("{name} {span} {unit}"),
        _ => format!("{name} {span}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_crc_failures_and_the_first_field_ranges_are_shown() {
        let out = json!({ "records": 600, "record_bytes": 18, "crc_failures": 2, "fields": [
            { "name": "t_ms", "unit": "ms", "min": 0.0, "max": 59_900.0 },
            { "name": "temperature", "unit": "degC", "min": 18.004, "max": 25.123_4 },
            { "name": "id", "unit": null, "min": null, "max": null },
            { "name": "pressure", "unit": "hPa", "min": 1000.0, "max": 1020.0 }
        ]});
        assert_eq!(
            summary_line(&out),
            "600 records of 18 B, 2 CRC failures skipped; t_ms 0–59900 ms, temperature 18–25.1 degC, id, +1 field"
        );
    }

    #[test]
    fn an_empty_output_still_reads_as_a_sentence() {
        assert_eq!(summary_line(&json!({})), "0 records, no CRC failures");
        let one = json!({ "records": 1, "fields": [{ "name": "x", "min": 2.0, "max": 2.0 }] });
        assert_eq!(summary_line(&one), "1 record, no CRC failures; x 2");
    }
}
