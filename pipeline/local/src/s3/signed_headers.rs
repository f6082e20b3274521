//! Presigned requests: every `x-amz-*` header must be one the URL's signature covers.
//!
//! SigV4 in the query string lists the headers it signed in `X-Amz-SignedHeaders`. S3
//! refuses a presigned request that carries other `x-amz-*` headers (403 AccessDenied,
//! "There were headers present in the request which were not signed"): otherwise whoever
//! holds a URL could attach metadata (`x-amz-meta-haul-sha256`, a storage class, a tagging
//! set) that the signer never agreed to. s3s checks the signature of the headers that are
//! listed; this checks that nothing unlisted rides along.

use http::{HeaderMap, Uri};
use s3s::{S3Result, s3_error};

/// Headers S3 accepts unsigned on a presigned request (the payload hash is itself part of
/// the signature's canonical request).
const ALLOWED_UNSIGNED: &[&str] = &["x-amz-content-sha256"];

/// Refuses a presigned request carrying an `x-amz-*` header its signature does not cover.
/// Requests signed in the `Authorization` header are left to s3s.
pub fn require_signed_amz_headers(uri: &Uri, headers: &HeaderMap) -> S3Result<()> {
    let Some(signed) = signed_headers_param(uri) else {
        return Ok(());
    };
    let signed: Vec<&str> = signed.split(';').collect();
    let mut unsigned: Vec<&str> = headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("x-amz-"))
        .filter(|name| !signed.contains(name) && !ALLOWED_UNSIGNED.contains(name))
        .collect();
    if unsigned.is_empty() {
        return Ok(());
    }
    unsigned.sort_unstable();
    unsigned.dedup();
    Err(s3_error!(
        AccessDenied,
        "There were headers present in the request which were not signed: {}",
        unsigned.join(", ")
    ))
}

/// The decoded `X-Amz-SignedHeaders` query parameter, when the request is presigned.
fn signed_headers_param(uri: &Uri) -> Option<String> {
    let query = uri.query()?;
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.eq_ignore_ascii_case("X-Amz-SignedHeaders").then(|| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .to_ascii_lowercase()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for name in names {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                "v".parse().unwrap(),
            );
        }
        map
    }

    const PRESIGNED: &str = "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host%3Bx-amz-checksum-sha256";

    #[test]
    fn an_unsigned_meta_header_on_a_presigned_request_is_refused() {
        let uri: Uri = PRESIGNED.parse().unwrap();
        let err = require_signed_amz_headers(&uri, &headers(&["host", "x-amz-meta-haul-sha256"])).unwrap_err();
        assert_eq!(err.code(), &s3s::S3ErrorCode::AccessDenied);
        assert!(err.message().unwrap().contains("x-amz-meta-haul-sha256"), "{err:?}");
    }

    #[test]
    fn signed_and_exempt_headers_pass_and_header_auth_is_left_to_s3s() {
        let uri: Uri = PRESIGNED.parse().unwrap();
        let ok = headers(&["host", "x-amz-checksum-sha256", "x-amz-content-sha256", "content-type"]);
        assert!(require_signed_amz_headers(&uri, &ok).is_ok());
        let header_auth: Uri = "/b/k?partNumber=1".parse().unwrap();
        assert!(require_signed_amz_headers(&header_auth, &headers(&["x-amz-meta-a"])).is_ok());
    }
}
