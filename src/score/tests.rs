//! Agreement with the reference implementations (scikit-image, imagehash).
//!
//! `fixtures_match_reference` runs on the small excerpt committed under
//! `tests/fixtures/score/`. `corpus_worst_errors` runs over a full corpus directory with
//! the same layout when `DRIFTGATE_CORPUS` points at one, asserts every pair against the
//! same tolerances, and prints the worst error per metric (the figures quoted in
//! `docs/scoring.md`).

use std::path::{Path, PathBuf};

use super::hash;
use super::{DecodeLimits, colour_stats_every_pixel, decode, score_pair};

/// What the code achieves on the whole shared corpus (56 pairs), with about a tenfold
/// margin, so a regression far below the contract's limits (SSIM 0.002, colour 1-2%) still
/// fails: float32 SSIM against skimage's float64 agrees to 5.5e-7 (luma) and 2.1e-6 (RGB
/// mean); the f32 CIEDE2000 to 3.8e-7 (mean) and 1.8e-5 (p95, an order statistic that
/// rounding can move by one rank) relative; the Lab shift to 1.1e-6 per component. The
/// hashes are bit-identical to imagehash. A small absolute floor covers the zero-valued
/// identity rows.
const SSIM_TOL: f64 = 5e-6;
const SSIM_RGB_TOL: f64 = 2e-5;
const DE_MEAN_REL: f64 = 5e-6;
const DE_P95_REL: f64 = 2e-4;
const LAB_TOL: f64 = 1e-5;

#[derive(Default, Debug)]
struct Worst {
    ssim: f64,
    ssim_rgb: f64,
    delta_e_rel: f64,
    delta_e_p95_rel: f64,
    lab: f64,
    phash_distance: u32,
    dhash_distance: u32,
    phash_bits: u32,
    dhash_bits: u32,
    pairs: usize,
}

fn rel(got: f64, want: f64) -> f64 {
    if want.abs() < 1e-9 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    }
}

fn hex(v: &serde_json::Value) -> u64 {
    v.as_str()
        .and_then(|s| u64::from_str_radix(s, 16).ok())
        .unwrap()
}

