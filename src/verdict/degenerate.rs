//! Degenerate outputs: a candidate sample that is no picture of the prompt at all (a flat
//! image where a safety filter or a failed job left a placeholder) or that comes back at
//! another size or aspect than the baselines), and a sample the platform itself marked
//! (fal's `has_nsfw_concepts`, an Ark per-item content-filter error, an OpenRouter
//! content-filter finish reason). Each is drift on its own: no noise floor explains it,
//! so it is not a p-value and takes no part in the false-discovery control.

use super::wording::sample_number;
use crate::score::Features;

/// A sample whose 601 luma varies by less than one 8-bit level (standard deviation on
/// 0..=255) is flat: one level is the resolution the image was delivered at, so below it
/// nothing in the frame is measurably different from anything else.
const FLAT_LUMA_SD: f64 = 1.0;

/// A baseline counts as clearly not flat from twice the flat resolution up: a suite whose
/// baselines sit at the edge of flat (a plain backdrop, a near-blank render) asks for
/// such images, and its candidates are left to the statistical channels.
const CLEARLY_NOT_FLAT_LUMA_SD: f64 = 2.0 * FLAT_LUMA_SD;

/// Mean chroma (CIELAB, of the mean colour) from which a flat image is called coloured
/// rather than black, grey or white: several just-noticeable differences (about 2.3)
/// from neutral, so only a visibly tinted fill is named by colour. Words only.
const TINTED_CHROMA: f64 = 10.0;

/// One candidate sample as the check sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'a> {
    /// The sample's index as the case numbers it (0-based; shown 1-based).
    pub(crate) index: u32,
    /// Width and height.
    pub(crate) size: (u32, u32),
    /// Its signature.
    pub(crate) features: &'a Features,
}

/// Reasons for every degenerate candidate, in sample order, each naming the sample and
/// what is wrong with it. `baselines` are the decoded baselines' sizes and signatures.
pub(crate) fn degenerate_reasons(
    baselines: &[((u32, u32), &Features)],
    candidates: &[Candidate<'_>],
) -> Vec<String> {
    let baselines_have_detail = !baselines.is_empty()
        && baselines
            .iter()
            .all(|(_, f)| f.contrast >= CLEARLY_NOT_FLAT_LUMA_SD);
    let mut sizes: Vec<(u32, u32)> = baselines.iter().map(|(s, _)| *s).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut reasons = Vec::new();
    for c in candidates {
        let n = sample_number(c.index);
        if baselines_have_detail && c.features.contrast < FLAT_LUMA_SD {
            reasons.push(format!(
                "sample {n} is {} (luma sd {:.1}): a filtered or failed generation",
                flat_name(c.features),
                c.features.contrast
            ));
        }
        if !sizes.is_empty() && !sizes.contains(&c.size) {
            reasons.push(size_reason(n, c.size, &sizes));
        }
    }
    reasons
}

/// A sample the platform marked, as the run received it.
#[derive(Debug, Clone, Copy)]
pub struct Mark<'a> {
    /// The sample's index as the case numbers it (0-based; shown 1-based).
    pub sample: u32,
    /// The platform's words, naming the platform: `has_nsfw_concepts (fal)`.
    pub words: &'a str,
    /// Whether an image came with the mark; without one the platform filtered the
    /// sample out, and the case's other samples are scored without it.
    pub image: bool,
}

/// Reasons for every marked sample, in sample order, each naming the sample and the
/// platform's mark. They lead a case's reasons: the platform's own word is the plainest
/// explanation of a sample, ahead of what the pixels show.
#[must_use]
pub fn platform_mark_reasons(marks: &[Mark<'_>]) -> Vec<String> {
    let mut marks = marks.to_vec();
    marks.sort_by_key(|m| m.sample);
    marks
        .iter()
        .map(|m| {
            let what = if m.image { "marked" } else { "filtered" };
            format!(
                "sample {} was {what} by the platform: {}",
                sample_number(m.sample),
                m.words
            )
        })
        .collect()
}

/// "a flat black image" and so on: the nearest of black, mid grey and white in L*, or
/// coloured when the fill is visibly tinted.
fn flat_name(f: &Features) -> &'static str {
    let [l, a, b] = f.lab_mean;
    if a.hypot(b) >= TINTED_CHROMA {
        "a flat coloured image"
    } else if l < 25.0 {
        "a flat black image"
    } else if l > 75.0 {
        "a flat white image"
    } else {
        "a flat grey image"
    }
}

