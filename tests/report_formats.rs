//! The report formats from a hand-built `RunReport`: snapshots of JUnit, Markdown and the
//! HTML skeleton, escaping of hostile strings, GitHub annotations, and the page size of a
//! large run.

use driftgate::provider::Metadata;
use driftgate::report::{
    CaseReport, CaseVerdict, HistoryCase, HistoryRecord, RunReport, RunVerdict, SampleReport,
    Spend, github_annotations, human_summary, render_html, render_html_with_history, render_junit,
    render_markdown,
};
use driftgate::score::{LabShift, Metrics, PaletteColor, score_pair};
use driftgate::suite::{MaxDeltaE, MaxDistance, MinScore, Thresholds};
use driftgate::verdict::ChannelTest;

/// Snapshots live with the other report fixtures.
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ snapshot_path => "fixtures/report/snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn metrics(ssim: f64, delta_e: f64, db: f64) -> Metrics {
    // Built from a real score so fields added to `Metrics` later keep this compiling.
    let img = image::RgbImage::from_pixel(16, 16, image::Rgb([120, 130, 140]));
    let mut m = score_pair(&img, &img).metrics;
    m.ssim = ssim;
    m.ssim_rgb = ssim - 0.01;
    m.phash = if ssim < 0.9 { 14 } else { 2 };
    m.dhash = m.phash;
    m.delta_e = delta_e;
    m.delta_e_p95 = delta_e * 2.0;
    m.lab_shift = LabShift {
        dl: -1.0,
        da: 0.5,
        db,
    };
    m.palette_delta_e = delta_e;
    m
}

fn thresholds() -> Thresholds {
    Thresholds {
        ssim: Some(MinScore { min: 0.9 }),
        phash: Some(MaxDistance { max_distance: 10 }),
        dhash: None,
        delta_e: Some(MaxDeltaE { max_delta_e: 3.0 }),
        palette: Some(MaxDeltaE { max_delta_e: 6.0 }),
    }
}

fn color(rgb: [u8; 3], lab: [f64; 3], share: f64) -> PaletteColor {
    PaletteColor { rgb, lab, share }
}

// The report types are built from a minimal JSON document and then filled in, so
// fields other parts of driftgate add to run.json (always with serde defaults) do not
// break these tests.

fn sample(suite: &str, id: &str, n: u32, m: Option<Metrics>) -> SampleReport {
    let mut s: SampleReport = serde_json::from_value(serde_json::json!({ "index": n })).unwrap();
    s.baseline = Some(format!("baselines/{suite}/{id}/{n}.png"));
    s.candidate = Some(format!("candidates/{suite}/{id}/{n}.png"));
    s.heatmap = Some(format!("diffs/{suite}/{id}/{n}.png"));
    s.metrics = m;
    s.base_palette = vec![
        color([200, 160, 40], [68.0, 5.0, 65.0], 0.4),
        color([20, 20, 20], [7.0, 0.0, 0.0], 0.6),
    ];
    s.cand_palette = vec![
        color([25, 20, 20], [8.0, 1.0, 0.5], 0.55),
        color([230, 170, 30], [73.0, 8.0, 75.0], 0.45),
    ];
    s.provider = Some(Metadata {
        model: Some("build-2".into()),
        ..Metadata::default()
    });
    s
}

fn floor(metric: &str, value: f64, low: f64, high: f64) -> ChannelTest {
    serde_json::from_value(
        serde_json::json!({ "metric": metric, "value": value, "low": low, "high": high }),
    )
    .unwrap()
}

