//! The sensitivity bench's generator: seeded scenes, the two kinds of case built from them,
//! and the drifts applied to a case's samples. Everything is a pure function of the seeds,
//! so two runs (and two machines) write the same pixels.

use std::path::Path;

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};

/// Side of every generated sample: small, so a ladder of a dozen kinds runs in minutes.
pub(crate) const FRAME: u32 = 192;
/// Stochastic cases crop their samples from a square view this much larger than the frame.
const VIEW: u32 = FRAME * 3 / 2;
/// Samples a side, the default of a suite.
pub(crate) const SAMPLES: u32 = 3;
/// Faint per-pixel noise of "identical" requests (GPU nondeterminism, transcoding).
const NOISE_SIGMA: f64 = 1.2;
/// Quality of the extra re-encode some near-deterministic samples go through.
const REENCODE_QUALITY: u8 = 90;
/// Quality providers commonly return.
const FINAL_QUALITY: u8 = 95;

/// SplitMix64: a seeded generator without a dependency, identical on every platform.
#[derive(Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for one tuple of identifiers (scene, case, night, sample...).
    pub(crate) fn derive(parts: &[u64]) -> Self {
        let mut rng = Rng(0x5eed_d21f_7a7e_0001);
        for &p in parts {
            rng.0 ^= p.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            rng.next_u64();
        }
        rng
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        ((self.unit() * f64::from(n)) as u32).min(n.saturating_sub(1))
    }

    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(f64::MIN_POSITIVE);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// One scene a model might render: a square view, `VIEW` pixels a side.
pub(crate) struct Scene {
    pub(crate) name: String,
    view: RgbImage,
}

/// The committed photographs (the chelsea scoring fixture and the three downscaled copies in
/// `tests/fixtures/drift/`) and procedural scenes for what the photographs lack: a dark,
/// low-colour sky, a page of text, a grey still life, a flat-colour graphic.
pub(crate) fn scenes() -> Vec<Scene> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for (name, path) in [
        ("chelsea", "score/chelsea.png"),
        ("astronaut", "drift/astronaut.png"),
        ("coffee", "drift/coffee.png"),
        ("rocket", "drift/rocket.png"),
    ] {
        let photo = image::open(fixtures.join(path))
            .unwrap_or_else(|e| panic!("read fixture {path}: {e}"))
            .to_rgb8();
        out.push(Scene {
            name: name.to_string(),
            view: square(&photo, VIEW),
        });
    }
    for seed in 1..=2u64 {
        out.push(Scene {
            name: format!("stars{seed}"),
            view: stars(seed),
        });
        out.push(Scene {
            name: format!("page{seed}"),
            view: page(seed),
        });
        out.push(Scene {
            name: format!("grey{seed}"),
            view: grey_still_life(seed),
        });
        out.push(Scene {
            name: format!("poster{seed}"),
            view: poster(seed),
        });
    }
    out
}

/// The centre square of `img`, resized to `side`.
fn square(img: &RgbImage, side: u32) -> RgbImage {
    let s = img.width().min(img.height());
    let crop = imageops::crop_imm(img, (img.width() - s) / 2, (img.height() - s) / 2, s, s);
    imageops::resize(&crop.to_image(), side, side, FilterType::CatmullRom)
}

