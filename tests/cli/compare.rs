use crate::harness::{Env, SMALL, code, stderr, stdout};

#[test]
fn compare_scores_two_folders_without_a_suite() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    assert_eq!(
        code(&env.run("1", &["record", "suites/small.yaml", "--baselines", "a"])),
        0
    );
    assert_eq!(
        code(&env.run("2", &["record", "suites/small.yaml", "--baselines", "b"])),
        0
    );
    // Same folder against itself: identical images pass with perfect scores.
    let same = env.run(
        "1",
        &[
            "compare", "a/small", "a/small", "--out", "same", "--format", "json",
        ],
    );
    assert_eq!(code(&same), 0, "{}", stderr(&same));
    let json: serde_json::Value = serde_json::from_str(&stdout(&same)).unwrap();
    assert_eq!(json["cases"].as_array().unwrap().len(), 3);
    assert_eq!(json["cases"][0]["samples"][0]["metrics"]["ssim"], 1.0);
    // Build 1 against build 2 drifts.
    let diff = env.run("1", &["compare", "a/small", "b/small", "--out", "diff"]);
    assert_eq!(code(&diff), 1, "{}", stderr(&diff));
    assert!(env.path().join("diff/index.html").is_file());
}

#[test]
fn compare_reports_missing_samples_as_errors() {
    let env = Env::new();
    env.write("suites/small.yaml", SMALL);
    assert_eq!(
        code(&env.run("1", &["record", "suites/small.yaml", "--baselines", "a"])),
        0
    );
    std::fs::create_dir_all(env.path().join("c/bottle")).unwrap();
    std::fs::copy(
        env.path().join("a/small/bottle/0.png"),
        env.path().join("c/bottle/0.png"),
    )
    .unwrap();
    let out = env.run(
        "1",
        &["compare", "a/small", "c", "--out", "r", "--format", "json"],
    );
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["verdict"], "incomplete");
    assert!(
        json["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verdict"] == "error")
    );
}

fn jpeg(img: &image::RgbImage, quality: u8) -> Vec<u8> {
    let mut buf = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality)
        .encode_image(img)
        .unwrap();
    buf
}

/// Writes 4 JPEG samples of different framings of the chelsea photograph, as a stochastic
/// model would return them, each passed through `edit` first (a provider-side change).
fn stochastic_samples(
    dir: &std::path::Path,
    offset: u32,
    edit: impl Fn(image::RgbImage) -> image::RgbImage,
) {
    let photo = image::open(crate::harness::repo().join("tests/fixtures/score/chelsea.png"))
        .unwrap()
        .to_rgb8();
    std::fs::create_dir_all(dir).unwrap();
    for n in 0..4u32 {
        let (x, y) = ((n * 37 + offset * 53) % 120, (n * 23 + offset * 31) % 80);
        let img = edit(image::imageops::crop_imm(&photo, x, y, 176, 176).to_image());
        std::fs::write(dir.join(format!("{n}.jpg")), jpeg(&img, 95)).unwrap();
    }
}

