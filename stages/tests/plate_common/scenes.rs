//! Synthetic traffic-like scenes for tests and benches: a plate-like
//! rectangle with dark glyphs, rotated and scaled, on a cluttered
//! background. Deterministic (seeded), no third-party images.
#![allow(dead_code)]

use haul_stages::plate::{Gray, Rect};

/// A small deterministic PRNG (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [a, b).
    pub fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn int(&mut self, a: i64, b: i64) -> i64 {
        a + (self.next_u64() % ((b - a).max(1) as u64)) as i64
    }
}

/// How a scene looks.
#[derive(Debug, Clone, Copy)]
pub struct SceneSpec {
    pub width: usize,
    pub height: usize,
    /// Plate width in pixels.
    pub plate_w: f64,
    /// Rotation in degrees.
    pub angle: f64,
    /// Plate background minus glyph intensity.
    pub contrast: f64,
    pub seed: u64,
    /// Plate width over height; 0 picks an EU-like 3.8-4.8.
    pub aspect: f64,
    /// Glyph height over plate height; 0 means 0.68 (EU-like).
    pub glyph_ratio: f64,
}

/// Seven-segment style glyph masks (bits a..g).
const SEGMENTS: [u8; 14] = [
    0b0111111, 0b0000110, 0b1011011, 0b1001111, 0b1100110, 0b1101101, 0b1111101, 0b0000111, 0b1111111, 0b1101111,
    0b1110111, 0b1111100, 0b0111001, 0b1110001,
];

fn in_segment(seg: u8, u: f64, v: f64, t: f64) -> bool {
    // Glyph box u in [0, 1] (width), v in [0, 1] (height).
    let hbar = |y: f64| (v - y).abs() <= t / 2.0 && (0.0..=1.0).contains(&u);
    let vbar = |x: f64, y0: f64, y1: f64| (u - x).abs() <= t * 0.9 && v >= y0 && v <= y1;
    match seg {
        0 => hbar(t / 2.0),
        1 => vbar(1.0 - t * 0.9, 0.0, 0.5),
        2 => vbar(1.0 - t * 0.9, 0.5, 1.0),
        3 => hbar(1.0 - t / 2.0),
        4 => vbar(t * 0.9, 0.5, 1.0),
        5 => vbar(t * 0.9, 0.0, 0.5),
        _ => hbar(0.5),
    }
}

fn clutter(g: &mut Gray, rng: &mut Rng) {
    let (w, h) = (g.w as f64, g.h as f64);
    let base = rng.range(60.0, 160.0);
    for y in 0..g.h {
        for x in 0..g.w {
            let grad = base + 40.0 * (x as f64 / w) - 30.0 * (y as f64 / h);
            g.px[y * g.w + x] = grad.clamp(0.0, 255.0) as u8;
        }
    }
    for _ in 0..60 {
        let (x0, y0) = (rng.range(0.0, w), rng.range(0.0, h));
        let (bw, bh) = (rng.range(4.0, w / 4.0), rng.range(2.0, h / 5.0));
        let v = rng.range(0.0, 255.0) as u8;
        let round = rng.range(0.0, 1.0) < 0.3;
        for y in y0 as usize..((y0 + bh) as usize).min(g.h) {
            for x in x0 as usize..((x0 + bw) as usize).min(g.w) {
                let (dx, dy) = ((x as f64 - x0) / bw - 0.5, (y as f64 - y0) / bh - 0.5);
                if !round || dx * dx + dy * dy <= 0.25 {
                    g.px[y * g.w + x] = v;
                }
            }
        }
    }
    // Grille-like stripes, a classic false positive for edge detectors.
    let (sy, sx) = (rng.range(0.0, h * 0.8), rng.range(0.0, w * 0.6));
    for y in sy as usize..((sy + h * 0.1) as usize).min(g.h) {
        for x in sx as usize..((sx + w * 0.3) as usize).min(g.w) {
            if (y / 3) % 2 == 0 {
                g.px[y * g.w + x] = 30;
            }
        }
    }
}

