//! The key the cloud chooses for a device's upload, never the device:
//!
//! `{incoming prefix}{device}/{yyyy}/{mm}/{dd}/{request_id}/{sanitized file name}`
//!
//! [`UploadKey::build`] makes it (the presign function) and [`UploadKey::parse`] reads the
//! device and request back from it (results sent to the device, the local console); the
//! two are tested against each other here.

/// The parts of an upload key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadKey<'a> {
    /// The device (MQTT client id, certificate CN, IoT thing name).
    pub device: &'a str,
    /// The upload date, UTC: year, month, day.
    pub date: (u16, u8, u8),
    /// The request id the device chose.
    pub request_id: &'a str,
    /// The file name as stored (already sanitized).
    pub file_name: &'a str,
}

impl<'a> UploadKey<'a> {
    /// The key under `incoming_prefix` for a device's file; the file name is sanitized
    /// ([`sanitize_file_name`]).
    pub fn build(
        incoming_prefix: &str,
        device: &str,
        date: (u16, u8, u8),
        request_id: &str,
        file_name: &str,
    ) -> String {
        let (y, m, d) = date;
        format!(
            "{incoming_prefix}{device}/{y:04}/{m:02}/{d:02}/{request_id}/{}",
            sanitize_file_name(file_name)
        )
    }

    /// Reads a key back; `None` when it is not an upload key under `incoming_prefix`.
    pub fn parse(incoming_prefix: &str, key: &'a str) -> Option<Self> {
        let rest = key.strip_prefix(incoming_prefix)?;
        let parts: Vec<&str> = rest.splitn(6, '/').collect();
        let [device, y, m, d, request_id, file_name] = parts.as_slice() else {
            return None;
        };
        if device.is_empty() || request_id.is_empty() || file_name.is_empty() || file_name.contains('/') {
            return None;
        }
        let date = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        Some(Self {
            device,
            date,
            request_id,
            file_name,
        })
    }
}

/// The name as it appears in the key: letters, digits, ` ._-()+` kept, anything else `_`,
/// no leading dot or space; `file` if nothing is left.
pub fn sanitize_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " ._-()+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim_start_matches(['.', ' ']).trim_end();
    if trimmed.is_empty() {
        "file".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// A device id as a broker gives it: 1-128 of `A-Z a-z 0-9 _ - . :`, not `.` or `..`
/// (it becomes a key segment and a topic level).
pub fn valid_device(device: &str) -> bool {
    (1..=128).contains(&device.len())
        && device != "."
        && device != ".."
        && device
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_key_parses_back() {
        let key = UploadKey::build("incoming/", "dev-1", (2026, 11, 26), "r-9", "a b/../c.wav");
        assert_eq!(key, "incoming/dev-1/2026/11/26/r-9/a b_.._c.wav");
        let parsed = UploadKey::parse("incoming/", &key).unwrap();
        assert_eq!(parsed.device, "dev-1");
        assert_eq!(parsed.request_id, "r-9");
        assert_eq!(parsed.date, (2026, 11, 26));
        assert_eq!(parsed.file_name, "a b_.._c.wav");
    }

    #[test]
    fn other_keys_are_not_upload_keys() {
        assert_eq!(UploadKey::parse("incoming/", "incoming/x.wav"), None);
        assert_eq!(UploadKey::parse("incoming/", "other/dev/2026/11/26/r/x"), None);
        assert_eq!(UploadKey::parse("incoming/", "incoming/dev/yy/11/26/r/x"), None);
        assert_eq!(UploadKey::parse("incoming/", "incoming/dev/2026/11/26/r/x/y"), None);
    }

    #[test]
    fn file_names_are_sanitized() {
        assert_eq!(sanitize_file_name("..hidden"), "hidden");
        assert_eq!(sanitize_file_name("a\u{0}b"), "a_b");
        assert_eq!(sanitize_file_name(" . "), "file");
    }

    #[test]
    fn device_ids_are_checked() {
        assert!(valid_device("dev-1:a.b_c"));
        assert!(!valid_device(".."));
        assert!(!valid_device("a/b"));
        assert!(!valid_device(""));
    }
}