/// Checks every pair of `dir`; `every_pixel` takes the colour statistics from
/// [`colour_stats_every_pixel`] instead of the scorer's grid.
fn check_dir(dir: &Path, every_pixel: bool) -> Worst {
    let json = std::fs::read_to_string(dir.join("reference_values.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&json).unwrap();
    let load = |name: &str| {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        decode(&bytes, &DecodeLimits::default()).unwrap()
    };
    let mut worst = Worst::default();
    for pair in reference["pairs"].as_array().unwrap() {
        let name = format!("{} {}", pair["reference"], pair["distortion"]);
        let base = load(pair["reference"].as_str().unwrap());
        let cand = load(pair["distorted"].as_str().unwrap());
        let mut m = score_pair(&base, &cand).metrics;
        if every_pixel {
            let c = colour_stats_every_pixel(&base, &cand);
            (m.delta_e, m.delta_e_p95, m.lab_shift) = (c.delta_e, c.delta_e_p95, c.lab_shift);
        }
        let f = |k: &str| pair[k].as_f64().unwrap();

        let e_ssim = (m.ssim - f("ssim_luma601")).abs();
        let e_rgb = (m.ssim_rgb - f("ssim_rgb_mean")).abs();
        let e_de = rel(m.delta_e, f("ciede2000_mean"));
        let e_p95 = rel(m.delta_e_p95, f("ciede2000_p95"));
        let shift = &pair["lab_mean_shift"];
        let e_lab = [
            (m.lab_shift.dl - shift["dL"].as_f64().unwrap()).abs(),
            (m.lab_shift.da - shift["da"].as_f64().unwrap()).abs(),
            (m.lab_shift.db - shift["db"].as_f64().unwrap()).abs(),
        ]
        .into_iter()
        .fold(0.0, f64::max);
        let want_p = pair["phash"]["distance"].as_u64().unwrap() as u32;
        let want_d = pair["dhash"]["distance"].as_u64().unwrap() as u32;
        let e_pd = m.phash.abs_diff(want_p);
        let e_dd = m.dhash.abs_diff(want_d);
        let (bp, bd) = hash::hashes(&base);
        let (cp, cd) = hash::hashes(&cand);
        let bits_p = (bp ^ hex(&pair["phash"]["a"])).count_ones()
            + (cp ^ hex(&pair["phash"]["b"])).count_ones();
        let bits_d = (bd ^ hex(&pair["dhash"]["a"])).count_ones()
            + (cd ^ hex(&pair["dhash"]["b"])).count_ones();

        assert!(
            e_ssim <= SSIM_TOL,
            "{name}: ssim {} vs {}",
            m.ssim,
            f("ssim_luma601")
        );
        assert!(e_rgb <= SSIM_RGB_TOL, "{name}: ssim_rgb {}", m.ssim_rgb);
        assert!(
            e_de <= DE_MEAN_REL || (m.delta_e - f("ciede2000_mean")).abs() < 1e-6,
            "{name}: delta_e {}",
            m.delta_e
        );
        assert!(
            e_p95 <= DE_P95_REL || (m.delta_e_p95 - f("ciede2000_p95")).abs() < 1e-6,
            "{name}: p95 {}",
            m.delta_e_p95
        );
        assert!(e_lab <= LAB_TOL, "{name}: lab shift {:?}", m.lab_shift);
        assert_eq!(e_pd, 0, "{name}: phash distance {}", m.phash);
        assert_eq!(e_dd, 0, "{name}: dhash distance {}", m.dhash);

        worst.ssim = worst.ssim.max(e_ssim);
        worst.ssim_rgb = worst.ssim_rgb.max(e_rgb);
        worst.delta_e_rel = worst.delta_e_rel.max(e_de);
        worst.delta_e_p95_rel = worst.delta_e_p95_rel.max(e_p95);
        worst.lab = worst.lab.max(e_lab);
        worst.phash_distance = worst.phash_distance.max(e_pd);
        worst.dhash_distance = worst.dhash_distance.max(e_dd);
        worst.phash_bits = worst.phash_bits.max(bits_p);
        worst.dhash_bits = worst.dhash_bits.max(bits_d);
        worst.pairs += 1;
    }
    worst
}

#[test]
fn fixtures_match_reference() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/score");
    let worst = check_dir(&dir, false);
    assert_eq!(worst.pairs, 10);
    // Below 0.5 MP the grid is every pixel: both ways give the same figures.
    let exact = check_dir(&dir, true);
    assert_eq!(exact.delta_e_rel, worst.delta_e_rel);
    assert_eq!(exact.delta_e_p95_rel, worst.delta_e_p95_rel);
    // The committed fixtures hash bit-identically to imagehash.
    assert_eq!((worst.phash_bits, worst.dhash_bits), (0, 0), "{worst:?}");
}

#[test]
#[ignore = "needs DRIFTGATE_CORPUS=/path/to/corpus"]
fn corpus_worst_errors() {
    let Some(dir) = std::env::var_os("DRIFTGATE_CORPUS") else {
        eprintln!("DRIFTGATE_CORPUS not set; skipping");
        return;
    };
    let worst = check_dir(Path::new(&dir), false);
    println!("{worst:#?}");
    assert!(worst.pairs > 0, "no pairs in {}", Path::new(&dir).display());
    assert_eq!((worst.phash_bits, worst.dhash_bits), (0, 0), "{worst:?}");
}

/// The 2-4 MP photographs of `../shared/corpus-large` (next to the repository), where the
/// colour statistics' grid shows: [`colour_stats_every_pixel`] is held to the corpus
/// tolerances; the scorer's grid is printed next to it and held to the contract (1% for the
/// mean, 2% for the 95th percentile, 0.05 per Lab component).
#[test]
#[ignore = "needs ../shared/corpus-large (or DRIFTGATE_CORPUS_LARGE); slow in a debug build"]
fn large_corpus_worst_errors() {
    let dir = std::env::var_os("DRIFTGATE_CORPUS_LARGE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus-large"),
        PathBuf::from,
    );
    if !dir.join("reference_values.json").exists() {
        eprintln!("{} not found; skipping", dir.display());
        return;
    }
    let exact = check_dir(&dir, true);
    println!("every pixel: {exact:#?}");
    assert!(exact.pairs > 0, "no pairs in {}", dir.display());
    let json = std::fs::read_to_string(dir.join("reference_values.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&json).unwrap();
    let load = |name: &str| {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        decode(&bytes, &DecodeLimits::default()).unwrap()
    };
    let (mut de, mut p95, mut lab) = (0f64, 0f64, 0f64);
    for pair in reference["pairs"].as_array().unwrap() {
        let base = load(pair["reference"].as_str().unwrap());
        let cand = load(pair["distorted"].as_str().unwrap());
        let c = super::colour_stats(&base, &cand);
        let f = |k: &str| pair[k].as_f64().unwrap();
        let shift = &pair["lab_mean_shift"];
        de = de.max(rel(c.delta_e, f("ciede2000_mean")));
        p95 = p95.max(rel(c.delta_e_p95, f("ciede2000_p95")));
        lab = lab
            .max((c.lab_shift.dl - shift["dL"].as_f64().unwrap()).abs())
            .max((c.lab_shift.da - shift["da"].as_f64().unwrap()).abs())
            .max((c.lab_shift.db - shift["db"].as_f64().unwrap()).abs());
    }
    println!("grid: delta_e {de:.2e} relative, p95 {p95:.2e} relative, lab {lab:.2e}");
    assert!(
        de < 0.01 && p95 < 0.02 && lab < 0.05,
        "grid outside the contract"
    );
}

#[test]
fn identical_pair_scores_perfectly() {
    let img = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 90]));
    let s = score_pair(&img, &img);
    assert_eq!(s.metrics.ssim, 1.0);
    assert_eq!(s.metrics.ssim_rgb, 1.0);
    assert_eq!((s.metrics.phash, s.metrics.dhash), (0, 0));
    assert_eq!(s.metrics.delta_e, 0.0);
    assert_eq!(s.metrics.delta_e_p95, 0.0);
    assert_eq!(s.metrics.palette_delta_e, 0.0);
    assert!(s.size_change.is_none());
    assert!(s.ssim_map.pixels().all(|p| p[0] == 1.0));
}

