//! Content types: from a file name, and from a file's first bytes.

use std::io::Read;
use std::path::Path;

/// Extensions haul knows, lower-case, with their MIME types.
const BY_EXTENSION: &[(&str, &str)] = &[
    ("wav", "audio/wav"),
    ("flac", "audio/flac"),
    ("mp3", "audio/mpeg"),
    ("ogg", "audio/ogg"),
    ("oga", "audio/ogg"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("webp", "image/webp"),
    ("mf4", "application/x-mdf"),
    ("mdf", "application/x-mdf"),
    ("bin", "application/octet-stream"),
    ("rec", "application/octet-stream"),
    ("json", "application/json"),
    ("csv", "text/csv"),
    ("txt", "text/plain"),
];

/// The fallback when nothing better is known.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// The MIME type for a file name's extension (case-insensitive), or
/// `application/octet-stream`.
pub fn from_name(name: &str) -> &'static str {
    let Some((_, ext)) = name.rsplit_once('.') else {
        return OCTET_STREAM;
    };
    let ext = ext.to_ascii_lowercase();
    BY_EXTENSION
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, t)| *t)
        .unwrap_or(OCTET_STREAM)
}

/// The MIME type of some leading bytes by their signature, if recognized.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.len() >= 8 && &head[..8] == b"MDF     " {
        return Some("application/x-mdf");
    }
    infer::get(head).map(|t| match t.mime_type() {
        "audio/x-wav" => "audio/wav",
        "audio/x-flac" => "audio/flac",
        other => other,
    })
}

/// The content type of a local file: its signature if recognized, else its extension.
pub fn detect_file(path: &Path) -> String {
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    sniff(&head[..n]).unwrap_or_else(|| from_name(name)).to_owned()
}

/// Whether `content_type` matches `pattern` (`image/jpeg`, `audio/*`, `*/*`), ignoring
/// parameters (`; charset=...`) and case.
pub fn matches(pattern: &str, content_type: &str) -> bool {
    let ct = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let pattern = pattern.trim().to_ascii_lowercase();
    match pattern.split_once('/') {
        Some(("*", "*")) => true,
        Some((ty, "*")) => ct.split_once('/').is_some_and(|(t, _)| t == ty),
        _ => ct == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_case_insensitively() {
        assert_eq!(from_name("a/b/Heart.WAV"), "audio/wav");
        assert_eq!(from_name("plate.jpeg"), "image/jpeg");
        assert_eq!(from_name("README"), OCTET_STREAM);
    }

    #[test]
    fn signatures_win_over_names() {
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), Some("audio/wav"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"MDF     4.10    "), Some("application/x-mdf"));
        assert_eq!(sniff(b"hello"), None);
    }

    #[test]
    fn patterns_match_type_families() {
        assert!(matches("audio/*", "audio/wav"));
        assert!(matches("image/jpeg", "IMAGE/JPEG; q=1"));
        assert!(!matches("audio/*", "image/png"));
        assert!(matches("*/*", "x/y"));
    }
}
