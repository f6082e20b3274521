//! One-line human summaries of stage outputs: numbers rounded to what is meaningful, long
//! values elided. [`Stage::summary`](crate::Stage::summary) uses [`line`] by default; a
//! stage's own summary can use [`number`], [`bytes`] and [`elide`] for the same look.

use serde_json::{Number, Value};

/// Significant digits numbers are shown with.
pub const DIGITS: u32 = 3;
/// Longest string value shown whole; longer ones are cut and end in `…`.
pub const MAX_VALUE_CHARS: usize = 24;
/// Longest summary line [`line`] makes.
pub const MAX_LINE_CHARS: usize = 160;

/// `x` rounded to `digits` significant digits, the integer part always kept whole
/// (`0.10000000000000003` → `0.1`, `4.56789` → `4.57`, `1234.5` → `1235` at 3 digits).
/// Non-finite values are returned as they are.
pub fn round_significant(x: f64, digits: u32) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let magnitude = x.abs().log10().floor() as i32 + 1;
    let decimals = (digits.max(1) as i32 - magnitude).clamp(0, 15);
    // Dividing by an exact power of ten gives the double nearest the decimal (0.1, not
    // 0.1 * 1.0000000000000002).
    let scale = 10f64.powi(decimals);
    let rounded = (x * scale).round() / scale;
    if rounded == 0.0 { 0.0 } else { rounded }
}

/// A copy of `value` with every float rounded by [`round_significant`]; integers, strings
/// and the structure are kept. A float that rounds to a whole number stays a float.
pub fn round_floats(value: &Value, digits: u32) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => n
            .as_f64()
            .and_then(|f| Number::from_f64(round_significant(f, digits)))
            .map_or_else(|| value.clone(), Value::Number),
        Value::Array(items) => Value::Array(items.iter().map(|v| round_floats(v, digits)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), round_floats(v, digits))).collect()),
        other => other.clone(),
    }
}

/// `x` as text, rounded to [`DIGITS`] significant digits, whole numbers without a decimal
/// point (`72`, `0.1`, `3.14`, `1235`).
pub fn number(x: f64) -> String {
    let r = round_significant(x, DIGITS);
    if r.is_finite() && r.fract() == 0.0 && r.abs() < 1e15 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

/// A byte count for people: `512 B`, `1.5 KiB`, `21 MiB`, `2 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{} {}", number(v), UNITS[unit])
}

/// A duration for people: `0.8 ms`, `41.2 ms`, `1.25 s`, `75 s`.
pub fn duration(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    match ms < 1000.0 {
        true => format!("{} ms", number(ms)),
        false => format!("{} s", number(ms / 1000.0)),
    }
}

/// `s` cut to `max` characters, the last one `…` when it was longer.
pub fn elide(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// One scalar as the summaries show it: numbers by [`number`] (integers whole), strings
/// elided to [`MAX_VALUE_CHARS`]; `None` for arrays and objects.
pub fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("-".to_owned()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            _ => number(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Value::String(s) => Some(elide(s, MAX_VALUE_CHARS)),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// The default summary of an output: its top-level scalar fields as `name value`, separated
/// by commas, in the map's order (alphabetical unless serde_json's `preserve_order` is on);
/// arrays as their length (`beats [14]`), objects left out.
/// An output that is not an object is shown as one scalar. The line is cut at
/// [`MAX_LINE_CHARS`].
pub fn line(output: &Value) -> String {
    let text = match output {
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .filter_map(|(k, v)| match v {
                    Value::Array(items) => Some(format!("{k} [{}]", items.len())),
                    _ => scalar(v).map(|s| format!("{k} {s}")),
                })
                .collect();
            match (parts.is_empty(), map.len()) {
                (true, 1) => "1 field".to_owned(),
                (true, n) => format!("{n} fields"),
                (false, _) => parts.join(", "),
            }
        }
        Value::Array(items) => format!("[{} items]", items.len()),
        other => scalar(other).unwrap_or_default(),
    };
    elide(&text, MAX_LINE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_are_rounded_to_significant_digits_and_keep_their_integer_part() {
        assert_eq!(round_significant(0.100_000_000_000_000_03, 3), 0.1);
        assert_eq!(round_significant(4.567_89, 3), 4.57);
        assert_eq!(round_significant(-0.001_234_5, 2), -0.0012);
        assert_eq!(round_significant(1234.5, 3), 1235.0);
        assert_eq!(round_significant(0.0, 3), 0.0);
        assert!(round_significant(f64::NAN, 3).is_nan());
    }

    #[test]
    fn rounding_a_json_value_touches_floats_only() {
        let v = json!({ "bpm": 71.987_654, "n": 14, "nested": [{ "x": 0.300_000_000_000_000_04 }], "s": "a" });
        let r = round_floats(&v, 3);
        assert_eq!(r, json!({ "bpm": 72.0, "n": 14, "nested": [{ "x": 0.3 }], "s": "a" }));
        assert_eq!(r["n"].as_u64(), Some(14));
    }

    #[test]
    fn numbers_print_without_noise_and_whole_numbers_without_a_point() {
        assert_eq!(number(72.0), "72");
        assert_eq!(number(71.6), "71.6");
        assert_eq!(number(0.100_000_000_000_000_03), "0.1");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(123_456.7), "123457");
    }

    #[test]
    fn byte_counts_use_binary_units() {
        assert_eq!(bytes(5), "5 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(21 * 1024 * 1024 + 100), "21 MiB");
    }

    #[test]
    fn durations_switch_from_milliseconds_to_seconds_at_one_second() {
        use std::time::Duration;
        assert_eq!(duration(Duration::from_micros(812)), "0.812 ms");
        assert_eq!(duration(Duration::from_micros(41_234)), "41.2 ms");
        assert_eq!(duration(Duration::from_millis(1_254)), "1.25 s");
        assert_eq!(duration(Duration::from_secs(75)), "75 s");
    }

    #[test]
    fn long_strings_are_elided_with_an_ellipsis() {
        assert_eq!(elide("abcdef", 4), "abc…");
        assert_eq!(elide("abc", 4), "abc");
        assert_eq!(elide("ééééé", 3).chars().count(), 3);
    }

    #[test]
    fn the_default_line_shows_scalars_and_lengths_of_arrays_and_leaves_objects_out() {
        // Keys in alphabetical order, which either map order keeps.
        let v = json!({
            "beats": [1, 2, 3], "missing": null, "name": "x".repeat(40),
            "nested": { "a": 1 }, "ok": true, "ratio": 0.333_333_333, "size": 5
        });
        assert_eq!(
            line(&v),
            format!(
                "beats [3], missing -, name {}…, ok true, ratio 0.333, size 5",
                "x".repeat(23)
            )
        );
    }

    #[test]
    fn the_default_line_of_an_object_without_scalars_counts_its_fields() {
        assert_eq!(line(&json!({ "a": { "b": 1 } })), "1 field");
        assert_eq!(line(&json!({ "a": {}, "b": {} })), "2 fields");
        assert_eq!(line(&json!([1, 2])), "[2 items]");
        assert_eq!(line(&json!(2.000_000_1)), "2");
    }

    #[test]
    fn the_default_line_is_cut_at_its_maximum_length() {
        let map: serde_json::Map<String, Value> = (0..100).map(|i| (format!("field{i}"), json!(i))).collect();
        let text = line(&Value::Object(map));
        assert_eq!(text.chars().count(), MAX_LINE_CHARS);
        assert!(text.ends_with('…'));
    }
}
