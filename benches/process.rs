//! What a user waits for: whole `driftgate compare` processes against a small peer
//! program that decodes both images and computes image-compare's grey SSIM, timed side by
//! side in one run.
//!
//! Run with `cargo bench --bench process`. Scenarios:
//! - (a) one 4 MP PNG pair (the score bench's pair): `driftgate compare` against the peer;
//! - (b) 48 pairs of 2 MP JPEGs (16 cases x 3 samples): `driftgate compare` on the folders
//!   against the peer run once per pair, in one process;
//! - (d) a night of `DRIFTGATE_BENCH_CASES` (default 1000) synthetic cases x 3 samples at
//!   0.3 MP, 5% drifted: wall time, report folder bytes, `index.html` bytes, peak RSS.
//!
//! The peer is this bench binary itself, started again with `--peer BASE CAND...`, so it
//! is a whole process like driftgate's and needs no program of its own. Each ratio's two
//! sides are run in turn, five times, and compared by their medians.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use image::{RgbImage, imageops::FilterType};
use image_compare::Algorithm;

mod common;
use common::{fixture, grain, median, run_child};

const RUNS: usize = 5;
/// How often a child's peak RSS is read.
const POLL: Duration = Duration::from_millis(5);

/// A `w`x`h` view of the fixture, offset by `shift` pixels, so samples differ in framing.
fn scene(src: &RgbImage, w: u32, h: u32, shift: u32) -> RgbImage {
    let big = image::imageops::resize(src, w + 64, h + 64, FilterType::Triangle);
    image::imageops::crop_imm(&big, shift % 64, (shift / 2) % 64, w, h).to_image()
}

fn save(img: &RgbImage, path: &Path) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    img.save(path).expect("write image");
}

/// The peer: decode each pair and compute image-compare's grey SSIM, one pair at a time.
fn peer(pairs: &[String]) {
    for pair in pairs.chunks(2) {
        let a = image::open(&pair[0]).expect("decode").into_luma8();
        let b = image::open(&pair[1]).expect("decode").into_luma8();
        let s = image_compare::gray_similarity_structure(&Algorithm::MSSIMSimple, &a, &b)
            .expect("same size");
        std::hint::black_box(s.score);
    }
}

fn compare_cmd(base: &Path, cand: &Path, out: &Path) -> Command {
    let _ = std::fs::remove_dir_all(out);
    let mut c = Command::new(env!("CARGO_BIN_EXE_driftgate"));
    c.arg("compare")
        .arg(base)
        .arg(cand)
        .args(["--format", "json", "-q", "--out"])
        .arg(out)
        .stderr(Stdio::null());
    c
}

fn peer_cmd(pairs: &[(PathBuf, PathBuf)]) -> Command {
    let mut c = Command::new(std::env::current_exe().expect("own path"));
    c.arg("--peer").stderr(Stdio::null());
    for (a, b) in pairs {
        c.arg(a).arg(b);
    }
    c
}

/// Both sides run in turn, `RUNS` times; returns their median wall times.
fn side_by_side(dir: &Path, base: &Path, cand: &Path, pairs: &[(PathBuf, PathBuf)]) -> (f64, f64) {
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let (t, _, code) = run_child(compare_cmd(base, cand, &dir.join("out")), POLL);
        assert!(matches!(code, Some(0..=1 | 3)), "compare exited {code:?}");
        ours.push(t);
        let (t, _, code) = run_child(peer_cmd(pairs), POLL);
        assert_eq!(code, Some(0), "peer failed");
        theirs.push(t);
    }
    (median(ours).as_secs_f64(), median(theirs).as_secs_f64())
}

fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => folder_bytes(&e.path()),
                _ => e.metadata().map_or(0, |m| m.len()),
            })
            .sum()
    })
}

