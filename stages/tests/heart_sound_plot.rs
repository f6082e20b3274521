//! The heart-sound plot, checked in its pixels: size, rows covering the whole recording,
//! S1/S2 (or unlabelled) marks where the analysis found the sounds, the note of a cut plot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use haul_stages::heart_sound::synth::{SynthSpec, synthesize};
use haul_stages::heart_sound::{Analysis, LabelStatus, Params, PlotLayout, SourceInfo, analyze_signal, render_plot};

/// A synthetic recording of `seconds` at `bpm`, analysed at 1 kHz.
fn analysis(bpm: f64, seconds: f64, params: &Params) -> Analysis {
    let spec = SynthSpec {
        rate: 1000,
        seconds,
        noise: 0.2,
        ..SynthSpec::new(bpm)
    };
    let source = SourceInfo {
        container: "wav".into(),
        codec: "pcm_s16le".into(),
        sample_rate_hz: 1000,
        channels: 1,
        bits_per_sample: Some(16),
        frames: (seconds * 1000.0) as u64,
        duration_s: seconds,
        clipped_fraction: 0.0,
    };
    analyze_signal(&synthesize(&spec), source, params)
}

/// A decoded plot: width, height, RGB pixels.
struct Image {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Image {
    fn decode(png_bytes: &[u8]) -> Image {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut rgb = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut rgb).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        Image {
            width: info.width,
            height: info.height,
            rgb,
        }
    }

    fn px(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y * self.width + x) as usize * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// The most pixels satisfying `f` in one of the columns `x - 2..=x + 2`, rows `y0..=y1`
    /// (the waveform covers part of the shade under a loud sound).
    fn most_near(&self, x: u32, band: (u32, u32), f: impl Fn([u8; 3]) -> bool) -> usize {
        (x.saturating_sub(2)..=x + 2)
            .map(|x| self.count_in_column(x, band, &f))
            .max()
            .unwrap_or(0)
    }

    /// Pixels of column `x` between rows `y0..=y1` that satisfy `f`.
    fn count_in_column(&self, x: u32, (y0, y1): (u32, u32), f: impl Fn([u8; 3]) -> bool) -> usize {
        (y0..=y1).filter(|y| f(self.px(x, *y))).count()
    }
}

/// The waveform's ink (the grid, the axes and the marks are lighter).
fn dark(p: [u8; 3]) -> bool {
    p.iter().all(|c| *c < 60)
}

fn tinted(p: [u8; 3], colour: usize) -> bool {
    let mut others = (0..3).filter(|c| *c != colour).map(|c| i32::from(p[c]));
    p[colour] > 150 && others.all(|c| i32::from(p[colour]) >= c + 20)
}

/// Light grey, not tinted: an unlabelled sound's shade.
fn grey(p: [u8; 3]) -> bool {
    let (lo, hi) = (p.iter().min().unwrap(), p.iter().max().unwrap());
    hi - lo < 8 && (190..235).contains(hi)
}

#[test]
fn a_20_s_recording_is_wrapped_into_two_rows_and_the_height_grows_with_the_rows() {
    let params = Params::default();
    for (seconds, rows) in [(19.6, 2), (35.0, 4)] {
        let a = analysis(72.0, seconds, &params);
        let img = Image::decode(&render_plot(&a, &params).unwrap());
        let layout = PlotLayout::new(seconds, &params);
        assert_eq!(layout.row_starts.len(), rows);
        assert_eq!((img.width, img.height), (params.plot_width, layout.height()));
    }
    let one_row = PlotLayout::new(5.0, &params).height();
    assert_eq!(
        PlotLayout::new(35.0, &params).height(),
        one_row + 3 * params.plot_row_height
    );
}

