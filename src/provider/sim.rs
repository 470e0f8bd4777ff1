//! `sim`: the embedded offline provider, a procedural renderer standing in for a hosted
//! image model.
//!
//! It draws a scene whose palette comes from the prompt's words and whose composition
//! comes from the seed, with the reference images composited in. Like a hosted platform
//! it has several *builds* and may serve one the suite did not pin:
//!
//! - build `1`: the original look;
//! - build `2`: a global model update: warmer colour grade, 20% more contrast, softer
//!   detail, subjects placed further right and the horizon lower.
//!
//! Since 2026-09-01 the platform serves build `2` to a canary half of the requests for
//! endpoints pinned to `1` (chosen by the prompt's hash), the way platforms roll out a
//! new build silently. `DRIFTGATE_SIM_BUILD=<build>` forces the build for every request;
//! `DRIFTGATE_SIM_DATE=<YYYY-MM-DD>` sets the platform's date, so that a test or a demo
//! does not depend on the machine's clock.
//! The `noise` parameter (pixel levels, default 0) adds per-call jitter like GPU
//! nondeterminism; without a seed the composition is random per sample.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use image::{Rgb, RgbImage, imageops};

use super::{ErrorKind, Generation, GenerationRequest, Metadata, Provider, ProviderError};

/// The builds the simulator can serve, with what changed.
pub const BUILDS: &[(&str, &str)] = &[
    ("1", "original look"),
    (
        "2",
        "warmer grade, +20% contrast, softer detail, subjects shifted right, horizon lower",
    ),
];
/// 2026-09-01T00:00:00Z: the day build 2 started its canary rollout.
const ROLLOUT_UNIX: u64 = 1_788_220_800;
/// Environment variable that forces the served build.
pub(super) const BUILD_ENV: &str = "DRIFTGATE_SIM_BUILD";
/// Environment variable that sets the platform's date (`YYYY-MM-DD`) instead of the clock.
pub(super) const DATE_ENV: &str = "DRIFTGATE_SIM_DATE";

/// Midnight UTC of a `YYYY-MM-DD` date, in Unix seconds.
fn parse_date(s: &str) -> Option<u64> {
    let date = time::Date::parse(s, &time::format_description::well_known::Iso8601::DATE).ok()?;
    u64::try_from(date.midnight().assume_utc().unix_timestamp()).ok()
}

/// The offline renderer.
#[derive(Debug, Clone)]
pub struct Sim {
    forced_build: Option<String>,
    now_unix: u64,
}

impl Sim {
    /// Reads `DRIFTGATE_SIM_BUILD` and `DRIFTGATE_SIM_DATE`, else the clock.
    ///
    /// # Errors
    /// When `DRIFTGATE_SIM_DATE` is set but is not a `YYYY-MM-DD` date.
    pub fn from_env() -> Result<Self, String> {
        let now_unix = match std::env::var(DATE_ENV).ok().filter(|d| !d.is_empty()) {
            Some(d) => parse_date(&d)
                .ok_or_else(|| format!("{DATE_ENV}={d:?} is not a date of the form YYYY-MM-DD"))?,
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        Ok(Self {
            forced_build: std::env::var(BUILD_ENV).ok().filter(|b| !b.is_empty()),
            now_unix,
        })
    }

    fn served_build(&self, pinned: &str, prompt: &str) -> String {
        if let Some(b) = &self.forced_build {
            return b.clone();
        }
        let canary = crate::digest::sha256_prefix(prompt.as_bytes()) & 1 == 0;
        if pinned == "1" && self.now_unix >= ROLLOUT_UNIX && canary {
            "2".into()
        } else {
            pinned.to_string()
        }
    }
}

impl Provider for Sim {
    async fn generate(&self, req: GenerationRequest<'_>) -> Result<Generation, ProviderError> {
        let start = Instant::now();
        let pinned = req.model.version.as_deref().unwrap_or("1");
        let build = self.served_build(pinned, &req.case.prompt);
        let build_no = match build.as_str() {
            "1" => 1,
            "2" => 2,
            other => {
                return Err(ProviderError::new(
                    ErrorKind::Rejected,
                    format!("unknown sim build `{other}`; builds are 1 and 2"),
                ));
            }
        };
        let noise = req
            .case
            .params
            .get("noise")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0);
        let nonce = nonce();
        let seed = if req.model.send_seed {
            req.case.seed
        } else {
            None
        }
        .unwrap_or(nonce ^ u64::from(req.sample));
        let mut refs = Vec::with_capacity(req.case.references.len());
        for r in &req.case.references {
            let bytes = std::fs::read(&r.path).map_err(|e| {
                ProviderError::new(
                    ErrorKind::Fatal,
                    format!("cannot read reference `{}`: {e}", r.name),
                )
            })?;
            let img = image::load_from_memory(&bytes).map_err(|e| {
                ProviderError::new(
                    ErrorKind::Rejected,
                    format!("reference `{}` is not a readable image: {e}", r.name),
                )
            })?;
            refs.push(img.to_rgb8());
        }
        let prompt = req.case.prompt.clone();
        let (width, height) = (req.case.size.width, req.case.size.height);
        let jitter = nonce.rotate_left(17) ^ u64::from(req.sample);
        // Rendering is CPU work: keep it off the async workers so requests stay concurrent.
        let bytes = tokio::task::spawn_blocking(move || {
            let scene = Scene {
                prompt: &prompt,
                references: &refs,
                seed,
                width,
                height,
                build: build_no,
            };
            let img = render(&scene, noise, jitter);
            let mut bytes = Vec::new();
            let enc = image::codecs::png::PngEncoder::new_with_quality(
                &mut bytes,
                image::codecs::png::CompressionType::Fast,
                image::codecs::png::FilterType::Adaptive,
            );
            img.write_with_encoder(enc).map(|()| bytes)
        })
        .await
        .map_err(|e| ProviderError::new(ErrorKind::Fatal, format!("renderer stopped: {e}")))?
        .map_err(|e| {
            ProviderError::new(ErrorKind::Fatal, format!("cannot encode the image: {e}"))
        })?;
        let mut headers = super::Headers::default();
        headers.insert("x-sim-build".to_string(), build.clone());
        Ok(Generation {
            bytes,
            metadata: Metadata {
                request_id: Some(format!("sim-{nonce:016x}")),
                model: Some(format!("sim-build-{build}")),
                seed: Some(seed),
                duration_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
                headers,
                ..Metadata::default()
            },
        })
    }
}

