//! EXIF fields the stage reports: capture time, GPS position, camera.

use exif::{In, Tag, Value};
use serde::Serialize;

/// Metadata read from the image's EXIF block.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExifInfo {
    /// EXIF orientation (1-8) as stored; the image is already rotated upright.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orientation: Option<u16>,
    /// Capture time, `YYYY-MM-DDTHH:MM:SS` plus the EXIF offset (`+02:00`) when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// GPS position, when the camera recorded one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gps: Option<GpsPosition>,
    /// Camera make and model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub camera: Option<String>,
}

/// A WGS-84 position in decimal degrees (north and east positive).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GpsPosition {
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
    /// Altitude in metres above sea level, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub altitude_m: Option<f64>,
}

impl ExifInfo {
    /// Parses a raw EXIF block (TIFF structure, with or without the
    /// `Exif\0\0` prefix). Returns `None` when it cannot be parsed: metadata
    /// is optional and never fails a detection.
    pub fn parse(raw: &[u8]) -> Option<ExifInfo> {
        let tiff = raw.strip_prefix(b"Exif\0\0").unwrap_or(raw);
        let exif = exif::Reader::new().read_raw(tiff.to_vec()).ok()?;
        let info = ExifInfo {
            orientation: exif
                .get_field(Tag::Orientation, In::PRIMARY)
                .and_then(|f| f.value.get_uint(0))
                .and_then(|v| u16::try_from(v).ok()),
            captured_at: captured_at(&exif),
            gps: gps(&exif),
            camera: camera(&exif),
        };
        (info != ExifInfo::default()).then_some(info)
    }
}

fn ascii(exif: &exif::Exif, tag: Tag) -> Option<String> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(parts) => {
            let s = parts.first()?;
            let s = String::from_utf8_lossy(s)
                .trim_matches(char::from(0))
                .trim()
                .to_string();
            (!s.is_empty()).then_some(s)
        }
        _ => None,
    }
}

fn captured_at(exif: &exif::Exif) -> Option<String> {
    let raw = ascii(exif, Tag::DateTimeOriginal).or_else(|| ascii(exif, Tag::DateTime))?;
    // "YYYY:MM:DD HH:MM:SS"
    let b = raw.as_bytes();
    let well_formed = b.len() >= 19
        && b[4] == b':'
        && b[7] == b':'
        && b[13] == b':'
        && b[16] == b':'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    if !well_formed || raw.starts_with("0000") {
        return None;
    }
    let mut out = format!("{}-{}-{}T{}", &raw[0..4], &raw[5..7], &raw[8..10], &raw[11..19]);
    if let Some(offset) = ascii(exif, Tag::OffsetTimeOriginal).or_else(|| ascii(exif, Tag::OffsetTime)) {
        out.push_str(&offset);
    }
    Some(out)
}

fn rationals(exif: &exif::Exif, tag: Tag) -> Option<Vec<f64>> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Rational(v) if !v.is_empty() => Some(v.iter().map(|r| r.to_f64()).collect()),
        _ => None,
    }
}

fn degrees(exif: &exif::Exif, tag: Tag, reference: Tag, negative: &str) -> Option<f64> {
    let parts = rationals(exif, tag)?;
    let (d, m, s) = (
        parts[0],
        parts.get(1).copied().unwrap_or(0.0),
        parts.get(2).copied().unwrap_or(0.0),
    );
    let value = d + m / 60.0 + s / 3600.0;
    if !value.is_finite() {
        return None;
    }
    let sign = match ascii(exif, reference) {
        Some(r) if r.eq_ignore_ascii_case(negative) => -1.0,
        _ => 1.0,
    };
    Some(sign * value)
}

fn gps(exif: &exif::Exif) -> Option<GpsPosition> {
    let latitude = degrees(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, "S")?;
    let longitude = degrees(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, "W")?;
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return None;
    }
    let below_sea = exif
        .get_field(Tag::GPSAltitudeRef, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        == Some(1);
    let altitude_m = rationals(exif, Tag::GPSAltitude)
        .and_then(|v| v.first().copied())
        .filter(|a| a.is_finite())
        .map(|a| if below_sea { -a } else { a });
    Some(GpsPosition {
        latitude,
        longitude,
        altitude_m,
    })
}

fn camera(exif: &exif::Exif) -> Option<String> {
    match (ascii(exif, Tag::Make), ascii(exif, Tag::Model)) {
        (Some(make), Some(model)) if model.starts_with(&make) => Some(model),
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (one, other) => one.or(other),
    }
}

/// Test helper: a TIFF/EXIF block with the fields this module reads.
#[cfg(test)]
pub(crate) fn sample_block() -> Vec<u8> {
    use exif::experimental::Writer;
    use exif::{Field, Rational};
    let field = |tag, value| Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    };
    let dms = |d: u32, m: u32, s100: u32| {
        Value::Rational(vec![
            Rational::from((d, 1)),
            Rational::from((m, 1)),
            Rational::from((s100, 100)),
        ])
    };
    let fields = [
        field(Tag::Orientation, Value::Short(vec![6])),
        field(Tag::Make, Value::Ascii(vec![b"Acme".to_vec()])),
        field(Tag::Model, Value::Ascii(vec![b"Cam 3".to_vec()])),
        field(
            Tag::DateTimeOriginal,
            Value::Ascii(vec![b"2024:05:17 08:30:12".to_vec()]),
        ),
        field(Tag::OffsetTimeOriginal, Value::Ascii(vec![b"+02:00".to_vec()])),
        field(Tag::GPSLatitudeRef, Value::Ascii(vec![b"N".to_vec()])),
        field(Tag::GPSLatitude, dms(48, 8, 3000)),
        field(Tag::GPSLongitudeRef, Value::Ascii(vec![b"W".to_vec()])),
        field(Tag::GPSLongitude, dms(11, 34, 1800)),
        field(Tag::GPSAltitude, Value::Rational(vec![Rational::from((5195, 10))])),
    ];
    let mut w = Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut buf = std::io::Cursor::new(Vec::new());
    match w.write(&mut buf, false) {
        Ok(()) => buf.into_inner(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_time_gps_camera_and_orientation() {
        let info = ExifInfo::parse(&sample_block()).expect("parsable block");
        assert_eq!(info.orientation, Some(6));
        assert_eq!(info.captured_at.as_deref(), Some("2024-05-17T08:30:12+02:00"));
        assert_eq!(info.camera.as_deref(), Some("Acme Cam 3"));
        let gps = info.gps.expect("gps");
        assert!((gps.latitude - (48.0 + 8.0 / 60.0 + 30.0 / 3600.0)).abs() < 1e-9);
        assert!((gps.longitude + (11.0 + 34.0 / 60.0 + 18.0 / 3600.0)).abs() < 1e-9);
        assert_eq!(gps.altitude_m, Some(519.5));
    }

    #[test]
    fn garbage_is_no_metadata() {
        assert_eq!(ExifInfo::parse(b"not a tiff"), None);
    }
}