/// A plate's layout in its own coordinates (u along, v across, pixels).
struct Plate {
    pw: f64,
    ph: f64,
    gh: f64,
    gw: f64,
    pitch: f64,
    lead: f64,
    glyphs: Vec<u8>,
    bg: f64,
    ink: f64,
}

impl Plate {
    fn new(spec: &SceneSpec, rng: &mut Rng) -> Self {
        let pw = spec.plate_w;
        let aspect = if spec.aspect > 0.0 {
            spec.aspect
        } else {
            rng.range(3.8, 4.8)
        };
        let ph = pw / aspect;
        let bg = rng.range(spec.contrast + 20.0, 250.0).min(250.0);
        let ink = (bg - spec.contrast).max(0.0);
        let wanted = rng.int(5, 9) as usize;
        let mut glyphs: Vec<u8> = (0..wanted).map(|_| SEGMENTS[rng.int(0, 14) as usize]).collect();
        let gh = ph * if spec.glyph_ratio > 0.0 { spec.glyph_ratio } else { 0.68 };
        let gw = gh * 0.5;
        // As many glyphs as fit with a gap of at least 0.3 glyph widths.
        glyphs.truncate(wanted.min(((pw * 0.86) / (1.3 * gw)).floor().max(3.0) as usize));
        let pitch = ((pw * 0.86) / glyphs.len() as f64).min(gh * 0.8);
        let lead = (pw - pitch * glyphs.len() as f64) * 0.6;
        Plate {
            pw,
            ph,
            gh,
            gw,
            pitch,
            lead,
            glyphs,
            bg,
            ink,
        }
    }

    /// Intensity at plate coordinates (u, v), or `None` outside the plate.
    fn value(&self, u: f64, v: f64) -> Option<f64> {
        let (pw, ph) = (self.pw, self.ph);
        if u < 0.0 || v < 0.0 || u >= pw || v >= ph {
            return None;
        }
        let border = u < ph * 0.05 || v < ph * 0.05 || u > pw - ph * 0.05 || v > ph - ph * 0.05;
        let gv = (v - (ph - self.gh) / 2.0) / self.gh;
        let k = ((u - self.lead) / self.pitch).floor();
        if (0.0..1.0).contains(&gv) && k >= 0.0 && (k as usize) < self.glyphs.len() {
            let gu = (u - self.lead - k * self.pitch - (self.pitch - self.gw) / 2.0) / self.gw;
            let mask = self.glyphs[k as usize];
            if (0..7).any(|s| mask & (1 << s) != 0 && in_segment(s, gu, gv, 0.17)) {
                return Some(self.ink);
            }
        }
        Some(if border { self.ink } else { self.bg })
    }
}

/// Renders a scene; returns the image and the plate's bounding box.
pub fn scene(spec: &SceneSpec) -> (Gray, Rect) {
    let mut rng = Rng::new(spec.seed);
    let mut g = Gray::filled(spec.width, spec.height, 0);
    clutter(&mut g, &mut rng);
    let plate = Plate::new(spec, &mut rng);
    let (ca, sa) = (spec.angle.to_radians().cos(), spec.angle.to_radians().sin());
    let (pw, ph) = (plate.pw, plate.ph);
    let half = (pw * ca.abs() + ph * sa.abs(), pw * sa.abs() + ph * ca.abs());
    let cx = rng.range(half.0 / 2.0 + 4.0, spec.width as f64 - half.0 / 2.0 - 4.0);
    let cy = rng.range(half.1 / 2.0 + 4.0, spec.height as f64 - half.1 / 2.0 - 4.0);
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for y in 0..spec.height {
        for x in 0..spec.width {
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            let Some(val) = plate.value(dx * ca + dy * sa + pw / 2.0, -dx * sa + dy * ca + ph / 2.0) else {
                continue;
            };
            (x0, y0) = (x0.min(x as f64), y0.min(y as f64));
            (x1, y1) = (x1.max(x as f64 + 1.0), y1.max(y as f64 + 1.0));
            g.px[y * spec.width + x] = val as u8;
        }
    }
    // Sensor noise.
    for p in g.px.iter_mut() {
        let n = rng.range(-6.0, 6.0);
        *p = (f64::from(*p) + n).clamp(0.0, 255.0) as u8;
    }
    let truth = Rect::new(x0 as i32, y0 as i32, (x1 - x0) as i32, (y1 - y0) as i32);
    (g, truth)
}