/// Runs `compare base CAND` with JSON output, checks its exit status and returns run.json.
fn compare_base(env: &Env, cand: &str, status: i32) -> serde_json::Value {
    let out = env.run(
        "1",
        &[
            "compare",
            "base",
            cand,
            "--out",
            &format!("out-{cand}"),
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&out), status, "{}", stdout(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

fn unchanged(img: image::RgbImage) -> image::RgbImage {
    img
}

#[test]
fn a_coarser_transcode_of_a_stochastic_model_is_drift_and_fresh_framings_pass() {
    let env = Env::new();
    stochastic_samples(&env.path().join("base/cat"), 0, unchanged);
    stochastic_samples(&env.path().join("fresh/cat"), 1, unchanged);
    stochastic_samples(&env.path().join("coarse/cat"), 1, |img| {
        image::load_from_memory(&jpeg(&img, 25)).unwrap().to_rgb8()
    });
    compare_base(&env, "fresh", 0);
    let json = compare_base(&env, "coarse", 1);
    let reasons = json["cases"][0]["reasons"].to_string();
    assert!(reasons.contains("blockier"), "{reasons}");
}

#[test]
fn an_exposure_gain_across_new_framings_is_drift_in_matched_regions() {
    let env = Env::new();
    stochastic_samples(&env.path().join("base/cat"), 0, unchanged);
    stochastic_samples(&env.path().join("bright/cat"), 1, |mut img| {
        for v in img.iter_mut() {
            *v = (f32::from(*v) * 1.06).round().min(255.0) as u8;
        }
        img
    });
    let json = compare_base(&env, "bright", 1);
    let reasons = json["cases"][0]["reasons"].to_string();
    assert!(reasons.contains("lighter: L*"), "{reasons}");
    assert!(reasons.contains("in matched regions"), "{reasons}");
}

#[test]
fn a_blank_sample_sits_out_the_matched_channels_without_taking_them_from_the_case() {
    let env = Env::new();
    stochastic_samples(&env.path().join("base/cat"), 0, unchanged);
    stochastic_samples(&env.path().join("blank/cat"), 1, unchanged);
    let grey = image::RgbImage::from_pixel(176, 176, image::Rgb([128, 128, 128]));
    std::fs::write(env.path().join("blank/cat/3.jpg"), jpeg(&grey, 95)).unwrap();
    let out = env.run(
        "1",
        &["compare", "base", "blank", "--out", "b", "--format", "json"],
    );
    assert!(matches!(code(&out), 0 | 1), "{}", stdout(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let floors: Vec<&str> = json["cases"][0]["floors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["metric"].as_str())
        .collect();
    assert!(floors.contains(&"matched_lightness"), "{floors:?}");
}

/// Writes 4 JPEG samples of one framing of the chelsea photograph, each encoded at its
/// own quality, as a seeded model behind a transcoding provider returns them.
fn seeded_samples(dir: &std::path::Path, qualities: [u8; 4]) {
    let photo = image::open(crate::harness::repo().join("tests/fixtures/score/chelsea.png"))
        .unwrap()
        .to_rgb8();
    let img = image::imageops::crop_imm(&photo, 40, 30, 176, 176).to_image();
    std::fs::create_dir_all(dir).unwrap();
    for (n, q) in qualities.into_iter().enumerate() {
        std::fs::write(dir.join(format!("{n}.jpg")), jpeg(&img, q)).unwrap();
    }
}

#[test]
fn one_blank_sample_of_a_seeded_case_is_drift() {
    let env = Env::new();
    seeded_samples(&env.path().join("base/cat"), [95, 94, 93, 92]);
    seeded_samples(&env.path().join("fresh/cat"), [94, 95, 92, 93]);
    compare_base(&env, "fresh", 0);
    seeded_samples(&env.path().join("blank/cat"), [94, 95, 92, 93]);
    let grey = image::RgbImage::from_pixel(176, 176, image::Rgb([128, 128, 128]));
    std::fs::write(env.path().join("blank/cat/2.jpg"), jpeg(&grey, 95)).unwrap();
    let json = compare_base(&env, "blank", 1);
    let reasons = json["cases"][0]["reasons"].to_string();
    assert!(reasons.contains("one sample's"), "{reasons}");
}

#[test]
fn a_flat_grey_sample_is_drift_named_in_run_json() {
    // See: issue 14, item 1. New framings of a stochastic case with one sample come back
    // blank: drift by that sample, whatever the statistics make of the rest.
    let env = Env::new();
    stochastic_samples(&env.path().join("base/cat"), 0, unchanged);
    stochastic_samples(&env.path().join("blank/cat"), 1, unchanged);
    let grey = image::RgbImage::from_pixel(176, 176, image::Rgb([128, 128, 128]));
    grey.save(env.path().join("blank/cat/1.png")).unwrap();
    std::fs::remove_file(env.path().join("blank/cat/1.jpg")).unwrap();
    compare_base(&env, "blank", 1);
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.path().join("out-blank/run.json")).unwrap(),
    )
    .unwrap();
    let case = &run["cases"][0];
    assert_eq!(case["verdict"], "drift");
    let reason = "sample 2 is a flat grey image (luma sd 0.0): a filtered or failed generation";
    assert_eq!(case["reasons"][0], reason, "{}", case["reasons"]);
    assert_eq!(case["degenerate"], serde_json::json!([reason]));
}

#[test]
fn a_stamp_in_one_corner_of_new_framings_is_drift_named_and_marked() {
    // See: issue 14, item 2. Every candidate carries the same small stamp in its
    // bottom-right corner; everything else is a fresh framing.
    let env = Env::new();
    stochastic_samples(&env.path().join("base/cat"), 0, unchanged);
    stochastic_samples(&env.path().join("fresh/cat"), 1, unchanged);
    stochastic_samples(&env.path().join("stamped/cat"), 1, |mut img| {
        let (w, h) = img.dimensions();
        for y in h - 20..h - 6 {
            for x in w - 44..w - 6 {
                let v = if (x / 3 + y / 4) % 2 == 0 { 240 } else { 30 };
                img.put_pixel(x, y, image::Rgb([v, v, v]));
            }
        }
        img
    });
    compare_base(&env, "fresh", 0);
    let json = compare_base(&env, "stamped", 1);
    let case = &json["cases"][0];
    let reasons = case["reasons"].to_string();
    assert!(
        reasons.contains("bottom-right: a new pattern repeated in all 4 samples"),
        "{reasons}"
    );
    let local = case["floors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["metric"] == "local")
        .unwrap();
    assert_eq!(local["region"]["name"], "bottom-right");
    assert!(local["region"]["x"].as_f64().unwrap() >= 0.5);
    let html = std::fs::read_to_string(env.path().join("out-stamped/index.html")).unwrap();
    assert!(
        html.contains("class=\"region\""),
        "the page marks the place"
    );
}