fn clamp_u8(v: f64) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// A night sky: a near-black gradient, faint low-chroma haze and a few hundred stars.
fn stars(seed: u64) -> RgbImage {
    let mut rng = Rng::derive(&[0x57a2, seed]);
    let n = VIEW as f64;
    let haze: Vec<(f64, f64, f64)> = (0..4)
        .map(|_| (rng.unit() * n, rng.unit() * n, 20.0 + rng.unit() * 50.0))
        .collect();
    let mut img = RgbImage::from_fn(VIEW, VIEW, |x, y| {
        let (xf, yf) = (f64::from(x), f64::from(y));
        let glow: f64 = haze
            .iter()
            .map(|&(cx, cy, r)| {
                14.0 * (-((xf - cx).powi(2) + (yf - cy).powi(2)) / (2.0 * r * r)).exp()
            })
            .sum();
        let base = 6.0 + 8.0 * yf / n;
        Rgb([
            clamp_u8(base + glow * 0.8),
            clamp_u8(base + glow * 0.85),
            clamp_u8(base + 4.0 + glow),
        ])
    });
    for _ in 0..300 {
        let (cx, cy) = (rng.unit() * n, rng.unit() * n);
        let peak = 60.0 + rng.unit() * 195.0;
        let r = 0.5 + rng.unit() * 1.2;
        let tint = rng.unit() * 20.0 - 10.0;
        let reach = (r * 3.0).ceil() as i64;
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let (x, y) = (cx as i64 + dx, cy as i64 + dy);
                if x < 0 || y < 0 || x >= i64::from(VIEW) || y >= i64::from(VIEW) {
                    continue;
                }
                let d2 = (x as f64 + 0.5 - cx).powi(2) + (y as f64 + 0.5 - cy).powi(2);
                let v = peak * (-d2 / (2.0 * r * r)).exp();
                let p = img.get_pixel_mut(x as u32, y as u32);
                p.0 = [
                    clamp_u8(f64::from(p.0[0]) + v + tint),
                    clamp_u8(f64::from(p.0[1]) + v),
                    clamp_u8(f64::from(p.0[2]) + v - tint),
                ];
            }
        }
    }
    img
}

/// Text-like marks: rows of "words" of 2-3 stroke glyphs, in `ink`, inside the rectangle.
fn marks(
    img: &mut RgbImage,
    rect: (u32, u32, u32, u32),
    glyph_h: u32,
    ink: Rgb<u8>,
    rng: &mut Rng,
) {
    let (x0, y0, w, h) = rect;
    let glyph_w = (glyph_h * 2 / 3).max(2);
    let stroke = (glyph_h / 6).max(1);
    let mut y = y0;
    while y + glyph_h <= y0 + h {
        let mut x = x0;
        while x + glyph_w <= x0 + w {
            let word = 2 + rng.below(6);
            for _ in 0..word {
                if x + glyph_w > x0 + w {
                    break;
                }
                for _ in 0..2 + rng.below(2) {
                    let (rx, ry, rw, rh) = if rng.unit() < 0.5 {
                        // A vertical stroke.
                        (x + rng.below(glyph_w - stroke + 1), y, stroke, glyph_h)
                    } else {
                        // A horizontal stroke.
                        (x, y + rng.below(glyph_h - stroke + 1), glyph_w, stroke)
                    };
                    for py in ry..(ry + rh).min(img.height()) {
                        for px in rx..(rx + rw).min(img.width()) {
                            img.put_pixel(px, py, ink);
                        }
                    }
                }
                x += glyph_w + stroke;
            }
            x += glyph_w;
        }
        y += glyph_h * 2;
    }
}

/// A printed page: off-white paper with a slight fall-off and lines of dark text.
fn page(seed: u64) -> RgbImage {
    let mut rng = Rng::derive(&[0x9a6e, seed]);
    let n = f64::from(VIEW);
    let mut img = RgbImage::from_fn(VIEW, VIEW, |x, y| {
        let fall =
            10.0 * ((f64::from(x) - n / 2.0).powi(2) + (f64::from(y) - n / 2.0).powi(2)) / (n * n);
        Rgb([
            clamp_u8(236.0 - fall),
            clamp_u8(232.0 - fall),
            clamp_u8(222.0 - fall),
        ])
    });
    let ink = Rgb([30, 30, 36]);
    marks(&mut img, (16, 14, VIEW - 32, 22), 11, ink, &mut rng);
    marks(
        &mut img,
        (16, 48, VIEW - 32, VIEW - 64),
        6 + seed as u32,
        ink,
        &mut rng,
    );
    img
}