/// Writes `cases` x `samples` pairs under `dir/base` and `dir/cand`; every `drift_every`th
/// case's candidates are warmer. Returns the (base, cand) file pairs.
fn write_night(
    dir: &Path,
    cases: usize,
    samples: u32,
    (w, h): (u32, u32),
    ext: &str,
    drift_every: usize,
) -> Vec<(PathBuf, PathBuf)> {
    let src = fixture();
    let mut pairs = Vec::new();
    for case in 0..cases {
        let warm = if case % drift_every == drift_every - 1 {
            8
        } else {
            0
        };
        for s in 0..samples {
            let seed = u32::try_from(case).expect("few cases") * 16 + s;
            let shift = (seed * 7) % 61;
            let mut b = scene(&src, w, h, shift);
            grain(&mut b, seed, 3, 0);
            let mut c = scene(&src, w, h, shift);
            grain(&mut c, seed + 100_000, 3, warm);
            let pb = dir.join(format!("base/case-{case}/{s}.{ext}"));
            let pc = dir.join(format!("cand/case-{case}/{s}.{ext}"));
            save(&b, &pb);
            save(&c, &pc);
            pairs.push((pb, pc));
        }
    }
    pairs
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--peer") {
        peer(&args[1..]);
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!("whole processes, {threads} threads, median of {RUNS} runs each side");

    // (a) one 4 MP PNG pair.
    let dir_a = tmp.path().join("a");
    let src = fixture();
    let big = image::imageops::resize(&src, 2048, 2048, FilterType::CatmullRom);
    let mut base = big.clone();
    grain(&mut base, 1, 6, 0);
    let mut cand = image::imageops::blur(&big, 0.8);
    grain(&mut cand, 2, 6, 4);
    let (pa, pb) = (dir_a.join("base/pair/0.png"), dir_a.join("cand/pair/0.png"));
    save(&base, &pa);
    save(&cand, &pb);
    let (ours, theirs) = side_by_side(
        &dir_a,
        &dir_a.join("base"),
        &dir_a.join("cand"),
        &[(pa, pb)],
    );
    println!(
        "(a) one 2048x2048 PNG pair: driftgate compare {ours:.3} s, peer (decode both + grey SSIM) {theirs:.3} s, ratio {:.2} (target <= 1.0, goal 0.7)",
        ours / theirs
    );

    // (b) 48 pairs of 2 MP JPEGs: 16 cases x 3 samples.
    let dir_b = tmp.path().join("b");
    let pairs = write_night(&dir_b, 16, 3, (1728, 1152), "jpg", 4);
    let (ours, theirs) = side_by_side(&dir_b, &dir_b.join("base"), &dir_b.join("cand"), &pairs);
    println!(
        "(b) 48 pairs of 1728x1152 JPEGs (16 cases x 3): driftgate compare {ours:.3} s, peer {theirs:.3} s, ratio {:.2} (target <= 1.0)",
        ours / theirs
    );

    // (d) a night of many small cases.
    let cases = std::env::var("DRIFTGATE_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir_d = tmp.path().join("d");
    let pairs = write_night(&dir_d, cases, 3, (640, 480), "jpg", 20);
    let input = folder_bytes(&dir_d);
    let out = dir_d.join("out");
    let (t, rss, code) = run_child(
        compare_cmd(&dir_d.join("base"), &dir_d.join("cand"), &out),
        POLL,
    );
    let (t_peer, _, _) = run_child(peer_cmd(&pairs), POLL);
    let report = folder_bytes(&out);
    let html = std::fs::metadata(out.join("index.html")).map_or(0, |m| m.len());
    let run_json = std::fs::metadata(out.join("run.json")).map_or(0, |m| m.len());
    println!(
        "(d) {cases} cases x 3 samples, 640x480 JPEG, 5% drifted (exit {code:?}): {:.1} s ({:.1} ms per case; peer {:.1} s), input {:.1} MB, report folder {:.1} MB ({:.0} KB per case), index.html {:.2} MB, run.json {:.2} MB, peak RSS {:.0} MiB",
        t.as_secs_f64(),
        t.as_secs_f64() * 1e3 / cases as f64,
        t_peer.as_secs_f64(),
        input as f64 / 1e6,
        report as f64 / 1e6,
        report as f64 / 1e3 / cases as f64,
        html as f64 / 1e6,
        run_json as f64 / 1e6,
        rss as f64 / 1024.0
    );
}