#[test]
fn the_rows_draw_the_waveform_from_the_start_to_the_end_of_the_recording() {
    let params = Params::default();
    let seconds = 26.5;
    let a = analysis(66.0, seconds, &params);
    let img = Image::decode(&render_plot(&a, &params).unwrap());
    let layout = PlotLayout::new(seconds, &params);
    let (x0, x1) = layout.plot_columns();
    for row in 0..layout.row_starts.len() {
        let band = layout.plot_rows(row);
        let inked: Vec<u32> = (x0..=x1).filter(|x| img.count_in_column(*x, band, dark) > 0).collect();
        let (first, last) = (*inked.first().unwrap(), *inked.last().unwrap());
        let row_end = (layout.row_starts[row] + layout.row_s).min(seconds) - 1e-3;
        let (_, end_x) = layout.locate(row_end).unwrap();
        assert!(first <= x0 + 2, "row {row} starts at column {first}, not {x0}");
        assert!(
            last.abs_diff(end_x) <= 3,
            "row {row} ends at column {last}, not {end_x}"
        );
        assert!(inked.len() as u32 >= (last - first) * 95 / 100, "row {row} has gaps");
    }
}

#[test]
fn s1_and_s2_are_shaded_red_and_blue_where_the_analysis_found_them() {
    let params = Params::default();
    let a = analysis(72.0, 19.6, &params);
    assert!(a.labelling.is_confident() && a.beats.len() > 15, "{:?}", a.labelling);
    let img = Image::decode(&render_plot(&a, &params).unwrap());
    let layout = PlotLayout::new(19.6, &params);
    let check = |t: f64, colour: usize, what: &str| {
        let (row, x) = layout.locate(t).unwrap();
        let shaded = img.most_near(x, layout.plot_rows(row), |p| tinted(p, colour));
        assert!(shaded > 40, "{what} at {t:.2} s: {shaded} tinted pixels");
    };
    for beat in &a.beats {
        if let (Some(s1), Some(s2)) = (beat.s1, beat.s2) {
            check(s1.centre_s, 0, "S1");
            check(s2.centre_s, 2, "S2");
            // Mid-systole is not marked.
            let mid = (s1.end_s + s2.onset_s) / 2.0;
            let (row, x) = layout.locate(mid).unwrap();
            let marked = img.count_in_column(x, layout.plot_rows(row), |p| tinted(p, 0) || tinted(p, 2));
            assert!(marked < 5, "mid-systole at {mid:.2} s is marked ({marked} pixels)");
        }
    }
}

#[test]
fn an_uncertain_labelling_shades_every_sound_grey_and_none_red_or_blue() {
    let params = Params::default();
    let mut a = analysis(72.0, 12.0, &params);
    a.labelling.status = LabelStatus::Uncertain;
    a.beats.clear();
    let img = Image::decode(&render_plot(&a, &params).unwrap());
    let layout = PlotLayout::new(12.0, &params);
    assert!(a.sounds.len() > 20);
    for s in &a.sounds {
        let (row, x) = layout.locate(s.centre_s).unwrap();
        let band = layout.plot_rows(row);
        assert!(img.most_near(x, band, grey) > 40, "sound at {:.2} s", s.centre_s);
        assert_eq!(img.count_in_column(x, band, |p| tinted(p, 0) || tinted(p, 2)), 0);
    }
}

#[test]
fn a_recording_longer_than_the_row_limit_is_cut_with_a_note() {
    let params = Params {
        plot_max_rows: 2,
        ..Params::default()
    };
    let a = analysis(80.0, 31.0, &params);
    let img = Image::decode(&render_plot(&a, &params).unwrap());
    let layout = PlotLayout::new(31.0, &params);
    assert!(layout.truncated() && layout.shown_s == 20.0);
    assert_eq!(img.height, layout.height());
    // The note is orange text in the footer, under the last row.
    let footer = layout.row_top(2)..img.height;
    let orange = footer
        .flat_map(|y| (0..img.width).map(move |x| (x, y)))
        .filter(|(x, y)| {
            let p = img.px(*x, *y);
            let [r, g, b] = p.map(i32::from);
            r > 120 && r > g + 50 && g > b
        })
        .count();
    assert!(orange > 200, "{orange} orange pixels");
    let full = Image::decode(&render_plot(&a, &Params::default()).unwrap());
    let footer = PlotLayout::new(31.0, &Params::default()).row_top(4)..full.height;
    assert!(
        !footer.flat_map(|y| (0..full.width).map(move |x| (x, y))).any(|(x, y)| {
            let [r, g, _] = full.px(x, y).map(i32::from);
            r > g + 50
        }),
        "a whole recording has no note"
    );
}
