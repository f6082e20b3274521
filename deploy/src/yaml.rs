//! A small YAML emitter for CloudFormation templates built as `serde_json::Value`.
//!
//! The template is built with `serde_json::json!` (its maps are sorted by key), so the
//! emitter puts the keys CloudFormation readers look for first (`Type` before
//! `Properties`, `Effect` before `Action`, the template sections in their usual order) and
//! the rest alphabetically. Intrinsics are written in their long form (`Fn::Sub:`,
//! `Ref:`), which needs no YAML tags. Strings are plain only when no YAML 1.1 or 1.2
//! reader could take them for anything else (a number, a date, a boolean, `null`);
//! everything else is double-quoted with JSON escapes, which YAML reads the same way.
//! The output is deterministic: the same value always gives the same text.

use serde_json::{Map, Value};

/// Keys emitted first, in this order, wherever they appear; other keys follow sorted.
const KEY_ORDER: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Transform",
    "Type",
    "Description",
    "Metadata",
    "Parameters",
    "Conditions",
    "Globals",
    "Resources",
    "Outputs",
    "DependsOn",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "Version",
    "Sid",
    "Effect",
    "Principal",
    "Action",
    "Resource",
    "Condition",
    "Properties",
];

/// Renders a value as a YAML document, preceded by `comment` lines (each prefixed `# `).
pub fn to_yaml(value: &Value, comment: &[String]) -> String {
    let mut out = String::new();
    for line in comment {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
    }
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn ordered(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let rank = |k: &str| KEY_ORDER.iter().position(|o| *o == k).unwrap_or(KEY_ORDER.len());
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    // Stable: keys of equal rank keep the map's (sorted) order.
    entries.sort_by_key(|(k, _)| rank(k));
    entries
}

fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    let pad = " ".repeat(indent);
    for (key, value) in ordered(map) {
        out.push_str(&pad);
        out.push_str(&string(key));
        out.push(':');
        write_child(out, value, indent + 2);
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The first entry shares the line of the dash.
                let mut block = String::new();
                write_map(&mut block, map, indent + 2);
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&block[indent + 2..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                let mut block = String::new();
                write_seq(&mut block, inner, indent + 2);
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&block[indent + 2..]);
            }
            other => {
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

/// Writes what follows `key:` — a scalar on the same line, or a block below it.
fn write_child(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

/// A string as a plain scalar when that is unambiguous, else double-quoted.
fn string(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_owned()
    } else {
        serde_json::Value::String(s.to_owned()).to_string()
    }
}

fn is_plain_safe(s: &str) -> bool {
    const KEYWORDS: &[&str] = &["y", "n", "yes", "no", "true", "false", "on", "off", "null"];
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_' || first == '/') {
        return false;
    }
    if KEYWORDS.contains(&s.to_ascii_lowercase().as_str()) || s.ends_with([' ', ':']) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.contains("  ") {
        return false;
    }
    s.chars().all(|c| c.is_ascii_alphanumeric() || " _./:-*@()".contains(c))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn template_keys_come_in_reading_order() {
        let v = json!({"Resources": {"Q": {"Properties": {"B": 1, "A": 2}, "Type": "AWS::SQS::Queue"}}, "AWSTemplateFormatVersion": "2010-09-09"});
        let text = to_yaml(&v, &["Generated.".to_owned()]);
        assert_eq!(
            text,
            "# Generated.\nAWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A: 2\n      B: 1\n"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "",
            "true",
            "No",
            "on",
            "null",
            "1",
            "0x1F",
            "1e3",
            "2010-09-09",
            ".inf",
            "a: b",
            "a #b",
            "x:",
            "$or",
            "${AWS::Region}",
            "*",
            "-x",
            "a\nb",
            "trailing ",
        ] {
            assert!(string(s).starts_with('"'), "{s:?} must be quoted");
        }
        for s in [
            "Fn::Sub",
            "AWS::SQS::Queue",
            "s3:ObjectCreated:*",
            "incoming/",
            "provided.al2023",
            "x86_64",
        ] {
            assert_eq!(string(s), s);
        }
    }

    #[test]
    fn sequences_of_maps_share_the_dash_line() {
        let v = json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"]}], "Empty": [], "None": {}});
        assert_eq!(
            to_yaml(&v, &[]),
            "Empty: []\nNone: {}\nStatement:\n  - Effect: Allow\n    Action:\n      - s3:GetObject\n"
        );
    }
}