fn size_reason(n: u32, (w, h): (u32, u32), baseline: &[(u32, u32)]) -> String {
    let listed: Vec<String> = baseline.iter().map(|(w, h)| format!("{w}x{h}")).collect();
    let (are, sizes) = if listed.len() == 1 {
        ("is", listed.join(""))
    } else {
        ("are", listed.join(" or "))
    };
    // Same aspect at another size is a resolution change; another aspect is a changed
    // framing of the whole output, which matters more to anyone laying the image out.
    let same_aspect = baseline
        .iter()
        .any(|&(bw, bh)| u64::from(w) * u64::from(bh) == u64::from(h) * u64::from(bw));
    let what = if same_aspect {
        "a different size"
    } else {
        "a different aspect"
    };
    let baselines = if listed.len() == 1 {
        "the baseline size"
    } else {
        "the baseline sizes"
    };
    format!("sample {n} is {w}x{h} where {baselines} {are} {sizes}: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score;
    use image::RgbImage;

    fn scene(seed: u32) -> RgbImage {
        RgbImage::from_fn(48, 32, |x, y| {
            let v = (x * 5 + y * 3 + seed * 7) % 256;
            image::Rgb([v as u8, (255 - v) as u8, ((x * y + seed) % 256) as u8])
        })
    }

    fn flat(v: [u8; 3]) -> RgbImage {
        RgbImage::from_pixel(48, 32, image::Rgb(v))
    }

    fn check(bases: &[RgbImage], cands: &[RgbImage]) -> Vec<String> {
        let bf: Vec<Features> = bases.iter().map(score::features).collect();
        let cf: Vec<Features> = cands.iter().map(score::features).collect();
        let b: Vec<_> = bases.iter().map(RgbImage::dimensions).zip(&bf).collect();
        let c: Vec<Candidate<'_>> = cands
            .iter()
            .zip(&cf)
            .zip(0u32..)
            .map(|((img, features), index)| Candidate {
                index,
                size: img.dimensions(),
                features,
            })
            .collect();
        degenerate_reasons(&b, &c)
    }

    #[test]
    fn a_flat_sample_among_normal_ones_is_named_by_its_shade() {
        let bases = [scene(0), scene(1), scene(2)];
        for (fill, name) in [
            (
                [128, 128, 128],
                "sample 2 is a flat grey image (luma sd 0.0)",
            ),
            ([0, 0, 0], "sample 2 is a flat black image (luma sd 0.0)"),
            (
                [255, 255, 255],
                "sample 2 is a flat white image (luma sd 0.0)",
            ),
            (
                [200, 30, 30],
                "sample 2 is a flat coloured image (luma sd 0.0)",
            ),
        ] {
            let reasons = check(&bases, &[scene(3), flat(fill), scene(4)]);
            assert_eq!(reasons.len(), 1, "{reasons:?}");
            assert_eq!(
                reasons[0],
                format!("{name}: a filtered or failed generation")
            );
        }
    }

    #[test]
    fn sub_level_noise_on_a_flat_fill_is_still_flat() {
        // A placeholder passed through a lossy encode keeps a trace of noise well
        // below one level.
        let noisy = RgbImage::from_fn(48, 32, |x, y| {
            let v = if (x + y) % 7 == 0 { 129 } else { 128 };
            image::Rgb([v, v, v])
        });
        let reasons = check(&[scene(0), scene(1)], &[noisy, scene(2)]);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].starts_with("sample 1 is a flat grey image (luma sd 0."));
    }

    #[test]
    fn flat_baselines_raise_no_alarm() {
        let bases = [flat([20, 20, 20]), flat([21, 21, 21]), flat([20, 20, 20])];
        assert!(check(&bases, &[flat([20, 20, 20]), flat([22, 22, 22])]).is_empty());
        // One flat baseline is enough to make flat candidates plausible.
        let mixed = [scene(0), flat([128, 128, 128]), scene(1)];
        assert!(check(&mixed, &[flat([128, 128, 128]), scene(2)]).is_empty());
    }

    #[test]
    fn normal_samples_raise_no_alarm() {
        let bases = [scene(0), scene(1), scene(2)];
        assert!(check(&bases, &[scene(3), scene(4), scene(5)]).is_empty());
    }

    #[test]
    fn a_changed_size_or_aspect_names_the_sample() {
        let bases = [scene(0), scene(1), scene(2)];
        let half = image::imageops::resize(&scene(3), 24, 16, image::imageops::Triangle);
        let square = image::imageops::resize(&scene(4), 32, 32, image::imageops::Triangle);
        let reasons = check(&bases, &[scene(5), half, square]);
        assert_eq!(
            reasons,
            [
                "sample 2 is 24x16 where the baseline size is 48x32: a different size",
                "sample 3 is 32x32 where the baseline size is 48x32: a different aspect",
            ]
        );
    }

    #[test]
    fn marked_and_filtered_samples_are_named_in_sample_order() {
        let marks = [
            Mark {
                sample: 2,
                words: "OutputImageRiskDetection (Ark)",
                image: false,
            },
            Mark {
                sample: 1,
                words: "has_nsfw_concepts (fal)",
                image: true,
            },
        ];
        assert_eq!(
            platform_mark_reasons(&marks),
            [
                "sample 2 was marked by the platform: has_nsfw_concepts (fal)",
                "sample 3 was filtered by the platform: OutputImageRiskDetection (Ark)",
            ]
        );
        assert!(platform_mark_reasons(&[]).is_empty());
    }

    #[test]
    fn a_flat_sample_at_another_size_gets_both_reasons() {
        let bases = [scene(0), scene(1)];
        let small = RgbImage::from_pixel(16, 16, image::Rgb([0, 0, 0]));
        let reasons = check(&bases, &[small]);
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].starts_with("sample 1 is a flat black image"));
        assert!(reasons[1].ends_with("a different aspect"));
    }
}