/// Grey objects (shaded discs and slabs) on a textured grey ground: no colour at all.
fn grey_still_life(seed: u64) -> RgbImage {
    let mut rng = Rng::derive(&[0x62e7, seed]);
    let n = f64::from(VIEW);
    let texture: Vec<f64> = (0..VIEW * VIEW).map(|_| rng.normal() * 6.0).collect();
    let objects: Vec<(bool, f64, f64, f64, f64)> = (0..7)
        .map(|_| {
            (
                rng.unit() < 0.5,
                rng.unit() * n,
                rng.unit() * n,
                15.0 + rng.unit() * 45.0,
                60.0 + rng.unit() * 160.0,
            )
        })
        .collect();
    RgbImage::from_fn(VIEW, VIEW, |x, y| {
        let (xf, yf) = (f64::from(x), f64::from(y));
        let mut v = 90.0 + 60.0 * xf / n + texture[(y * VIEW + x) as usize];
        for &(disc, cx, cy, r, tone) in &objects {
            let inside = if disc {
                (xf - cx).powi(2) + (yf - cy).powi(2) < r * r
            } else {
                (xf - cx).abs() < r && (yf - cy).abs() < r * 0.5
            };
            if inside {
                // Lit from the top left.
                v = tone + 40.0 * ((cx - xf) + (cy - yf)) / (2.0 * r);
            }
        }
        let g = clamp_u8(v);
        Rgb([g, g, g])
    })
}

/// A flat-colour graphic: saturated shapes with soft edges on a coloured ground, the kind
/// of image a brand asks for.
fn poster(seed: u64) -> RgbImage {
    let mut rng = Rng::derive(&[0x9057, seed]);
    let n = f64::from(VIEW);
    let colour = |rng: &mut Rng| [0; 3].map(|_: u8| 40.0 + rng.unit() * 215.0);
    let ground = colour(&mut rng);
    let shapes: Vec<([f64; 3], f64, f64, f64)> = (0..6)
        .map(|_| {
            let c = colour(&mut rng);
            (c, rng.unit() * n, rng.unit() * n, 20.0 + rng.unit() * 60.0)
        })
        .collect();
    RgbImage::from_fn(VIEW, VIEW, |x, y| {
        let (xf, yf) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
        let mut c = ground;
        for &(sc, cx, cy, r) in &shapes {
            let d = ((xf - cx).powi(2) + (yf - cy).powi(2)).sqrt();
            // A one-pixel soft edge, as a renderer anti-aliases it.
            let a = (r - d + 0.5).clamp(0.0, 1.0);
            for k in 0..3 {
                c[k] += a * (sc[k] - c[k]);
            }
        }
        Rgb([clamp_u8(c[0]), clamp_u8(c[1]), clamp_u8(c[2])])
    })
}

/// What a platform might change, each with a magnitude.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    /// RGB offset R+k, G+0.4k, B-k.
    Warm,
    /// RGB offset R-k, B+k.
    Cool,
    /// Every channel times 1 + p/100.
    Brightness,
    /// Distance from the mean luma times 1 - p/100.
    Contrast,
    /// Each pixel moved p% of the way to its luma.
    Desaturation,
    /// Luma-preserving hue rotation by the given degrees (the W3C `hue-rotate` matrix).
    Hue,
    /// Gaussian blur of the given sigma (pixels).
    Blur,
    /// A JPEG encode at the given quality before the final one.
    Jpeg,
    /// Rendered at the given fraction of the size, scaled back up (bilinear both ways).
    Resolution,
    /// Zoomed in by the given percent about the centre (p/2 % cropped from each edge).
    Zoom,
    /// A white box with dark text-like marks in one corner, at the given opacity (%).
    Stamp,
    /// A solid band along one edge, the given percent of the frame thick.
    Border,
}

