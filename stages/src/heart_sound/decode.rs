//! Decoding any supported audio file to a mono signal at the analysis rate.
//!
//! Packets are decoded one at a time, mixed to mono and fed to a streaming resampler, so the
//! memory needed is that of the resampled signal, never the whole stream at its original rate.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Serialize;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::error::HeartSoundError;
use super::resample::Resampler;

/// What the recording was, before resampling.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceInfo {
    /// Container short name from the demuxer (`wav`, `flac`, `ogg`, `mp3`, ...).
    pub container: String,
    /// Codec short name from the decoder (`pcm_s16le`, `flac`, `vorbis`, `mp3`, ...).
    pub codec: String,
    /// Original sample rate in Hz.
    pub sample_rate_hz: u32,
    /// Original channel count (mixed to mono for analysis).
    pub channels: usize,
    /// Bits per sample when the codec states it (PCM, FLAC).
    pub bits_per_sample: Option<u32>,
    /// Decoded frames (samples per channel) at the original rate.
    pub frames: u64,
    /// Duration in seconds.
    pub duration_s: f64,
    /// Fraction of mono samples at or above 99.9 % of full scale (clipping).
    pub clipped_fraction: f64,
}

/// A decoded recording: mono samples at `rate` Hz plus what the source was.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Mono samples at the analysis rate, full scale = 1.0.
    pub samples: Vec<f32>,
    /// Sample rate of `samples` in Hz.
    pub rate: u32,
    /// Description of the original file.
    pub info: SourceInfo,
}

/// Decode `path` and resample it to `rate` Hz mono.
pub fn decode_file(path: &Path, rate: u32) -> Result<Decoded, HeartSoundError> {
    let file = File::open(path).map_err(|source| io_error(path, source))?;
    let len = file.metadata().map_err(|source| io_error(path, source))?.len();
    if len == 0 {
        return Err(HeartSoundError::Empty { path: path.into() });
    }
    decode_source(path, Box::new(file), rate)
}

/// Decode a recording held in memory (`name` for messages and the format hint), as
/// [`decode_file`] does: the entry point of the audio fuzz target.
pub fn decode_bytes(name: &str, bytes: Vec<u8>, rate: u32) -> Result<Decoded, HeartSoundError> {
    let path = Path::new(name);
    if bytes.is_empty() {
        return Err(HeartSoundError::Empty { path: path.into() });
    }
    decode_source(path, Box::new(std::io::Cursor::new(bytes)), rate)
}

fn decode_source(
    path: &Path,
    source: Box<dyn symphonia::core::io::MediaSource>,
    rate: u32,
) -> Result<Decoded, HeartSoundError> {
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let format = symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
        .map_err(|e| open_error(path, e))?;
    decode_stream(path, format, rate)
}

fn decode_stream(path: &Path, mut format: Box<dyn FormatReader + '_>, rate: u32) -> Result<Decoded, HeartSoundError> {
    let unsupported = |detail: &str| HeartSoundError::Unsupported {
        path: path.into(),
        detail: detail.into(),
    };
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| unsupported("no audio track"))?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| unsupported("track has no audio codec parameters"))?
        .clone();
    let (track_id, expected_frames) = (track.id, track.num_frames);
    let src_rate = params
        .sample_rate
        .filter(|r| *r > 0)
        .ok_or_else(|| unsupported("sample rate unknown"))?;
    check_header(
        path,
        src_rate,
        params.channels.as_ref().map_or(1, |c| c.count()),
        track.num_frames,
    )?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| open_error(path, e))?;
    let mut mix = Mixer::new(src_rate, rate);
    let mut channels = params.channels.as_ref().map_or(0, |c| c.count());
    loop {
        if haul_pipeline::cancel::cancelled() {
            return Err(HeartSoundError::Cancelled { path: path.into() });
        }
        if mix.seconds() > MAX_DURATION_S {
            return Err(too_long(path, mix.seconds()));
        }
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => return Err(stream_error(path, e, mix.seconds())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = decoder
            .decode(&packet)
            .map_err(|e| stream_error(path, e, mix.seconds()))?;
        channels = channels.max(buf.spec().channels().count());
        mix.push(&buf);
    }
    check_complete(path, &mix, expected_frames, decoder.codec_info().short_name)?;
    let info = SourceInfo {
        container: format.format_info().short_name.to_string(),
        codec: decoder.codec_info().short_name.to_string(),
        sample_rate_hz: src_rate,
        channels,
        bits_per_sample: params.bits_per_sample,
        frames: mix.frames,
        duration_s: mix.seconds(),
        clipped_fraction: mix.clipped as f64 / mix.frames.max(1) as f64,
    };
    Ok(Decoded {
        samples: mix.finish(),
        rate,
        info,
    })
}

/// Lowest and highest sample rates accepted (Hz): phonocardiograms are recorded at 2-48 kHz;
/// anything outside this is a damaged or hostile header, refused before any allocation.
pub const SAMPLE_RATE_HZ: (u32, u32) = (1_000, 384_000);
/// Most channels accepted.
pub const MAX_CHANNELS: usize = 32;
/// Longest recording accepted (6 hours): bounds the memory a file can make the stage use.
pub const MAX_DURATION_S: f64 = 6.0 * 3600.0;

