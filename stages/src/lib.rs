//! # haul-stages
//!
//! haul's built-in stages. Each is a [`Stage`](haul_pipeline::Stage) in a folder of its own,
//! depending on the framework core and its own libraries only; the `haul` binary
//! (`stages/haul`) registers them with the application exactly as a user registers their
//! own stages (see `examples/custom-stage`).
//!
//! | stage | input | output |
//! |---|---|---|
//! | `checksum` | any object | size, SHA-256, MD5, detected type, ETag check |
//! | `heart-sound` | WAV, FLAC, MP3, Ogg Vorbis phonocardiograms | heart rate and variability, S1/S2 per beat, quality; plot |
//! | `mdf` | ASAM MDF 4 (`.mf4`) | header, channel groups, per-channel statistics; CSV per group |
//! | `plate` | JPEG, PNG, WebP photos | ranked plate boxes (classical, or your OpenCV cascade), EXIF; annotated photo and crops |
//! | `records` | a binary format declared in `haul.toml` | header values, per-field statistics; CSV |

#![forbid(unsafe_code)]

pub mod checksum;
mod font;
pub mod heart_sound;
pub mod mdf;
pub mod plate;
pub mod records;
pub mod samples;

use haul_pipeline::Registry;

/// Every built-in stage.
pub fn registry() -> Registry {
    Registry::new()
        .register(checksum::Checksum)
        .register_with("heart-sound", |p: heart_sound::Params| {
            Ok(heart_sound::HeartSoundStage::new(p)?)
        })
        .register(mdf::MdfStage)
        .register_with("plate", |p: plate::Params| Ok(plate::PlateStage::new(&p)?))
        .register_with("records", |layout: records::RecordLayout| {
            Ok(records::RecordsStage::new(layout)?)
        })
}
