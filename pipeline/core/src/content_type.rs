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

/// Leading-byte signatures (offset, bytes) and their MIME types.
const SIGNATURES: &[(usize, &[u8], &str)] = &[
    (0, b"\xFF\xD8\xFF", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"II*\0", "image/tiff"),
    (0, b"MM\0*", "image/tiff"),
    (0, b"fLaC", "audio/flac"),
    (0, b"OggS", "audio/ogg"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"MDF     ", "application/x-mdf"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"\x1F\x8B", "application/gzip"),
    (4, b"ftyp", "video/mp4"),
];

/// The MIME type of some leading bytes by their signature, if recognized.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.len() >= 12 && &head[..4] == b"RIFF" {
        return match &head[8..12] {
            b"WAVE" => Some("audio/wav"),
            b"WEBP" => Some("image/webp"),
            _ => None,
        };
    }
    let known = SIGNATURES
        .iter()
        .find(|(at, sig, _)| head.get(*at..at + sig.len()) == Some(*sig))
        .map(|(_, _, ty)| *ty);
    known.or_else(|| mpeg_frame(head).then_some("audio/mpeg"))
}

/// An MPEG audio frame header without an ID3 tag: 11 sync bits, layer I-III.
fn mpeg_frame(head: &[u8]) -> bool {
    matches!(head, [0xFF, b, ..] if b & 0xE0 == 0xE0 && b & 0x06 != 0)
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
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Some("image/jpeg"));
        assert_eq!(sniff(b"\xFF\xFB\x90\x64"), Some("audio/mpeg"));
        assert_eq!(sniff(b"fLaC\0\0\0\x22"), Some("audio/flac"));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), Some("video/mp4"));
        assert_eq!(sniff(b"RIFF"), None);
    }

    #[test]
    fn patterns_match_type_families() {
        assert!(matches("audio/*", "audio/wav"));
        assert!(matches("image/jpeg", "IMAGE/JPEG; q=1"));
        assert!(!matches("audio/*", "image/png"));
        assert!(matches("*/*", "x/y"));
    }
}
