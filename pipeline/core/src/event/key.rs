//! Object keys as S3 notifications carry them: URL-encoded, with `+` for space.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// A key in an S3 notification could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A `%` is not followed by two hexadecimal digits.
    #[error("object key {key:?} has a malformed percent escape at byte {offset}")]
    BadEscape {
        /// The key as it arrived (still encoded).
        key: String,
        /// Byte offset of the `%`.
        offset: usize,
    },
    /// The decoded bytes are not UTF-8.
    #[error("object key {key:?} does not decode to UTF-8")]
    NotUtf8 {
        /// The key as it arrived (still encoded).
        key: String,
    },
    /// The key is empty.
    #[error("object key is empty")]
    Empty,
}

/// Decodes a key from an S3 (or EventBridge) notification: `+` means space, then
/// percent-decoding. `%2B` is a literal `+`.
///
/// ```
/// use haul_pipeline::event::decode_key;
/// assert_eq!(decode_key("red+flower%2B1.jpg").unwrap(), "red flower+1.jpg");
/// ```
pub fn decode_key(encoded: &str) -> Result<String, KeyError> {
    if encoded.is_empty() {
        return Err(KeyError::Empty);
    }
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    let s = std::str::from_utf8(h).ok()?;
                    u8::from_str_radix(s, 16).ok()
                });
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => {
                        return Err(KeyError::BadEscape {
                            key: encoded.to_owned(),
                            offset: i,
                        });
                    }
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| KeyError::NotUtf8 {
        key: encoded.to_owned(),
    })
}

/// The characters S3 leaves unescaped in notification keys (besides alphanumerics).
const KEY_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/')
    .remove(b' ');

/// Encodes a key the way S3 does in notifications (`+` for space, `%XX` for the rest).
/// The inverse of [`decode_key`].
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY_SAFE).to_string().replace(' ', "+")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_is_space_and_escaped_plus_is_plus() {
        assert_eq!(decode_key("a+b%2Bc").unwrap(), "a b+c");
    }

    #[test]
    fn non_ascii_decodes() {
        assert_eq!(decode_key("caf%C3%A9/%E5%BF%83.wav").unwrap(), "café/心.wav");
    }

    #[test]
    fn malformed_escape_names_the_key() {
        let err = decode_key("bad%zzkey").unwrap_err();
        assert_eq!(
            err,
            KeyError::BadEscape {
                key: "bad%zzkey".into(),
                offset: 3
            }
        );
        assert!(err.to_string().contains("bad%zzkey"));
        assert!(decode_key("trailing%4").is_err());
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert!(matches!(decode_key("%FF%FE"), Err(KeyError::NotUtf8 { .. })));
    }

    #[test]
    fn encode_then_decode_round_trips() {
        for key in ["incoming/dev 1/a+b.wav", "x/é ü/%41.txt", "plain/key.jpg", "a=b&c"] {
            let enc = encode_key(key);
            assert!(!enc.contains(' '), "{enc}");
            assert_eq!(decode_key(&enc).unwrap(), key);
        }
    }
}
