//! S3's limits that haul's contracts depend on (AWS documents them in "Amazon S3 multipart
//! upload limits"). The presign function, the embedded S3 endpoint, the configuration
//! checks and the device all read them from here.

/// The smallest part of a multipart upload, except the last one: 5 MiB.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// The largest part: 5 GiB.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// The most parts an upload may have; part numbers run from 1 to this.
pub const MAX_PARTS: u64 = 10_000;
/// The largest object: 5 TiB.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024 * 1024;
/// The largest single `PutObject`: 5 GiB.
pub const MAX_PUT_SIZE: u64 = MAX_PART_SIZE;
/// SigV4 presigned URLs live at most 7 days (in seconds).
pub const MAX_PRESIGN_EXPIRY_S: u64 = 7 * 24 * 3600;

/// The most part digests one request carries: 1500 digests of 64 hex digits keep a request
/// under 100 KB, below IoT Core's 128 KB message limit.
pub const MAX_PARTS_PER_REQUEST: u64 = 1500;

/// The part size a device cuts a file of `size` bytes into: `preferred` (at least 5 MiB),
/// raised in whole MiB so the file needs at most [`MAX_PARTS_PER_REQUEST`] parts.
pub fn device_part_size(size: u64, preferred: u64) -> u64 {
    let mib = 1u64 << 20;
    let needed = size.div_ceil(MAX_PARTS_PER_REQUEST).div_ceil(mib) * mib;
    preferred.max(MIN_PART_SIZE).max(needed).min(MAX_PART_SIZE)
}

/// The part layout of an upload of `size` bytes in parts of `part_size`:
/// `(number, offset, size)` from part 1; every part but the last is `part_size` long.
pub fn part_layout(size: u64, part_size: u64) -> Vec<(u32, u64, u64)> {
    let part_size = part_size.max(1);
    let mut parts = Vec::new();
    let mut offset = 0;
    let mut number = 1u32;
    while offset < size {
        let len = part_size.min(size - offset);
        parts.push((number, offset, len));
        offset += len;
        number += 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_part_sizes_keep_the_digests_in_one_message() {
        assert_eq!(device_part_size(100 << 20, 16 << 20), 16 << 20);
        assert_eq!(device_part_size(100 << 20, 1 << 20), MIN_PART_SIZE);
        let big = 1u64 << 40;
        let p = device_part_size(big, 16 << 20);
        assert!(big.div_ceil(p) <= MAX_PARTS_PER_REQUEST, "{p}");
        assert_eq!(p % (1 << 20), 0);
    }

    #[test]
    fn the_last_part_takes_the_remainder() {
        assert_eq!(part_layout(10, 4), vec![(1, 0, 4), (2, 4, 4), (3, 8, 2)]);
        assert_eq!(part_layout(8, 4), vec![(1, 0, 4), (2, 4, 4)]);
        assert!(part_layout(0, 4).is_empty());
    }
}
