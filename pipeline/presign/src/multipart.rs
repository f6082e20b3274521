//! Multipart uploads: start (CreateMultipartUpload + part URLs), resume (ListParts, URLs
//! for the missing parts) and complete (checks, then CompleteMultipartUpload or abort).

use std::collections::BTreeMap;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart as S3Part};
use haul_contract::{CompletedPart, PartPlan, RejectReason};

use super::validate::Rejection;

/// A part S3 holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPart {
    /// Part number.
    pub number: u32,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// The part's SHA-256 checksum as S3 verified it (base64).
    pub checksum_sha256: Option<String>,
}

/// An internal failure: logged here with its detail, told to the device without it (no
/// server names, paths or SDK dumps).
pub fn internal(what: &str, e: impl std::fmt::Display) -> Rejection {
    let id = incident_id();
    tracing::error!(incident = %id, operation = what, error = %e, "Presign failed.");
    Rejection {
        reason: RejectReason::Internal,
        message: format!("internal error during {what} (incident {id}); try again later"),
    }
}

/// A short id tying a device's error message to the cloud's log line.
fn incident_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32).rotate_left(16))
        .unwrap_or(0);
    format!("{nanos:08x}")
}

/// The parts of an upload (all pages).
pub async fn list_parts(
    client: &Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Vec<StoredPart>, Rejection> {
    let mut parts = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = client
            .list_parts()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .set_part_number_marker(marker.clone())
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e)
                if e.code() == Some("NoSuchUpload") || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) =>
            {
                return Err(Rejection {
                    reason: RejectReason::InvalidResume,
                    message: format!("upload {upload_id} for {key} does not exist (completed, aborted or expired)"),
                });
            }
            Err(e) => return Err(internal("ListParts", aws_sdk_s3::error::DisplayErrorContext(e))),
        };
        for p in out.parts() {
            parts.push(StoredPart {
                number: p.part_number().unwrap_or(0).max(0) as u32,
                size: p.size().unwrap_or(0).max(0) as u64,
                etag: p.e_tag().unwrap_or("").trim_matches('"').to_owned(),
                checksum_sha256: p.checksum_sha256().map(str::to_owned),
            });
        }
        if out.is_truncated() == Some(true) {
            marker = out.next_part_number_marker().map(str::to_owned);
        } else {
            return Ok(parts);
        }
    }
}

/// The planned parts not yet received intact.
pub fn missing(plan: &[(u32, u64, u64)], stored: &[StoredPart]) -> Vec<(u32, u64, u64)> {
    let have: BTreeMap<u32, u64> = stored.iter().map(|p| (p.number, p.size)).collect();
    plan.iter()
        .copied()
        .filter(|(n, _, size)| have.get(n) != Some(size))
        .collect()
}

/// Part URLs with the headers each was signed with, in plan order.
pub fn plans(parts: &[(u32, u64, u64)], signed: Vec<(String, BTreeMap<String, String>)>) -> Vec<PartPlan> {
    parts
        .iter()
        .zip(signed)
        .map(|(&(number, offset, size), (url, headers))| PartPlan {
            number,
            offset,
            size,
            url,
            headers,
        })
        .collect()
}

/// Checks a completion against what S3 holds: parts 1..=N all present with the ETags the
/// device reports, every part but the last of one size, the last no larger, the sizes
/// summing to the declared total, which is within `max_size`.
pub fn check_completion(
    reported: &[CompletedPart],
    stored: &[StoredPart],
    size: u64,
    max_size: u64,
) -> Result<(), String> {
    if reported.is_empty() {
        return Err("no parts reported".into());
    }
    if size > max_size {
        return Err(format!("size {size} exceeds the maximum of {max_size} bytes"));
    }
    let by_number: BTreeMap<u32, &StoredPart> = stored.iter().map(|p| (p.number, p)).collect();
    let first = by_number.get(&1).map(|p| p.size).unwrap_or(0);
    let mut total = 0u64;
    for (i, part) in reported.iter().enumerate() {
        let expected = i as u32 + 1;
        if part.number != expected {
            return Err(format!(
                "part numbers must be 1..={}; found {} at position {expected}",
                reported.len(),
                part.number
            ));
        }
        let Some(s) = by_number.get(&expected) else {
            return Err(format!("part {expected} was never uploaded"));
        };
        if s.etag != part.etag.trim_matches('"') {
            return Err(format!(
                "part {expected}: ETag {:?} does not match the stored {:?}",
                part.etag, s.etag
            ));
        }
        let last = i + 1 == reported.len();
        if (!last && s.size != first) || (last && s.size > first) {
            return Err(format!(
                "part {expected} is {} bytes; parts must be {first} bytes except a smaller last one",
                s.size
            ));
        }
        total += s.size;
    }
    if by_number.len() > reported.len() {
        return Err(format!(
            "{} parts were uploaded but {} reported",
            by_number.len(),
            reported.len()
        ));
    }
    if total != size {
        return Err(format!("parts hold {total} bytes but the upload declared {size}"));
    }
    Ok(())
}