/// Per-call entropy, standing in for GPU nondeterminism.
fn nonce() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    splitmix(
        t ^ u64::from(std::process::id()).rotate_left(32)
            ^ COUNTER
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0x9E37_79B9),
    )
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A tiny deterministic generator: the renderer must give the same scene for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(1);
        splitmix(self.0)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    /// Roughly normal (sum of uniforms), mean 0, variance 1.
    fn normal(&mut self) -> f32 {
        (self.unit() + self.unit() + self.unit() + self.unit() - 2.0) * 1.732
    }
}

/// Colour words and the colour they give the scene.
const WORDS: &[(&str, [u8; 3])] = &[
    ("red", [200, 40, 40]),
    ("crimson", [160, 20, 50]),
    ("orange", [240, 140, 30]),
    ("yellow", [240, 210, 60]),
    ("gold", [212, 175, 55]),
    ("green", [50, 160, 70]),
    ("forest", [30, 100, 45]),
    ("grass", [90, 170, 60]),
    ("blue", [40, 90, 200]),
    ("sky", [120, 180, 235]),
    ("ocean", [20, 80, 140]),
    ("sea", [30, 100, 160]),
    ("purple", [120, 60, 160]),
    ("violet", [140, 90, 200]),
    ("pink", [240, 150, 180]),
    ("white", [240, 240, 235]),
    ("snow", [235, 240, 250]),
    ("black", [20, 20, 25]),
    ("grey", [128, 128, 128]),
    ("gray", [128, 128, 128]),
    ("wood", [140, 95, 55]),
    ("wooden", [140, 95, 55]),
    ("sand", [220, 195, 150]),
    ("desert", [210, 170, 110]),
    ("coffee", [110, 70, 40]),
    ("marble", [225, 222, 215]),
    ("concrete", [150, 150, 145]),
    ("neon", [255, 40, 200]),
    ("mint", [150, 230, 190]),
    ("teal", [0, 128, 128]),
];

/// What the renderer draws.
#[derive(Debug, Clone, Copy)]
pub struct Scene<'a> {
    /// The prompt; its words pick the palette.
    pub prompt: &'a str,
    /// Reference images, composited in.
    pub references: &'a [RgbImage],
    /// Composition seed.
    pub seed: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Build number (1 or 2).
    pub build: u8,
}