impl Kind {
    pub(crate) const ALL: [Kind; 12] = [
        Kind::Warm,
        Kind::Cool,
        Kind::Brightness,
        Kind::Contrast,
        Kind::Desaturation,
        Kind::Hue,
        Kind::Blur,
        Kind::Jpeg,
        Kind::Resolution,
        Kind::Zoom,
        Kind::Stamp,
        Kind::Border,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Warm => "warm shift",
            Kind::Cool => "cool shift",
            Kind::Brightness => "brightness",
            Kind::Contrast => "contrast",
            Kind::Desaturation => "desaturation",
            Kind::Hue => "hue",
            Kind::Blur => "blur",
            Kind::Jpeg => "JPEG",
            Kind::Resolution => "resolution",
            Kind::Zoom => "zoom",
            Kind::Stamp => "stamp",
            Kind::Border => "border",
        }
    }

    pub(crate) fn unit(self) -> &'static str {
        match self {
            Kind::Warm => "RGB offset k (R+k, G+0.4k, B-k)",
            Kind::Cool => "RGB offset k (R-k, B+k)",
            Kind::Brightness => "% brighter (RGB x (1+p/100))",
            Kind::Contrast => "% less contrast (about mean luma)",
            Kind::Desaturation => "% towards grey (luma)",
            Kind::Hue => "degrees of hue rotation",
            Kind::Blur => "Gaussian sigma (px at 192 px)",
            Kind::Jpeg => "JPEG quality (lower is stronger)",
            Kind::Resolution => "rendered at fraction of size (lower is stronger)",
            Kind::Zoom => "% zoom in (crop centre, resize back)",
            Kind::Stamp => "% opacity of a 6%-area stamp",
            Kind::Border => "% of the side, band on one edge",
        }
    }

    /// The magnitudes tried, weakest first: from invisible to obvious.
    pub(crate) fn ladder(self) -> &'static [f64] {
        match self {
            Kind::Warm | Kind::Cool | Kind::Brightness | Kind::Border => {
                &[1.0, 2.0, 3.0, 5.0, 8.0, 12.0]
            }
            Kind::Contrast | Kind::Desaturation => &[2.0, 4.0, 6.0, 10.0, 15.0, 25.0],
            Kind::Hue => &[2.0, 4.0, 6.0, 9.0, 12.0, 18.0],
            Kind::Blur => &[0.4, 0.5, 0.7, 1.0, 1.5, 2.0],
            Kind::Jpeg => &[90.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0],
            Kind::Resolution => &[0.9, 0.8, 0.7, 0.6, 0.5],
            Kind::Zoom => &[1.0, 2.0, 3.0, 4.0, 6.0, 8.0],
            Kind::Stamp => &[10.0, 20.0, 30.0, 50.0, 70.0, 100.0],
        }
    }

    /// Whether the change happens in transport (after the model's own noise) rather than
    /// in the rendered picture.
    fn in_transport(self) -> bool {
        self == Kind::Jpeg
    }
}

/// A drift and its magnitude.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Drift {
    pub(crate) kind: Kind,
    pub(crate) magnitude: f64,
}

fn map_rgb(img: &mut RgbImage, f: impl Fn([f64; 3]) -> [f64; 3]) {
    for p in img.pixels_mut() {
        let c = f([f64::from(p.0[0]), f64::from(p.0[1]), f64::from(p.0[2])]);
        p.0 = [clamp_u8(c[0]), clamp_u8(c[1]), clamp_u8(c[2])];
    }
}

fn luma(c: [f64; 3]) -> f64 {
    0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
}

fn jpeg_round_trip(img: &RgbImage, quality: u8) -> RgbImage {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(img)
        .expect("encode JPEG");
    image::load_from_memory(&bytes)
        .expect("decode own JPEG")
        .to_rgb8()
}