/// Completes the upload with the parts S3 holds (their ETags and verified SHA-256
/// checksums, which S3 requires for an upload started with a checksum algorithm); returns
/// the object's ETag.
pub async fn complete(
    client: &Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    stored: &[StoredPart],
) -> Result<String, Rejection> {
    let mut stored: Vec<&StoredPart> = stored.iter().collect();
    stored.sort_by_key(|p| p.number);
    let parts: Vec<S3Part> = stored
        .iter()
        .map(|p| {
            S3Part::builder()
                .part_number(p.number as i32)
                .e_tag(&p.etag)
                .set_checksum_sha256(p.checksum_sha256.clone())
                .build()
        })
        .collect();
    let out = client
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .map_err(|e| match e.code() {
            Some("BadDigest") => Rejection {
                reason: RejectReason::BadCompletion,
                message: "the uploaded parts do not hash to the declared SHA-256 of the file".into(),
            },
            _ => internal("CompleteMultipartUpload", aws_sdk_s3::error::DisplayErrorContext(e)),
        })?;
    Ok(out.e_tag().unwrap_or("").trim_matches('"').to_owned())
}

/// Aborts an upload (best effort: a failure is logged; the bucket's lifecycle rule cleans up).
pub async fn abort(client: &Client, bucket: &str, key: &str, upload_id: &str) {
    let result = client
        .abort_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await;
    if let Err(e) = result {
        tracing::warn!(%key, upload_id, error = %aws_sdk_s3::error::DisplayErrorContext(e), "Abort of a bad upload failed.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(parts: &[(u32, u64, &str)]) -> Vec<StoredPart> {
        parts
            .iter()
            .map(|&(number, size, etag)| StoredPart {
                number,
                size,
                etag: etag.into(),
                checksum_sha256: None,
            })
            .collect()
    }

    fn reported(parts: &[(u32, &str)]) -> Vec<CompletedPart> {
        parts
            .iter()
            .map(|&(number, etag)| CompletedPart {
                number,
                etag: etag.into(),
            })
            .collect()
    }

    #[test]
    fn resume_plans_only_missing_or_short_parts() {
        let plan = haul_contract::s3::part_layout(25, 10);
        let have = stored(&[(1, 10, "a"), (3, 4, "c")]);
        assert_eq!(missing(&plan, &have), vec![(2, 10, 10), (3, 20, 5)]);
    }

    #[test]
    fn completions_are_checked_against_stored_parts() {
        let have = stored(&[(1, 10, "a"), (2, 10, "b"), (3, 5, "c")]);
        let all = reported(&[(1, "a"), (2, "\"b\""), (3, "c")]);
        assert!(check_completion(&all, &have, 25, 100).is_ok());
        assert!(
            check_completion(&all, &have, 26, 100)
                .unwrap_err()
                .contains("declared 26")
        );
        assert!(check_completion(&all, &have, 25, 20).unwrap_err().contains("maximum"));
        let missing = reported(&[(1, "a"), (2, "b")]);
        assert!(
            check_completion(&missing, &have, 20, 100)
                .unwrap_err()
                .contains("3 parts were uploaded")
        );
        let wrong = reported(&[(1, "a"), (2, "x"), (3, "c")]);
        assert!(check_completion(&wrong, &have, 25, 100).unwrap_err().contains("ETag"));
        let gap = reported(&[(1, "a"), (3, "c")]);
        assert!(check_completion(&gap, &have, 15, 100).is_err());
    }
}