/// Refuses absurd headers (decoder bombs: a 4 GHz sample rate, thousands of channels,
/// days of audio) in microseconds, as permanent errors naming the value.
fn check_header(path: &Path, rate: u32, channels: usize, frames: Option<u64>) -> Result<(), HeartSoundError> {
    let unsupported = |detail: String| HeartSoundError::Unsupported {
        path: path.into(),
        detail,
    };
    let (lo, hi) = SAMPLE_RATE_HZ;
    if !(lo..=hi).contains(&rate) {
        return Err(unsupported(format!("sample rate {rate} Hz is outside {lo}-{hi} Hz")));
    }
    if channels > MAX_CHANNELS {
        return Err(unsupported(format!("{channels} channels, above {MAX_CHANNELS}")));
    }
    match frames {
        Some(n) if n as f64 / f64::from(rate) > MAX_DURATION_S => Err(too_long(path, n as f64 / f64::from(rate))),
        _ => Ok(()),
    }
}

fn too_long(path: &Path, seconds: f64) -> HeartSoundError {
    HeartSoundError::Unsupported {
        path: path.into(),
        detail: format!("{seconds:.0} s of audio, above the limit of {MAX_DURATION_S:.0} s"),
    }
}

/// Fewer frames than the header announced means the file was cut short.
fn check_complete(path: &Path, mix: &Mixer, expected: Option<u64>, codec: &str) -> Result<(), HeartSoundError> {
    if mix.frames == 0 {
        return Err(HeartSoundError::NoAudio { path: path.into() });
    }
    // Lossless streams must match their header exactly; lossy ones may differ by encoder
    // delay and padding.
    let lossless = codec.starts_with("pcm") || codec == "flac";
    let slack = if lossless { 0 } else { 4096 };
    match expected {
        Some(n) if mix.frames + slack < n => Err(HeartSoundError::Truncated {
            path: path.into(),
            detail: format!(
                "header announces {n} frames, only {} could be decoded (cut short or corrupt)",
                mix.frames
            ),
        }),
        _ => Ok(()),
    }
}

/// Mixes decoded packets to mono and resamples them as they come.
struct Mixer {
    resampler: Resampler,
    planes: Vec<Vec<f32>>,
    mono: Vec<f32>,
    out: Vec<f32>,
    frames: u64,
    clipped: u64,
    src_rate: u32,
}

impl Mixer {
    fn new(src_rate: u32, dst_rate: u32) -> Mixer {
        Mixer {
            resampler: Resampler::new(src_rate, dst_rate),
            planes: Vec::new(),
            mono: Vec::new(),
            out: Vec::new(),
            frames: 0,
            clipped: 0,
            src_rate,
        }
    }

    fn push(&mut self, buf: &symphonia::core::audio::GenericAudioBufferRef<'_>) {
        if buf.frames() == 0 {
            return;
        }
        buf.copy_to_vecs_planar::<f32>(&mut self.planes);
        let n = buf.frames();
        let scale = 1.0 / self.planes.len().max(1) as f32;
        self.mono.clear();
        self.mono.resize(n, 0.0);
        for plane in &self.planes {
            for (m, s) in self.mono.iter_mut().zip(plane) {
                *m += s * scale;
            }
        }
        self.clipped += self.mono.iter().filter(|v| v.abs() >= 0.999).count() as u64;
        self.frames += n as u64;
        self.resampler.push(&self.mono, &mut self.out);
    }

    fn seconds(&self) -> f64 {
        self.frames as f64 / self.src_rate as f64
    }

    fn finish(mut self) -> Vec<f32> {
        self.resampler.finish(&mut self.out);
        self.out
    }
}

fn io_error(path: &Path, source: std::io::Error) -> HeartSoundError {
    HeartSoundError::Io {
        path: path.into(),
        source,
    }
}

/// Errors while probing the container or creating the decoder.
fn open_error(path: &Path, e: SymError) -> HeartSoundError {
    let path: PathBuf = path.into();
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => HeartSoundError::Truncated {
            path,
            detail: "the file ends before its audio stream could be opened".into(),
        },
        SymError::IoError(source) => HeartSoundError::Io { path, source },
        SymError::DecodeError(msg) => HeartSoundError::Corrupt {
            path,
            at_s: 0.0,
            detail: msg.into(),
        },
        other => HeartSoundError::Unsupported {
            path,
            detail: other.to_string(),
        },
    }
}

/// Errors while reading packets or decoding them, `at_s` seconds into the audio.
fn stream_error(path: &Path, e: SymError, at_s: f64) -> HeartSoundError {
    let path: PathBuf = path.into();
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => HeartSoundError::Truncated {
            path,
            detail: format!("stream ends inside a packet after {at_s:.3} s"),
        },
        SymError::IoError(source) => HeartSoundError::Io { path, source },
        SymError::Unsupported(what) => HeartSoundError::Unsupported {
            path,
            detail: what.into(),
        },
        other => HeartSoundError::Corrupt {
            path,
            at_s,
            detail: other.to_string(),
        },
    }
}