fn case(suite: &str, id: &str, verdict: CaseVerdict, ssim: f64, de: f64) -> CaseReport {
    let reasons = match verdict {
        CaseVerdict::Drift => vec![format!("SSIM {ssim:.3} below 0.9")],
        CaseVerdict::Error => vec!["sample 1: provider rejected the request".into()],
        CaseVerdict::Inconclusive => vec!["only 1 baseline sample: no noise floor".into()],
        CaseVerdict::Pass => Vec::new(),
    };
    let scored = verdict != CaseVerdict::Error;
    let mut c: CaseReport = serde_json::from_value(serde_json::json!({
        "suite": suite, "id": id, "verdict": verdict, "reasons": reasons, "samples": [],
    }))
    .unwrap();
    c.prompt = format!("prompt of {id}");
    c.tags = vec!["product".into()];
    c.params = serde_json::json!({ "noise": 1.5 });
    c.thresholds = thresholds();
    c.samples = (0..2)
        .map(|n| sample(suite, id, n, scored.then(|| metrics(ssim, de, de * 0.8))))
        .collect();
    c.fingerprint = "ab".repeat(32);
    c.references = vec!["refs/bottle.png".into()];
    c.floors = vec![
        floor("ssim", ssim, 0.94, 0.97),
        floor("lightness", 52.0, 49.5, 51.0),
    ];
    c
}

fn report() -> RunReport {
    let mut r: RunReport = serde_json::from_value(serde_json::json!({
        "schema_version": 1, "run_id": "20260101T000000Z-0000", "verdict": "pass",
        "started_at": "2026-01-01T00:00:00Z", "driftgate_version": "0.0.0", "scorer_version": 1,
        "suites": [{
            "suite": "brand",
            "model": { "provider": "sim", "endpoint": "sim/product-shots", "version": "1" },
            "fingerprint_changes": [{ "field": "model", "baseline": "build-1", "candidate": "build-2" }],
        }],
        "cases": [],
        "stats": { "requests": 8, "retries": 1, "duration_s": 2.5 },
    }))
    .unwrap();
    r.cases = vec![
        case("brand", "calm-pass", CaseVerdict::Pass, 0.97, 0.8),
        case("brand", "warm-drift", CaseVerdict::Drift, 0.81, 6.5),
        case("brand", "broken", CaseVerdict::Error, 0.0, 0.0),
        case("brand", "one-sample", CaseVerdict::Inconclusive, 0.95, 1.0),
    ];
    r.finish();
    r
}

/// The page's structure: one tag per line, style and script bodies left out.
fn skeleton(html: &str) -> String {
    let cut = |s: &str, open: &str, close: &str| -> String {
        match (s.find(open), s.find(close)) {
            (Some(a), Some(b)) if a < b => format!("{}{}…{}", &s[..a], open, &s[b..]),
            _ => s.to_string(),
        }
    };
    let html = cut(html, "<style>", "</style>");
    let html = cut(&html, "<script>", "</script>");
    let html = cut(&html, "script-src 'sha256-", "'; base-uri");
    html.replace('<', "\n<").trim().to_string()
}

#[test]
fn junit_snapshot() {
    snap!("junit", render_junit(&report()).unwrap());
}

#[test]
fn markdown_snapshot() {
    snap!("summary_md", render_markdown(&report()));
}

#[test]
fn html_skeleton_snapshot() {
    let r = report();
    let history: Vec<HistoryRecord> = [0.96, 0.93, 0.88, 0.81]
        .iter()
        .enumerate()
        .map(|(i, s)| HistoryRecord {
            v: 1,
            run_id: format!("run-{i}"),
            started_at: String::new(),
            verdict: RunVerdict::Drift,
            cases: vec![HistoryCase {
                suite: "brand".into(),
                id: "warm-drift".into(),
                verdict: if *s < 0.9 {
                    CaseVerdict::Drift
                } else {
                    CaseVerdict::Pass
                },
                ssim: Some(*s),
                delta_e: Some(1.0 + f64::from(u8::try_from(i).unwrap())),
                db: Some(f64::from(u8::try_from(i).unwrap())),
            }],
        })
        .collect();
    snap!(
        "index_html_skeleton",
        skeleton(&render_html_with_history(&r, &history))
    );
}