/// Separable Gaussian blur, edges clamped, taps out to 3 sigma.
fn gaussian_blur(img: &RgbImage, sigma: f64) -> RgbImage {
    let radius = (3.0 * sigma).ceil() as i64;
    let taps: Vec<f64> = (-radius..=radius)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = taps.iter().sum();
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let pass = |src: &RgbImage, horizontal: bool| {
        RgbImage::from_fn(src.width(), src.height(), |x, y| {
            let mut acc = [0.0; 3];
            for (k, t) in taps.iter().enumerate() {
                let d = k as i64 - radius;
                let (sx, sy) = if horizontal {
                    ((i64::from(x) + d).clamp(0, w - 1), i64::from(y))
                } else {
                    (i64::from(x), (i64::from(y) + d).clamp(0, h - 1))
                };
                let p = src.get_pixel(sx as u32, sy as u32);
                for (a, v) in acc.iter_mut().zip(p.0) {
                    *a += t * f64::from(v);
                }
            }
            Rgb(acc.map(|v| clamp_u8(v / total)))
        })
    };
    pass(&pass(img, true), false)
}

/// Bilinear zoom about the centre: output pixel centres map to `1 / factor` of the distance.
fn zoom(img: &RgbImage, factor: f64) -> RgbImage {
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let sx = (f64::from(x) + 0.5 - w / 2.0) / factor + w / 2.0 - 0.5;
        let sy = (f64::from(y) + 0.5 - h / 2.0) / factor + h / 2.0 - 0.5;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let at = |dx: f64, dy: f64| {
            let px = (x0 + dx).clamp(0.0, w - 1.0) as u32;
            let py = (y0 + dy).clamp(0.0, h - 1.0) as u32;
            img.get_pixel(px, py).0
        };
        let (a, b, c, d) = (at(0.0, 0.0), at(1.0, 0.0), at(0.0, 1.0), at(1.0, 1.0));
        Rgb(std::array::from_fn(|k| {
            let top = f64::from(a[k]) * (1.0 - fx) + f64::from(b[k]) * fx;
            let bottom = f64::from(c[k]) * (1.0 - fx) + f64::from(d[k]) * fx;
            clamp_u8(top * (1.0 - fy) + bottom * fy)
        }))
    })
}

/// Where a case's localised drift goes: the same corner or edge in every sample, as a
/// platform stamps or pads every image alike.
#[derive(Clone, Copy)]
struct Placement {
    corner: u32,
    light_band: bool,
    seed: u64,
}

impl Placement {
    fn of(scene_index: usize, mode: Mode) -> Self {
        let mut rng = Rng::derive(&[0x91ace, scene_index as u64, mode as u64]);
        Placement {
            corner: rng.below(4),
            light_band: rng.unit() < 0.5,
            seed: rng.next_u64(),
        }
    }
}

fn stamp(img: &mut RgbImage, opacity: f64, at: Placement) {
    let (w, h) = (img.width(), img.height());
    // 30% x 20% of the frame: 6% of its area.
    let (bw, bh) = (w * 3 / 10, h / 5);
    let margin = w / 25;
    let x0 = if at.corner.is_multiple_of(2) {
        margin
    } else {
        w - margin - bw
    };
    let y0 = if at.corner < 2 {
        margin
    } else {
        h - margin - bh
    };
    let mut overlay = RgbImage::from_pixel(bw, bh, Rgb([245, 245, 245]));
    let mut rng = Rng::derive(&[0x57a9, at.seed]);
    let glyph = (bh / 4).max(4);
    marks(
        &mut overlay,
        (3, 3, bw - 6, bh - 6),
        glyph,
        Rgb([20, 20, 20]),
        &mut rng,
    );
    let a = opacity / 100.0;
    for (x, y, p) in overlay.enumerate_pixels() {
        let q = img.get_pixel_mut(x0 + x, y0 + y);
        for k in 0..3 {
            q.0[k] = clamp_u8(f64::from(q.0[k]) * (1.0 - a) + f64::from(p.0[k]) * a);
        }
    }
}