fn palette(prompt: &str) -> [[f32; 3]; 4] {
    let lower = prompt.to_lowercase();
    let mut picked: Vec<[u8; 3]> = lower
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter_map(|w| WORDS.iter().find(|(k, _)| *k == w).map(|(_, c)| *c))
        .take(4)
        .collect();
    let mut h = crate::digest::sha256_prefix(lower.as_bytes());
    while picked.len() < 4 {
        h = splitmix(h);
        let hue = (h % 360) as f32;
        picked.push(hsv(
            hue,
            0.35 + (h >> 20 & 0xff) as f32 / 600.0,
            0.45 + (h >> 30 & 0xff) as f32 / 600.0,
        ));
    }
    let mut out = [[0.0; 3]; 4];
    for (o, c) in out.iter_mut().zip(&picked) {
        *o = [f32::from(c[0]), f32::from(c[1]), f32::from(c[2])];
    }
    let tint = if lower.contains("night") || lower.contains("dark") {
        [0.45, 0.5, 0.7]
    } else if lower.contains("morning") || lower.contains("sunset") || lower.contains("warm") {
        [1.1, 1.0, 0.85]
    } else {
        [1.0, 1.0, 1.0]
    };
    for c in &mut out {
        for (v, t) in c.iter_mut().zip(tint) {
            *v = (*v * t).min(255.0);
        }
    }
    out
}