/// A varied set of scenes: sizes, angles and contrasts across the range.
pub fn varied(n: usize, seed: u64) -> Vec<(SceneSpec, Gray, Rect)> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let (w, h) = [(480, 360), (640, 480), (800, 600)][i % 3];
            let spec = SceneSpec {
                width: w,
                height: h,
                plate_w: rng.range(80.0, w as f64 * 0.45),
                angle: rng.range(-8.0, 8.0),
                contrast: rng.range(70.0, 200.0),
                seed: seed.wrapping_mul(31).wrapping_add(i as u64),
                aspect: 0.0,
                glyph_ratio: 0.0,
            };
            let (g, r) = scene(&spec);
            (spec, g, r)
        })
        .collect()
}

/// A face-like drawing (ellipse, eyes, brows, nose, mouth) for the
/// face cascades of the parity test.
pub fn faces(width: usize, height: usize, seed: u64) -> Gray {
    let mut rng = Rng::new(seed);
    let mut g = Gray::filled(width, height, 0);
    clutter(&mut g, &mut rng);
    let n = rng.int(2, 4);
    for _ in 0..n {
        let s = rng.range(18.0, (height as f64 / 3.0).max(20.0));
        let cx = rng.range(s, width as f64 - s);
        let cy = rng.range(s * 1.1, height as f64 - s * 1.1);
        let skin = rng.range(150.0, 220.0);
        for y in 0..height {
            for x in 0..width {
                let (dx, dy) = ((x as f64 - cx) / (0.8 * s), (y as f64 - cy) / s);
                if dx * dx + dy * dy > 1.0 {
                    continue;
                }
                let (u, v) = ((x as f64 - cx) / s, (y as f64 - cy) / s);
                let eye = |ex: f64| ((u - ex) / 0.2).powi(2) + ((v + 0.22) / 0.11).powi(2) <= 1.0;
                let iris = |ex: f64| ((u - ex) / 0.08).powi(2) + ((v + 0.22) / 0.08).powi(2) <= 1.0;
                let brow = |ex: f64| (u - ex).abs() <= 0.18 && (v + 0.45).abs() <= 0.05;
                let mouth = (u / 0.3).powi(2) + ((v - 0.45) / 0.08).powi(2) <= 1.0;
                let nose = u.abs() <= 0.04 && (-0.1..=0.2).contains(&v);
                let val = if iris(-0.35) || iris(0.35) {
                    25.0
                } else if eye(-0.35) || eye(0.35) {
                    235.0
                } else if brow(-0.37) || brow(0.37) {
                    60.0
                } else if mouth {
                    70.0
                } else if nose {
                    skin - 60.0
                } else {
                    skin
                };
                g.px[y * width + x] = val as u8;
            }
        }
    }
    blur3(&blur3(&g))
}

/// 3x3 box blur (edges replicated).
pub fn blur3(g: &Gray) -> Gray {
    let mut out = g.clone();
    for y in 0..g.h {
        for x in 0..g.w {
            let mut s = 0u32;
            for dy in [-1i64, 0, 1] {
                for dx in [-1i64, 0, 1] {
                    let yy = (y as i64 + dy).clamp(0, g.h as i64 - 1) as usize;
                    let xx = (x as i64 + dx).clamp(0, g.w as i64 - 1) as usize;
                    s += u32::from(g.px[yy * g.w + xx]);
                }
            }
            out.px[y * g.w + x] = ((s + 4) / 9) as u8;
        }
    }
    out
}

/// Encodes a gray image as PNG bytes.
pub fn png(g: &Gray) -> Vec<u8> {
    use image::ImageEncoder;
    let mut out = std::io::Cursor::new(Vec::new());
    let enc = image::codecs::png::PngEncoder::new(&mut out);
    match enc.write_image(&g.px, g.w as u32, g.h as u32, image::ExtendedColorType::L8) {
        Ok(()) => out.into_inner(),
        Err(_) => Vec::new(),
    }
}