fn border(img: &mut RgbImage, percent: f64, at: Placement) {
    let (w, h) = (img.width(), img.height());
    let side = if at.corner.is_multiple_of(2) { w } else { h };
    let band = ((f64::from(side) * percent / 100.0).round() as u32).max(1);
    let colour = if at.light_band {
        Rgb([250, 250, 250])
    } else {
        Rgb([5, 5, 5])
    };
    for y in 0..h {
        for x in 0..w {
            let inside = match at.corner {
                0 => x < band,
                1 => y < band,
                2 => x >= w - band,
                _ => y >= h - band,
            };
            if inside {
                img.put_pixel(x, y, colour);
            }
        }
    }
}

/// The drift applied to a rendered (clean) frame.
fn apply_rendered(img: &mut RgbImage, drift: Drift, at: Placement) {
    let m = drift.magnitude;
    match drift.kind {
        Kind::Warm => map_rgb(img, |c| [c[0] + m, c[1] + 0.4 * m, c[2] - m]),
        Kind::Cool => map_rgb(img, |c| [c[0] - m, c[1], c[2] + m]),
        Kind::Brightness => map_rgb(img, |c| c.map(|v| v * (1.0 + m / 100.0))),
        Kind::Contrast => {
            let n = f64::from(img.width() * img.height());
            let mean = img.pixels().map(|p| luma(p.0.map(f64::from))).sum::<f64>() / n;
            map_rgb(img, |c| c.map(|v| mean + (v - mean) * (1.0 - m / 100.0)));
        }
        Kind::Desaturation => map_rgb(img, |c| {
            let y = luma(c);
            c.map(|v| v + (y - v) * m / 100.0)
        }),
        Kind::Hue => {
            let (s, co) = m.to_radians().sin_cos();
            let r = [
                [
                    0.213 + co * 0.787 - s * 0.213,
                    0.715 - co * 0.715 - s * 0.715,
                    0.072 - co * 0.072 + s * 0.928,
                ],
                [
                    0.213 - co * 0.213 + s * 0.143,
                    0.715 + co * 0.285 + s * 0.140,
                    0.072 - co * 0.072 - s * 0.283,
                ],
                [
                    0.213 - co * 0.213 - s * 0.787,
                    0.715 - co * 0.715 + s * 0.715,
                    0.072 + co * 0.928 + s * 0.072,
                ],
            ];
            map_rgb(img, |c| {
                r.map(|row| row[0] * c[0] + row[1] * c[1] + row[2] * c[2])
            });
        }
        Kind::Blur => *img = gaussian_blur(img, m),
        Kind::Resolution => {
            let (w, h) = (img.width(), img.height());
            let (sw, sh) = (
                ((f64::from(w) * m).round() as u32).max(1),
                ((f64::from(h) * m).round() as u32).max(1),
            );
            let small = imageops::resize(img, sw, sh, FilterType::Triangle);
            *img = imageops::resize(&small, w, h, FilterType::Triangle);
        }
        Kind::Zoom => *img = zoom(img, 1.0 / (1.0 - m / 100.0)),
        Kind::Stamp => stamp(img, m, at),
        Kind::Border => border(img, m, at),
        Kind::Jpeg => {}
    }
}

/// The two kinds of case every scene yields.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Mode {
    /// A fixed seed: every sample the same frame, differing by faint noise and, for the
    /// odd-numbered samples, a re-encode.
    Det,
    /// A stochastic model: every sample a different crop of the scene's larger view.
    Sto,
}

impl Mode {
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Mode::Det => "det",
            Mode::Sto => "sto",
        }
    }
}

/// The clean frame of sample `sample` of a case on night `night`: the whole view (det)
/// or a random crop of it (sto).
fn frame(scene: &Scene, mode: Mode, rng: &mut Rng) -> RgbImage {
    match mode {
        Mode::Det => imageops::resize(&scene.view, FRAME, FRAME, FilterType::Triangle),
        Mode::Sto => {
            let room = VIEW - FRAME + 1;
            let (x, y) = (rng.below(room), rng.below(room));
            imageops::crop_imm(&scene.view, x, y, FRAME, FRAME).to_image()
        }
    }
}