/// A night on two platforms: batched requests, a spend, a route that hides its build
/// and drops the seed (flags on the samples), and an endpoint the catalogue lists as
/// not honouring a seed (flag on the suite's pin only).
fn provenance_report() -> RunReport {
    let mut r = report();
    r.stats.images = 12;
    r.stats.spend = Some(Spend {
        images: 12,
        estimated_usd: Some(0.36),
        reported_usd: None,
        billable_units: None,
        predict_time_s: Some(19.5),
        reported_images: 6,
    });
    r.suites.push(
        serde_json::from_value(serde_json::json!({
            "suite": "edit",
            "model": { "provider": "ark", "endpoint": "seedream-4-5-251128", "send_seed": true, "seed_honoured": false },
            "fingerprint_changes": [],
        }))
        .unwrap(),
    );
    r.cases.truncate(1);
    r.cases
        .push(case("edit", "retouch", CaseVerdict::Pass, 0.97, 0.8));
    for s in r.cases[0].samples.held_mut() {
        let p = s.provider.as_mut().unwrap();
        p.no_version_evidence = true;
        p.seed_not_honoured = true;
        p.per_call = [
            ("wavespeed.timings.inference", "2140"),
            ("wavespeed.has_nsfw_contents", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    }
    r.finish();
    r
}

/// The markup from `start` up to (not including) `end`, as a skeleton.
fn part(html: &str, start: &str, end: &str) -> String {
    let a = html.find(start).expect(start);
    let b = a + html[a..].find(end).expect(end);
    skeleton(&html[a..b])
}

#[test]
fn html_shows_spend_batching_and_what_the_fingerprint_cannot_prove() {
    let r = provenance_report();
    let html = render_html(&r);
    let calm = html
        .find("id=\"case-brand-warm-drift\"")
        .expect("brand case");
    let edit = html.find("id=\"case-edit-retouch\"").expect("edit case");
    let shown = [
        part(&html, "<div class=\"facts\">", "</header>"),
        part(
            &html[calm..],
            "<p class=\"headline\">",
            "<details class=\"body\"",
        ),
        part(
            &html[calm..],
            "<details class=\"percall\">",
            "<div class=\"sample\">",
        ),
        part(
            &html[edit..],
            "<p class=\"headline\">",
            "<details class=\"body\"",
        ),
    ];
    snap!("html_provenance", shown.join("\n\n----\n\n"));
    // Each sample carries its own per-call evidence; the suite without any shows none.
    assert_eq!(html.matches("<details class=\"percall\">").count(), 2);
    assert_eq!(html[edit..].matches("class=\"percall\"").count(), 0);
    // The page and summary.md say the same about each suite.
    let md = render_markdown(&r);
    for line in [
        "ℹ️ **brand**: no version evidence from this route",
        "ℹ️ **brand**: seed not honoured by this endpoint",
        "ℹ️ **edit**: seed not honoured by this endpoint",
        "Spend: est. $0.36 · reported 19.5 s Replicate predict time (6 of 12 images)",
        "8 requests for 12 images",
    ] {
        assert!(md.contains(line), "{line}\n{md}");
    }
    assert!(!md.contains("**edit**: no version evidence"), "{md}");
    let text = human_summary(&r, None);
    assert!(
        text.contains("(8 requests for 12 images, 1 retries"),
        "{text}"
    );
    assert!(
        text.contains(
            "spend: est. $0.36 · reported 19.5 s Replicate predict time (6 of 12 images)\n"
        ),
        "{text}"
    );
}

#[test]
fn a_run_without_batching_spend_or_flags_shows_none_of_them() {
    let html = render_html(&report());
    for absent in [
        "requests for",
        "spend <b>",
        "class=\"provcase\"",
        "class=\"info-note\"",
        "class=\"percall\"",
    ] {
        assert!(!html.contains(absent), "{absent}");
    }
}

/// A case whose second sample the platform filtered out (no image, its mark and message
/// on the sample) and whose third is flat: the reasons name sample 2 first, so the page
/// opens the case on sample 2 and lists it first, then 1 and 3.
fn flagged_report() -> RunReport {
    let mut r = report();
    let mut c = case("brand", "filtered", CaseVerdict::Drift, 0.97, 0.8);
    let mark = "OutputImageRiskDetection (Ark)";
    let degenerate = vec![
        format!("sample 2 was filtered by the platform: {mark}"),
        "sample 3 is a flat grey image (luma sd 0.0): a filtered or failed generation".into(),
    ];
    c.reasons.clone_from(&degenerate);
    c.degenerate = degenerate;
    let m = metrics(0.97, 0.8, 0.6);
    let mut samples: Vec<SampleReport> = (0..3)
        .map(|n| sample("brand", "filtered", n, Some(m.clone())))
        .collect();
    let filtered = &mut samples[1];
    filtered.candidate = None;
    filtered.heatmap = None;
    filtered.metrics = None;
    filtered.error = Some("content filtered: the output image may be sensitive".into());
    filtered.provider = Some(Metadata {
        platform_mark: Some(mark.into()),
        ..Metadata::default()
    });
    c.samples = samples.into();
    r.cases.push(c);
    r.finish();
    r
}

#[test]
fn the_sample_a_degenerate_or_marked_reason_names_is_shown_first() {
    let html = render_html(&flagged_report());
    let at = html.find("id=\"case-brand-filtered\"").expect("the case");
    let end = at + html[at..].find("</article>").expect("its end");
    // The images column: up to where the measurements column starts.
    let shown = part(&html[at..end], "<div class=\"cmp\"", "</div></div><div>");
    snap!("html_flagged_first", &shown);
    // Drift on the marked and the flat sample alone: the headline says so.
    assert!(
        html[at..end].contains("<p class=\"headline\">The platform marked or filtered a sample."),
        "{}",
        &html[at..end]
    );
    let order: Vec<&str> = shown
        .lines()
        .filter_map(|l| l.strip_prefix("<span class=\"n\">"))
        .collect();
    assert_eq!(order, ["2", "1", "3"], "{shown}");
    assert!(
        shown.contains("sample 2: marked by the platform: OutputImageRiskDetection (Ark)"),
        "{shown}"
    );
    // Sample 2 has no image to compare, so the compare view opens on the next one shown.
    let cmp = part(&html[at..end], "<div class=\"cmp\"", "<div class=\"stage\"");
    let buttons: Vec<&str> = cmp
        .lines()
        .filter(|l| l.starts_with("<button data-b="))
        .collect();
    assert!(
        buttons[0].contains("candidates/brand/filtered/0.png"),
        "{cmp}"
    );
    assert!(buttons[0].contains("aria-pressed=\"true\""), "{cmp}");
    assert!(
        buttons[1].contains("candidates/brand/filtered/2.png"),
        "{cmp}"
    );
    // Other cases keep sample order.
    let calm = html
        .find("id=\"case-brand-warm-drift\"")
        .expect("brand case");
    let n1 = html[calm..].find("<span class=\"n\">1").unwrap();
    let n2 = html[calm..].find("<span class=\"n\">2").unwrap();
    assert!(n1 < n2);
}

#[test]
fn github_annotations_snapshot() {
    snap!("github_annotations", github_annotations(&report()));
}

const HOSTILE: &str = r#"<script>window.__pwned=1</script><img src=x onerror="alert(1)">|`%
"&'"#;

fn hostile_report() -> RunReport {
    let mut r = report();
    r.run_id = HOSTILE.into();
    r.suites[0].fingerprint_changes[0].candidate = Some(HOSTILE.into());
    r.suites[0].model = serde_json::json!({ "provider": HOSTILE, "endpoint": HOSTILE });
    let c = &mut r.cases[0];
    c.prompt = HOSTILE.into();
    c.tags = vec![HOSTILE.into()];
    c.reasons = vec![HOSTILE.into()];
    c.params = serde_json::json!({ HOSTILE: HOSTILE });
    c.references = vec![HOSTILE.into()];
    c.samples.held_mut()[0].error = Some(HOSTILE.into());
    c.samples.held_mut()[0].candidate = Some("https://example.com/x.png".into());
    c.samples.held_mut()[1].baseline = Some("javascript:alert(1)".into());
    c.samples.held_mut()[0].provider = Some(Metadata {
        model: Some(HOSTILE.into()),
        headers: [(HOSTILE.to_string(), HOSTILE.to_string())]
            .into_iter()
            .collect(),
        per_call: [(HOSTILE.to_string(), HOSTILE.to_string())]
            .into_iter()
            .collect(),
        no_version_evidence: true,
        ..Metadata::default()
    });
    r
}

#[test]
fn html_escapes_every_user_string() {
    let html = render_html(&hostile_report());
    assert!(
        !html.contains("<script>window"),
        "raw script tag in the page"
    );
    assert!(!html.contains("<img src=x"), "raw img tag in the page");
    assert!(!html.contains("onerror=\"alert"), "raw handler in the page");
    assert!(html.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"));
    // The per-call evidence is shown, escaped: name and value, beside the headers.
    let percall = &html[html
        .find("<details class=\"percall\">")
        .expect("per-call evidence")..];
    assert_eq!(
        percall[..percall.find("</details>").unwrap()]
            .matches("&lt;script&gt;window.__pwned=1&lt;/script&gt;")
            .count(),
        2,
        "{percall}"
    );
    assert!(
        !html.contains("https://example.com"),
        "a foreign image source got through"
    );
    assert!(
        !html.contains("javascript:"),
        "a javascript: URL got through"
    );
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the page's own script"
    );
}

#[test]
fn markdown_and_junit_escape_hostile_strings() {
    let r = hostile_report();
    let md = render_markdown(&r);
    assert!(!md.contains("<script>") && !md.contains("<img"));
    for line in md.lines().filter(|l| l.starts_with("| ")) {
        // Every row keeps its five columns: no `|` or newline broke out.
        assert_eq!(line.matches(" | ").count(), 4, "{line}");
    }
    let xml = render_junit(&r).unwrap();
    assert!(!xml.contains("<script>"));
    let annotations = github_annotations(&r);
    assert_eq!(annotations.lines().count(), 3, "{annotations}");
}

#[test]
fn hundred_cases_at_three_samples_stay_under_two_megabytes() {
    let mut r = report();
    r.cases = (0..100)
        .map(|i| {
            let v = match i % 10 {
                0 => CaseVerdict::Drift,
                1 => CaseVerdict::Inconclusive,
                _ => CaseVerdict::Pass,
            };
            let mut c = case("brand", &format!("case-{i:03}"), v, 0.93, 1.5);
            c.prompt = "a long product prompt with a bottle on a wooden table in warm morning light, shot from slightly above, soft shadows, brand colours kept exact".into();
            c.tags = vec!["product".into(), "hero".into(), format!("line-{}", i % 7)];
            c.samples = (0..3)
                .map(|n| sample("brand", &c.id, n, Some(metrics(0.93, 1.5, 0.8))))
                .collect();
            for s in c.samples.held_mut() {
                s.base_palette = (0..8)
                    .map(|k| color([k * 30, 100, 200], [50.0, 10.0, f64::from(k)], 0.125))
                    .collect();
                s.cand_palette = s.base_palette.clone();
            }
            c
        })
        .collect();
    r.finish();
    let history: Vec<HistoryRecord> = (0..30)
        .map(|k| {
            let mut h = HistoryRecord::of(&r);
            h.run_id = format!("run-{k}");
            h
        })
        .collect();
    let html = render_html_with_history(&r, &history[history.len() - 20..]);
    let size = html.len();
    println!("index.html for 100 cases x 3 samples with 20 runs of history: {size} bytes");
    assert!(size < 2_000_000, "{size} bytes");
}