fn hsv(h: f32, s: f32, v: f32) -> [u8; 3] {
    let c = v * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [
        ((r + m) * 255.0) as u8,
        ((g + m) * 255.0) as u8,
        ((b + m) * 255.0) as u8,
    ]
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Renders a scene; `noise` is the standard deviation of per-pixel jitter in levels,
/// drawn from `jitter_seed`.
#[must_use]
pub fn render(scene: &Scene<'_>, noise: f64, jitter_seed: u64) -> RgbImage {
    let (w, h) = (scene.width, scene.height);
    let (wf, hf) = (w as f32, h as f32);
    let pal = palette(scene.prompt);
    let mut rng = Rng(scene.seed);
    let shift = if scene.build == 2 { 0.06 } else { 0.0 };
    let horizon = (0.55 + rng.unit() * 0.15 + shift * 0.5) * hf;
    let freq = 6.0 + rng.unit() * 10.0;
    let mut buf = vec![[0f32; 3]; (w * h) as usize];
    for y in 0..h {
        let yf = y as f32;
        for x in 0..w {
            let xf = x as f32;
            let px = if yf < horizon {
                mix(pal[0], pal[1], yf / horizon)
            } else {
                let t = (yf - horizon) / (hf - horizon).max(1.0);
                let stripe =
                    0.85 + 0.15 * ((xf / wf * freq + t * 3.0) * std::f32::consts::TAU).sin();
                let base = mix(
                    pal[2],
                    [pal[2][0] * 0.4, pal[2][1] * 0.4, pal[2][2] * 0.4],
                    t,
                );
                [base[0] * stripe, base[1] * stripe, base[2] * stripe]
            };
            buf[(y * w + x) as usize] = px;
        }
    }
    // The sun, then a few objects.
    let (sx, sy, sr) = (
        (0.15 + rng.unit() * 0.7 + shift) * wf,
        (0.1 + rng.unit() * 0.25) * hf,
        (0.05 + rng.unit() * 0.06) * wf,
    );
    ellipse(&mut buf, w, h, sx, sy, sr, sr, pal[3]);
    let objects = 3 + rng.next() % 4;
    for i in 0..objects {
        let cx = (0.1 + rng.unit() * 0.8 + shift) * wf;
        let cy = horizon + rng.unit() * (hf - horizon) * 0.8;
        let (rx, ry) = (
            (0.03 + rng.unit() * 0.1) * wf,
            (0.03 + rng.unit() * 0.12) * hf,
        );
        let c = pal[(i as usize + 1) % 4];
        let shade = [c[0] * 0.8, c[1] * 0.8, c[2] * 0.8];
        if rng.next().is_multiple_of(2) {
            ellipse(&mut buf, w, h, cx, cy, rx, ry, shade);
        } else {
            rect(&mut buf, w, h, cx - rx, cy - ry, cx + rx, cy + ry, shade);
        }
    }
    for (i, r) in scene.references.iter().enumerate() {
        composite(&mut buf, w, h, r, i, scene.references.len(), shift);
    }
    let mut img = RgbImage::new(w, h);
    let (contrast, grade) = if scene.build == 2 {
        (1.2, [10.0, 2.0, -12.0])
    } else {
        (1.0, [0.0; 3])
    };
    let mut jitter = Rng(jitter_seed);
    let noise = noise as f32;
    for (p, v) in img.pixels_mut().zip(&buf) {
        let mut out = [0u8; 3];
        for k in 0..3 {
            let graded = (v[k] - 128.0) * contrast + 128.0 + grade[k];
            let n = if noise > 0.0 {
                jitter.normal() * noise
            } else {
                0.0
            };
            out[k] = (graded + n).round().clamp(0.0, 255.0) as u8;
        }
        *p = Rgb(out);
    }
    if scene.build == 2 {
        img = imageops::blur(&img, 1.2);
    }
    img
}

#[expect(clippy::too_many_arguments, reason = "a drawing primitive")]
fn ellipse(buf: &mut [[f32; 3]], w: u32, h: u32, cx: f32, cy: f32, rx: f32, ry: f32, c: [f32; 3]) {
    let (x0, x1) = ((cx - rx).max(0.0) as u32, ((cx + rx) as u32).min(w));
    let (y0, y1) = ((cy - ry).max(0.0) as u32, ((cy + ry) as u32).min(h));
    for y in y0..y1 {
        for x in x0..x1 {
            let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
            let d = dx * dx + dy * dy;
            if d <= 1.0 {
                // Shaded like a lit sphere, so objects carry structure.
                let lit = 1.0 - 0.35 * d;
                buf[(y * w + x) as usize] = [c[0] * lit, c[1] * lit, c[2] * lit];
            }
        }
    }
}

#[expect(clippy::too_many_arguments, reason = "a drawing primitive")]
fn rect(buf: &mut [[f32; 3]], w: u32, h: u32, x0: f32, y0: f32, x1: f32, y1: f32, c: [f32; 3]) {
    let (x0, x1) = (x0.max(0.0) as u32, (x1.max(0.0) as u32).min(w));
    let (y0, y1) = (y0.max(0.0) as u32, (y1.max(0.0) as u32).min(h));
    for y in y0..y1 {
        let lit = 1.0 - 0.3 * (y - y0) as f32 / (y1 - y0).max(1) as f32;
        for x in x0..x1 {
            buf[(y * w + x) as usize] = [c[0] * lit, c[1] * lit, c[2] * lit];
        }
    }
}

fn composite(
    buf: &mut [[f32; 3]],
    w: u32,
    h: u32,
    r: &RgbImage,
    index: usize,
    count: usize,
    shift: f32,
) {
    let slot = w as f32 / (count as f32 + 1.0);
    let tw = ((w as f32 * 0.35).min(slot * 1.2) as u32).max(1);
    let th = ((u64::from(tw) * u64::from(r.height()) / u64::from(r.width().max(1))) as u32)
        .clamp(1, h / 2);
    let small = imageops::resize(r, tw, th, imageops::FilterType::Triangle);
    let cx = slot * (index as f32 + 1.0) + shift * w as f32;
    let x0 = (cx - tw as f32 / 2.0).max(0.0) as u32;
    let y0 = h.saturating_sub(th + h / 10);
    for (x, y, p) in small.enumerate_pixels() {
        let (bx, by) = (x0 + x, y0 + y);
        if bx < w && by < h {
            buf[(by * w + bx) as usize] = [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(build: u8) -> Scene<'static> {
        Scene {
            prompt: "red bottle on a wooden table, morning light",
            references: &[],
            seed: 42,
            width: 64,
            height: 48,
            build,
        }
    }

    #[test]
    fn same_seed_same_image_without_noise() {
        assert_eq!(render(&scene(1), 0.0, 1), render(&scene(1), 0.0, 2));
    }

    #[test]
    fn noise_moves_pixels_slightly() {
        let (a, b) = (render(&scene(1), 2.0, 1), render(&scene(1), 2.0, 2));
        assert_ne!(a, b);
        let max = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap();
        assert!(max < 40, "max difference {max}");
    }

    #[test]
    fn build_two_is_warmer() {
        let mean = |img: &RgbImage, k: usize| {
            img.pixels().map(|p| f64::from(p[k])).sum::<f64>()
                / f64::from(img.width() * img.height())
        };
        let (a, b) = (render(&scene(1), 0.0, 0), render(&scene(2), 0.0, 0));
        assert!(mean(&b, 0) - mean(&b, 2) > mean(&a, 0) - mean(&a, 2) + 10.0);
    }

    #[test]
    fn the_platform_date_parses_as_midnight_utc() {
        assert_eq!(parse_date("2026-09-01"), Some(ROLLOUT_UNIX));
        assert_eq!(parse_date("2026-08-31"), Some(ROLLOUT_UNIX - 86_400));
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("2026-13-01"), None);
    }

    #[test]
    fn forced_build_wins_and_canary_needs_the_date() {
        let forced = Sim {
            forced_build: Some("1".into()),
            now_unix: u64::MAX,
        };
        assert_eq!(forced.served_build("1", "anything"), "1");
        let before = Sim {
            forced_build: None,
            now_unix: ROLLOUT_UNIX - 1,
        };
        let after = Sim {
            forced_build: None,
            now_unix: ROLLOUT_UNIX,
        };
        let prompts: Vec<String> = (0..16).map(|i| format!("prompt {i}")).collect();
        assert!(prompts.iter().all(|p| before.served_build("1", p) == "1"));
        let served: Vec<String> = prompts.iter().map(|p| after.served_build("1", p)).collect();
        assert!(served.contains(&"1".to_string()) && served.contains(&"2".to_string()));
    }
}