/// Sample `sample` of the case (`scene`, `mode`) on night `night`, with `drift` applied.
/// The night decides the noise, the re-encodes and the crops; the drift does not, so every
/// step of a ladder changes the same samples.
pub(crate) fn sample(
    scene_index: usize,
    scene: &Scene,
    mode: Mode,
    night: u64,
    sample: u32,
    drift: Option<Drift>,
) -> RgbImage {
    let mode_id = mode as u64;
    let mut rng = Rng::derive(&[scene_index as u64, mode_id, night, u64::from(sample)]);
    let mut img = frame(scene, mode, &mut rng);
    let at = Placement::of(scene_index, mode);
    if let Some(d) = drift.filter(|d| !d.kind.in_transport()) {
        apply_rendered(&mut img, d, at);
    }
    for p in img.pixels_mut() {
        for v in &mut p.0 {
            *v = clamp_u8(f64::from(*v) + NOISE_SIGMA * rng.normal());
        }
    }
    // The odd-numbered samples of every night, baselines included: were it drawn at
    // random, some nights would re-encode every sample where the baselines re-encoded
    // none, which is a real change of transport, not noise.
    if mode == Mode::Det && sample % 2 == 1 {
        img = jpeg_round_trip(&img, REENCODE_QUALITY);
    }
    if let Some(d) = drift.filter(|d| d.kind.in_transport()) {
        img = jpeg_round_trip(&img, d.magnitude as u8);
    }
    img
}

/// Writes every case of `scenes` for one night into `dir` (`<dir>/<scene>-<mode>/<n>.jpg`,
/// the layout `driftgate compare` reads).
pub(crate) fn write_night(dir: &Path, scenes: &[Scene], night: u64, drift: Option<Drift>) {
    for (i, scene) in scenes.iter().enumerate() {
        for mode in [Mode::Det, Mode::Sto] {
            let case = dir.join(format!("{}-{}", scene.name, mode.suffix()));
            std::fs::create_dir_all(&case).expect("mkdir case");
            for n in 0..SAMPLES {
                let img = sample(i, scene, mode, night, n, drift);
                let file =
                    std::fs::File::create(case.join(format!("{n}.jpg"))).expect("create sample");
                let mut out = std::io::BufWriter::new(file);
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, FINAL_QUALITY)
                    .encode_image(&img)
                    .expect("write sample");
            }
        }
    }
}

/// What a drift does to one scene's clean near-deterministic frame.
pub(crate) struct Effect {
    /// Mean CIEDE2000: the common yardstick beside each kind's own unit.
    pub(crate) delta_e: f64,
    /// Whether at least 1 in 100 of the frame's 8-bit values moves: a hue rotation leaves a
    /// grey scene as it was (rounding may flip a stray value), and its cases then carry
    /// nothing to find.
    pub(crate) changes: bool,
}

/// The effect of `drift` on every scene.
pub(crate) fn effects(scenes: &[Scene], drift: Drift) -> Vec<Effect> {
    scenes
        .iter()
        .enumerate()
        .map(|(i, scene)| {
            let mut rng = Rng::derive(&[i as u64]);
            let clean = frame(scene, Mode::Det, &mut rng);
            let mut drifted = clean.clone();
            if drift.kind.in_transport() {
                drifted = jpeg_round_trip(&drifted, drift.magnitude as u8);
            } else {
                apply_rendered(&mut drifted, drift, Placement::of(i, Mode::Det));
            }
            Effect {
                delta_e: driftgate::score::score_pair(&clean, &drifted)
                    .metrics
                    .delta_e,
                changes: clean
                    .as_raw()
                    .iter()
                    .zip(drifted.as_raw())
                    .filter(|(a, b)| a != b)
                    .count()
                    * 100
                    >= clean.as_raw().len(),
            }
        })
        .collect()
}
