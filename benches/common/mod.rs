//! What the benches share: deterministic grain, medians, the committed fixture, and a
//! child process's wall time and peak RSS. Each bench uses a part of it.
#![allow(dead_code, reason = "each bench uses a part of this module")]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use image::RgbImage;

/// Deterministic grain and warm shift from a 32-bit LCG (no `rand` needed for a benchmark).
pub(crate) fn grain(img: &mut RgbImage, seed: u32, amplitude: i32, warm: i32) {
    let mut state = seed;
    for p in img.pixels_mut() {
        for (c, v) in p.0.iter_mut().enumerate() {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = ((state >> 24) as i32 % (2 * amplitude + 1)) - amplitude;
            let shift = match c {
                0 => warm,
                2 => -warm,
                _ => 0,
            };
            *v = (i32::from(*v) + noise + shift).clamp(0, 255) as u8;
        }
    }
}

/// The committed chelsea fixture.
pub(crate) fn fixture() -> RgbImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/score/chelsea.png");
    image::open(path).expect("fixture").into_rgb8()
}

/// The median of `times` (the upper one of an even count).
pub(crate) fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Runs `cmd` to completion with `CI=1` and stdout discarded: (wall time, peak RSS in KiB,
/// exit code). Peak RSS is the kernel's high-water mark (`VmHWM` in `/proc/<pid>/status`),
/// read every `every` while the child runs.
pub(crate) fn run_child(mut cmd: Command, every: Duration) -> (Duration, u64, Option<i32>) {
    let start = Instant::now();
    let mut child = cmd
        .env("CI", "1")
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let code = loop {
        if let Ok(s) = std::fs::read_to_string(&status_file)
            && let Some(kb) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if let Some(st) = child.try_wait().expect("wait") {
            break st.code();
        }
        std::thread::sleep(every);
    };
    (start.elapsed(), peak, code)
}

#[path = "../../tests/support/moto.rs"]
mod moto;
#[allow(unused_imports, reason = "only the s3 bench starts moto")]
pub(crate) use moto::{INSTALL as MOTO_INSTALL, Moto};
