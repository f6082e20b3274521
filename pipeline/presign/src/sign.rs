//! SigV4 presigned URLs with chosen signed headers (aws-sigv4 directly: the aws-sdk-s3
//! presigner ignores `checksum_sha256`, aws-sdk-rust #1103).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::sync::Mutex;

/// Characters left unescaped in a URI path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Where S3 is.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// AWS S3 in a region (virtual-hosted style).
    Aws,
    /// An S3-compatible endpoint, path style: `{base}/{bucket}/{key}`.
    Custom(String),
}

/// A signing failure (credentials unavailable, a URL that does not parse).
#[derive(Debug, thiserror::Error)]
#[error("cannot presign: {0}")]
pub struct SignError(String);

impl SignError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Signs URLs with the credentials of the default chain (cached until shortly before they
/// expire).
pub struct Signer {
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<Credentials>>,
    region: String,
    endpoint: Endpoint,
}

impl Signer {
    /// A signer for `region` and `endpoint`.
    pub fn new(provider: SharedCredentialsProvider, region: &str, endpoint: Endpoint) -> Self {
        Self {
            provider,
            cached: Mutex::new(None),
            region: region.to_owned(),
            endpoint,
        }
    }

    async fn credentials(&self) -> Result<Credentials, SignError> {
        let mut cached = self.cached.lock().await;
        let fresh = cached.as_ref().is_some_and(|c| {
            c.expiry()
                .is_none_or(|e| e > SystemTime::now() + Duration::from_secs(300))
        });
        if !fresh {
            let creds = self
                .provider
                .provide_credentials()
                .await
                .map_err(|e| SignError(format!("no credentials: {e}")))?;
            *cached = Some(creds);
        }
        cached.clone().ok_or_else(|| SignError("no credentials".into()))
    }

    /// The URL of an object, without a query.
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        let path: Vec<String> = key
            .split('/')
            .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
            .collect();
        let path = path.join("/");
        match &self.endpoint {
            Endpoint::Custom(base) => format!("{}/{bucket}/{path}", base.trim_end_matches('/')),
            Endpoint::Aws if bucket.contains('.') => {
                format!("https://s3.{}.amazonaws.com/{bucket}/{path}", self.region)
            }
            Endpoint::Aws => format!("https://{bucket}.s3.{}.amazonaws.com/{path}", self.region),
        }
    }

    /// A presigned URL for `method` on the object, with `query` (e.g. `partNumber`,
    /// `uploadId`) and `headers` bound into the signature; valid for `expires`.
    pub async fn presign(
        &self,
        method: &str,
        bucket: &str,
        key: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        expires: Duration,
    ) -> Result<String, SignError> {
        self.presign_at(SystemTime::now(), method, bucket, key, query, headers, expires)
            .await
    }

    /// [`Signer::presign`] as if signed at `time` (tests sign in the past to get an
    /// expired URL without waiting).
    #[allow(clippy::too_many_arguments)]
    pub async fn presign_at(
        &self,
        time: SystemTime,
        method: &str,
        bucket: &str,
        key: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        expires: Duration,
    ) -> Result<String, SignError> {
        let mut url = self.object_url(bucket, key);
        for (i, (k, v)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&format!("{}={}", encode(k), encode(v)));
        }
        let identity = self.credentials().await?.into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("s3")
            .time(time)
            .settings(settings)
            .build()
            .map_err(|e| SignError(e.to_string()))?
            .into();
        let request = SignableRequest::new(
            method,
            url.clone(),
            headers.iter().copied(),
            SignableBody::UnsignedPayload,
        )
        .map_err(|e| SignError(format!("{url}: {e}")))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| SignError(e.to_string()))?
            .into_parts();
        let (_, signed_query) = instructions.into_parts();
        for (k, v) in signed_query {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("{}={}", encode(k), encode(&v)));
        }
        Ok(url)
    }
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(endpoint: Endpoint) -> Signer {
        let creds = Credentials::new("AKID", "SECRET", None, None, "test");
        Signer::new(SharedCredentialsProvider::new(creds), "eu-west-1", endpoint)
    }

    #[test]
    fn keys_are_encoded_per_segment() {
        let s = signer(Endpoint::Custom("http://127.0.0.1:9000/".into()));
        assert_eq!(
            s.object_url("b", "incoming/dev 1/a+b é.wav"),
            "http://127.0.0.1:9000/b/incoming/dev%201/a%2Bb%20%C3%A9.wav"
        );
        let aws = signer(Endpoint::Aws);
        assert_eq!(aws.object_url("bkt", "k"), "https://bkt.s3.eu-west-1.amazonaws.com/k");
        assert_eq!(aws.object_url("b.k", "k"), "https://s3.eu-west-1.amazonaws.com/b.k/k");
    }

    #[tokio::test]
    async fn signed_headers_and_expiry_are_in_the_query() {
        let s = signer(Endpoint::Custom("http://127.0.0.1:9000".into()));
        let url = s
            .presign(
                "PUT",
                "b",
                "k.wav",
                &[("partNumber", "3"), ("uploadId", "u-1")],
                &[("content-length", "42"), ("x-amz-checksum-sha256", "abc=")],
                Duration::from_secs(600),
            )
            .await
            .unwrap();
        assert!(
            url.starts_with("http://127.0.0.1:9000/b/k.wav?partNumber=3&uploadId=u-1&"),
            "{url}"
        );
        assert!(url.contains("X-Amz-Expires=600"), "{url}");
        assert!(
            url.contains("X-Amz-SignedHeaders=content-length%3Bhost%3Bx-amz-checksum-sha256"),
            "{url}"
        );
    }
}