#[test]
fn pair_is_symmetric_where_it_should_be() {
    let a = image::RgbImage::from_fn(48, 36, |x, y| image::Rgb([x as u8 * 5, y as u8 * 7, 60]));
    let b = image::RgbImage::from_fn(48, 36, |x, y| {
        image::Rgb([x as u8 * 5 + 10, (y as u8 * 7) / 2, 80])
    });
    let ab = score_pair(&a, &b).metrics;
    let ba = score_pair(&b, &a).metrics;
    assert!((ab.ssim - ba.ssim).abs() < 1e-6);
    assert!((ab.delta_e - ba.delta_e).abs() < 1e-9);
    assert_eq!((ab.phash, ab.dhash), (ba.phash, ba.dhash));
    assert!((ab.lab_shift.dl + ba.lab_shift.dl).abs() < 1e-9);
    assert!(ab.ssim < 1.0 && ab.ssim > -1.0 && ab.delta_e > 0.0);
}

#[test]
fn different_sizes_are_scored_at_the_smaller_size() {
    let a = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 7]));
    let b = image::imageops::resize(&a, 32, 24, super::RESIZE_FILTER);
    let s = score_pair(&a, &b);
    assert_eq!(s.size_change, Some(((64, 48), (32, 24))));
    assert_eq!(s.ssim_map.dimensions(), (32, 24));
    assert!(s.metrics.ssim > 0.95, "{}", s.metrics.ssim);
}

#[test]
fn known_features_give_the_same_scores_as_computing_them() {
    let a = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 7]));
    let b = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 40]));
    let (fa, fb) = (super::features(&a), super::features(&b));
    let fresh = score_pair(&a, &b);
    let reused = super::score_pair_with(&a, &b, Some((&fa, &fb)));
    assert_eq!(reused.metrics, fresh.metrics);
    assert_eq!(reused.base_palette, fresh.base_palette);
    assert_eq!(reused.cand_palette, fresh.cand_palette);
    // A pair of different sizes ignores them: its images are scored resized.
    let small = image::imageops::resize(&b, 32, 24, super::RESIZE_FILTER);
    let fs = super::features(&small);
    let resized = super::score_pair_with(&a, &small, Some((&fa, &fs)));
    assert_eq!(resized.metrics, score_pair(&a, &small).metrics);
}
