//! Where the device sends its bytes: only to the S3 endpoint it trusts, whatever a response
//! names. A broker client posing as the cloud could otherwise answer a request with a URL on
//! its own host and receive the file.
//!
//! - [`TrustedS3::Aws`] (the default): HTTPS to an Amazon S3 host (`s3.amazonaws.com`,
//!   `s3.REGION.amazonaws.com`, `BUCKET.s3.REGION.amazonaws.com`, the dual-stack and
//!   `s3-REGION` forms, and the `.amazonaws.com.cn` partition).
//! - [`TrustedS3::Endpoint`]: exactly this scheme, host and port (`--s3-endpoint`, for
//!   `haul dev`, MiniStack or another S3-compatible service).

/// The S3 endpoint a device uploads to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TrustedS3 {
    /// Amazon S3 over HTTPS.
    #[default]
    Aws,
    /// One endpoint: `scheme://host:port`, as parsed from the `--s3-endpoint` URL.
    Endpoint(String),
}

/// A URL the device will not send the file to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cloud's upload URL {url:?} is not on the trusted S3 endpoint ({trusted}); nothing was sent")]
pub struct Untrusted {
    /// The URL's scheme, host and port (never its signature).
    pub url: String,
    /// What is trusted.
    pub trusted: String,
}

impl TrustedS3 {
    /// Trust exactly the endpoint of `url` (`http://127.0.0.1:9000`); an error names the
    /// value when it is not an http(s) URL with a host.
    pub fn endpoint(url: &str) -> Result<Self, String> {
        origin(url)
            .map(TrustedS3::Endpoint)
            .ok_or_else(|| format!("--s3-endpoint {url:?} is not an http:// or https:// URL with a host"))
    }

    /// Checks a URL from the cloud before any byte is sent to it.
    pub fn check(&self, url: &str) -> Result<(), Untrusted> {
        let found = origin(url);
        let ok = match (self, &found) {
            (TrustedS3::Endpoint(want), Some(got)) => want == got,
            (TrustedS3::Aws, Some(got)) => is_aws_s3(got),
            (_, None) => false,
        };
        match ok {
            true => Ok(()),
            false => Err(Untrusted {
                url: found.unwrap_or_else(|| url.chars().take(80).collect()),
                trusted: self.to_string(),
            }),
        }
    }
}

impl std::fmt::Display for TrustedS3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrustedS3::Aws => f.write_str("Amazon S3 over HTTPS"),
            TrustedS3::Endpoint(e) => f.write_str(e),
        }
    }
}

/// `scheme://host:port` of an http(s) URL (default ports made explicit, host lower-case).
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') && h.ends_with(']') => {
            (h, p.parse::<u16>().ok()?)
        }
        _ => (authority, default_port),
    };
    if host.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{}:{port}", host.to_ascii_lowercase()))
}

/// Whether an origin is Amazon S3 over HTTPS on port 443.
fn is_aws_s3(origin: &str) -> bool {
    let Some(host) = origin.strip_prefix("https://").and_then(|h| h.strip_suffix(":443")) else {
        return false;
    };
    let Some(name) = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
    else {
        return false;
    };
    // `s3`, `s3.REGION`, `s3-REGION`, `s3.dualstack.REGION`, `BUCKET.s3...`
    let labels: Vec<&str> = name.split('.').collect();
    labels.iter().any(|l| *l == "s3" || l.starts_with("s3-") && l.len() > 3) && labels.iter().all(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazon_s3_hosts_are_trusted_by_default() {
        let aws = TrustedS3::Aws;
        for ok in [
            "https://s3.amazonaws.com/b/k?X-Amz-Signature=1",
            "https://haul-data.s3.eu-west-1.amazonaws.com/incoming/a.wav",
            "https://s3.dualstack.us-east-1.amazonaws.com/b/k",
            "https://s3-eu-west-1.amazonaws.com/b/k",
            "https://b.s3.cn-north-1.amazonaws.com.cn/k",
        ] {
            assert!(aws.check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://s3.amazonaws.com/b/k",
            "https://s3.amazonaws.com.evil.example/k",
            "https://evil.example/s3.amazonaws.com",
            "https://lambda.us-east-1.amazonaws.com/k",
            "https://s3.amazonaws.com:8443/k",
            "https://user@s3.amazonaws.com/k",
            "not a url",
        ] {
            assert!(aws.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_given_endpoint_is_trusted_exactly() {
        let t = TrustedS3::endpoint("http://127.0.0.1:9000").unwrap();
        assert!(t.check("http://127.0.0.1:9000/haul-data/incoming/a?X=1").is_ok());
        assert!(t.check("http://127.0.0.1:9001/haul-data/a").is_err());
        assert!(t.check("https://127.0.0.1:9000/a").is_err());
        assert!(t.check("http://attacker.example:9000/a").is_err());
        let err = t
            .check("http://attacker.example:9000/a?X-Amz-Signature=secret")
            .unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(err.to_string().contains("attacker.example"), "{err}");
        assert!(TrustedS3::endpoint("ftp://h").is_err());
        assert_eq!(
            TrustedS3::endpoint("HTTPS://S3.Example.com/").unwrap(),
            TrustedS3::Endpoint("https://s3.example.com:443".into())
        );
    }
}
