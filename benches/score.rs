//! Speed of the scorer on a 4 MP pair, against `image-compare`'s grey SSIM.
//!
//! Run with `cargo bench --bench score`. The pair is made from the committed chelsea
//! fixture (upscaled to 2048x2048, with deterministic grain so PNG decoding does real
//! work), written as PNG to a temporary directory so decoding is part of the measurement. Each ratio's
//! two sides are timed in turn, 11 calls each, and compared by their medians.

use std::path::Path;
use std::time::{Duration, Instant};

use driftgate::score::{self, DecodeLimits};
use image::{RgbImage, imageops::FilterType};
use image_compare::Algorithm;

mod common;
use common::{fixture, grain, median};

const SIDE: u32 = 2048;
const RUNS: usize = 11;

fn make_pair(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let small = fixture();
    let big = image::imageops::resize(&small, SIDE, SIDE, FilterType::CatmullRom);
    let mut base = big.clone();
    grain(&mut base, 1, 6, 0);
    let mut cand = image::imageops::blur(&big, 0.8);
    grain(&mut cand, 2, 6, 4);
    let (pa, pb) = (dir.join("base.png"), dir.join("cand.png"));
    base.save(&pa).expect("write base");
    cand.save(&pb).expect("write cand");
    (
        std::fs::read(pa).expect("read"),
        std::fs::read(pb).expect("read"),
    )
}

fn decode_both(a: &[u8], b: &[u8]) -> (RgbImage, RgbImage) {
    let limits = DecodeLimits::default();
    std::thread::scope(|s| {
        let ha = s.spawn(|| score::decode(a, &limits).expect("decode"));
        let hb = s.spawn(|| score::decode(b, &limits).expect("decode"));
        (ha.join().expect("thread"), hb.join().expect("thread"))
    })
}

/// Wall time of one call.
fn once<T>(f: &mut impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    std::hint::black_box(f());
    start.elapsed()
}

/// Median wall time of `RUNS` calls.
fn time<T>(mut f: impl FnMut() -> T) -> Duration {
    median((0..RUNS).map(|_| once(&mut f)).collect())
}

/// Median wall times of `f` and `g` called in turn, so that a slow spell of this shared
/// machine falls on both sides of a ratio rather than on one.
fn time_pair<T, U>(mut f: impl FnMut() -> T, mut g: impl FnMut() -> U) -> (Duration, Duration) {
    let (a, b): (Vec<_>, Vec<_>) = (0..RUNS).map(|_| (once(&mut f), once(&mut g))).unzip();
    (median(a), median(b))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a_png, b_png) = make_pair(dir.path());
    let (a, b) = decode_both(&a_png, &b_png);
    let mp = f64::from(SIDE * SIDE) / 1e6;
    println!(
        "pair: {SIDE}x{SIDE} ({mp:.2} MP), PNG {:.1} + {:.1} MB, {} threads, median of {RUNS}",
        a_png.len() as f64 / 1e6,
        b_png.len() as f64 / 1e6,
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    );

    let (ga, gb) = (
        image::DynamicImage::ImageRgb8(a.clone()).into_luma8(),
        image::DynamicImage::ImageRgb8(b.clone()).into_luma8(),
    );
    let peer = |x: &image::GrayImage, y: &image::GrayImage| {
        image_compare::gray_similarity_structure(&Algorithm::MSSIMSimple, x, y)
            .expect("same size")
            .score
    };

    let t_decode = time(|| decode_both(&a_png, &b_png));
    let (t_luma, t_peer_ssim) = time_pair(|| score::ssim_luma(&a, &b), || peer(&ga, &gb));
    let t_rgb = time(|| score::ssim_rgb(&a, &b));
    let t_colour = time(|| score::colour_stats(&a, &b));
    let t_colour_all = time(|| score::colour_stats_every_pixel(&a, &b));
    let t_hash = time(|| (score::hashes(&a), score::hashes(&b)));
    let t_palette = time(|| (score::palette(&a), score::palette(&b)));
    let t_pair = time(|| score::score_pair(&a, &b));
    // Not part of a pair's scores: the verdict's structure-matched channels, per image.
    let t_patches = time(|| (score::patches(&a), score::patches(&b)));
    let (pa, pb) = (score::patches(&a), score::patches(&b));
    let t_pairing = time(|| score::matched_shift(&pa, &[&pb, &pb, &pb]));
    let (t_total, t_peer_total) = time_pair(
        || {
            let (a, b) = decode_both(&a_png, &b_png);
            score::score_pair(&a, &b)
        },
        || {
            let (a, b) = decode_both(&a_png, &b_png);
            let (ga, gb) = (
                image::DynamicImage::ImageRgb8(a).into_luma8(),
                image::DynamicImage::ImageRgb8(b).into_luma8(),
            );
            peer(&ga, &gb)
        },
    );

    let scores = score::score_pair(&a, &b).metrics;
    println!("scores: {scores:?}");
    println!("image-compare MSSIMSimple score: {:.4}", peer(&ga, &gb));
    println!();
    println!("{:<40} {:>9}", "step", "ms");
    for (name, t) in [
        ("decode both (concurrent)", t_decode),
        ("ssim luma (+ map)", t_luma),
        ("ssim luma + rgb, one pass", t_rgb),
        ("ciede2000 mean/p95 + lab shift", t_colour),
        ("the same on every pixel (not scored)", t_colour_all),
        ("phash + dhash (both images)", t_hash),
        ("palettes (both images)", t_palette),
        ("score_pair (all metrics)", t_pair),
        ("verdict: matched patches (both images)", t_patches),
        ("verdict: pairing one image with 3 others", t_pairing),
        ("decode + score_pair", t_total),
        ("image-compare grey ssim", t_peer_ssim),
        ("image-compare decode + luma + ssim", t_peer_total),
    ] {
        println!("{name:<40} {:>9.1}", ms(t));
    }
    println!();
    println!(
        "throughput, decode + all metrics: {:.1} MP/s",
        mp / t_total.as_secs_f64()
    );
    println!(
        "ratio all metrics + decode / image-compare grey ssim + decode: {:.2} (target <= 1.0)",
        t_total.as_secs_f64() / t_peer_total.as_secs_f64()
    );
    println!(
        "grey ssim speed-up over image-compare: {:.1}x (target >= 3)",
        t_peer_ssim.as_secs_f64() / t_luma.as_secs_f64()
    );
}
