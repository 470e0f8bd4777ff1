//! The localised channel: a change confined to one place in the frame (a stamp, a caption,
//! a border, a logo that went missing), which every whole-image statistic dilutes.
//!
//! For each cell of the grid the images' fine detail is correlated pair by pair
//! (`score::cell_correlations`, Fisher-transformed), and the cell's value is the kernel
//! two-sample statistic (maximum mean discrepancy) with that correlation as the kernel:
//! mean(candidate pairs) + mean(baseline pairs) − 2·mean(candidate-baseline pairs). It
//! is zero in expectation when the two groups are draws of one model, whatever the
//! framing, and grows when the candidates agree at that place on something the baselines
//! do not have (a stamp over stochastic samples), when they agree among themselves but no
//! longer with the baselines (a stamp over seeded samples), or when the baselines agree
//! on something the candidates lost.
//!
//! A cell is tested against two spreads, the larger of which counts: how much the pair
//! correlations vary at that cell within the groups (pooled), and how much the statistic
//! varies across the frame (median absolute deviation around its median). The second
//! keeps a change of the whole frame (a blur, a coarser encode), which other channels
//! see, from reading as a local one, and keeps textures that correlate by chance in every
//! cell from being a discovery. Each cell gets a one-sided t-test; the case's p-value is
//! the smallest, times the number of cells (Bonferroni), and joins the run's
//! false-discovery control like every other channel.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::channel::{Change, Channel, Region, Signal};
use super::significance::ChannelTest;
use crate::score::{CELLS, Detail, GRID, cell_correlations};

/// Per cell, the mean Fisher-transformed correlation over the pairs, and the pairs'
/// squared deviations from it summed.
fn mean_and_ss(pairs: &[[f64; CELLS]]) -> ([f64; CELLS], [f64; CELLS]) {
    let n = pairs.len().max(1) as f64;
    let mut mean = [0f64; CELLS];
    for p in pairs {
        for k in 0..CELLS {
            mean[k] += p[k] / n;
        }
    }
    let mut ss = [0f64; CELLS];
    for p in pairs {
        for k in 0..CELLS {
            ss[k] += (p[k] - mean[k]).powi(2);
        }
    }
    (mean, ss)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// The place of a box of cells in words, by which third of the frame its centre is in.
fn place(x0: usize, y0: usize, x1: usize, y1: usize) -> String {
    let third = |a: usize, b: usize| (a + b + 1) * 3 / (2 * GRID);
    let col = ["left", "", "right"][third(x0, x1).min(2)];
    let row = ["top", "", "bottom"][third(y0, y1).min(2)];
    match (row, col) {
        ("", "") => "centre".to_string(),
        ("", c) => c.to_string(),
        (r, "") => r.to_string(),
        (r, c) => format!("{r}-{c}"),
    }
}

/// Tests where in the frame the candidates' detail changed; `None` with fewer than two
/// images on either side, images of different sizes, or cells too small to correlate.
#[must_use]
pub fn test_local(base: &[Detail], cand: &[Detail]) -> Option<ChannelTest> {
    if base.len() < 2 || cand.len() < 2 {
        return None;
    }
    let pairs = |a: &[Detail], b: Option<&[Detail]>| -> Option<Vec<[f64; CELLS]>> {
        let mut out = Vec::new();
        for (i, x) in a.iter().enumerate() {
            match b {
                Some(b) => {
                    for y in b {
                        out.push(cell_correlations(x, y)?);
                    }
                }
                None => {
                    for y in &a[i + 1..] {
                        out.push(cell_correlations(x, y)?);
                    }
                }
            }
        }
        Some(out)
    };
    let (bb, cc, cb) = (
        pairs(base, None)?,
        pairs(cand, None)?,
        pairs(cand, Some(base))?,
    );
    let n_cell = base[0].cell_pixels();
    if n_cell < 16 {
        return None;
    }
    let ((m_bb, ss_bb), (m_cc, ss_cc), (m_cb, ss_cb)) =
        (mean_and_ss(&bb), mean_and_ss(&cc), mean_and_ss(&cb));
    let (n_bb, n_cc, n_cb) = (bb.len() as f64, cc.len() as f64, cb.len() as f64);
    let df = bb.len() + cc.len() + cb.len() - 3;
    // The standard error of one correlation's Fisher transform over independent pixels:
    // the statistic's measurement resolution.
    let resolution = 1.0 / ((n_cell - 3) as f64).sqrt();
    let weight = (1.0 / n_bb + 1.0 / n_cc + 4.0 / n_cb).sqrt();
    let stat: Vec<f64> = (0..CELLS)
        .map(|k| m_cc[k] + m_bb[k] - 2.0 * m_cb[k])
        .collect();
    let centre = median(&stat);
    let excess: Vec<f64> = stat.iter().map(|s| s - centre).collect();
    let across = 1.4826 * median(&excess.iter().map(|e| e.abs()).collect::<Vec<_>>());
    let t: Vec<f64> = (0..CELLS)
        .map(|k| {
            let pooled = ((ss_bb[k] + ss_cc[k] + ss_cb[k]) / df.max(1) as f64).sqrt();
            excess[k] / (pooled.max(resolution) * weight).max(across)
        })
        .collect();
    let top = (0..CELLS).max_by(|&a, &b| t[a].total_cmp(&t[b]))?;
    let dist = StudentsT::new(0.0, 1.0, df.max(1) as f64).ok()?;
    let p_value = (dist.sf(t[top]) * CELLS as f64).clamp(0.0, 1.0);
    // The region: the top cell and its 8-connected neighbours that carry at least half
    // its excess, so a stamp across a cell boundary is boxed whole.
    let mut inside = [false; CELLS];
    let mut stack = vec![top];
    inside[top] = true;
    while let Some(k) = stack.pop() {
        let (x, y) = ((k % GRID) as isize, (k / GRID) as isize);
        for (dx, dy) in (-1..=1).flat_map(|dx| (-1..=1).map(move |dy| (dx, dy))) {
            let (nx, ny) = (x + dx, y + dy);
            if !(0..GRID as isize).contains(&nx) || !(0..GRID as isize).contains(&ny) {
                continue;
            }
            let j = ny as usize * GRID + nx as usize;
            if !inside[j] && excess[j] >= 0.5 * excess[top] && excess[top] > 0.0 {
                inside[j] = true;
                stack.push(j);
            }
        }
    }
    let cells: Vec<usize> = (0..CELLS).filter(|&k| inside[k]).collect();
    let (x0, x1) = cells
        .iter()
        .map(|k| k % GRID)
        .fold((GRID, 0), |(a, b), x| (a.min(x), b.max(x)));
    let (y0, y1) = cells
        .iter()
        .map(|k| k / GRID)
        .fold((GRID, 0), |(a, b), y| (a.min(y), b.max(y)));
    let outside: Vec<f64> = (0..CELLS)
        .filter(|&k| !inside[k])
        .map(|k| excess[k])
        .collect();
    let (low, high) = outside
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let mean_over =
        |m: &[f64; CELLS]| cells.iter().map(|&k| m[k]).sum::<f64>() / cells.len() as f64;
    let (own_cand, own_base, across_groups) =
        (mean_over(&m_cc), mean_over(&m_bb), mean_over(&m_cb));
    // Each side's own agreement above the agreement across the groups: a side that adds
    // less than a quarter of the statistic has not changed.
    let (cand_part, base_part) = (own_cand - across_groups, own_base - across_groups);
    let quarter = 0.25 * (cand_part + base_part);
    let change = if base_part < quarter {
        Change::New
    } else if cand_part < quarter {
        Change::Gone
    } else {
        Change::Changed
    };
    let value = excess[top];
    Some(ChannelTest {
        metric: Signal::mean(Channel::Local),
        value,
        low: if low.is_finite() { low } else { 0.0 },
        high: if high.is_finite() { high } else { 0.0 },
        baseline_mean: 0.0,
        p_value,
        significant: false,
        outside_floor: value > high.max(0.0),
        noticeable: value >= Channel::Local.spec().min_effect,
        region: Some(Region {
            x: x0 as f64 / GRID as f64,
            y: y0 as f64 / GRID as f64,
            w: (x1 + 1 - x0) as f64 / GRID as f64,
            h: (y1 + 1 - y0) as f64 / GRID as f64,
            name: place(x0, y0, x1, y1),
            change,
            samples: cand.len(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::detail;
    use image::RgbImage;

    /// A textured scene seen through a window at `(ox, oy)`: a new framing per offset.
    fn framed(ox: u32, oy: u32) -> RgbImage {
        RgbImage::from_fn(96, 96, |x, y| {
            let (u, v) = (x + ox, y + oy);
            let n = (u.wrapping_mul(2_654_435_761) ^ v.wrapping_mul(40_503))
                .wrapping_mul(2_246_822_519)
                >> 26;
            let base = ((f64::from(u) * 0.1).sin() * 40.0 + 120.0) as u32;
            image::Rgb([(base + n) as u8, (base / 2 + n) as u8, 90])
        })
    }

    fn stamped(mut img: RgbImage, x0: u32, y0: u32) -> RgbImage {
        for y in y0..y0 + 10 {
            for x in x0..x0 + 20 {
                let v = if (x / 2 + y / 3) % 2 == 0 { 250 } else { 20 };
                img.put_pixel(x, y, image::Rgb([v; 3]));
            }
        }
        img
    }

    fn details(v: &[RgbImage]) -> Vec<Detail> {
        v.iter().map(detail).collect()
    }

    #[test]
    fn a_stamp_over_new_framings_is_found_and_placed() {
        let base = details(&[framed(0, 0), framed(31, 7), framed(5, 40)]);
        let cand = details(&[
            stamped(framed(17, 3), 70, 80),
            stamped(framed(44, 21), 70, 80),
            stamped(framed(9, 33), 70, 80),
        ]);
        let t = test_local(&base, &cand).unwrap();
        assert!(t.p_value < 1e-6 && t.outside_floor && t.noticeable, "{t:?}");
        let r = t.region.unwrap();
        assert_eq!(
            (r.name.as_str(), r.change, r.samples),
            ("bottom-right", Change::New, 3)
        );
        assert!(r.x >= 0.5 && r.y >= 0.75, "{r:?}");
    }

    #[test]
    fn new_framings_alone_are_no_local_change() {
        let base = details(&[framed(0, 0), framed(31, 7), framed(5, 40)]);
        let cand = details(&[framed(17, 3), framed(44, 21), framed(9, 33)]);
        let t = test_local(&base, &cand).unwrap();
        assert!(t.p_value > 0.01 || !t.noticeable, "{t:?}");
    }

    #[test]
    fn a_stamp_on_a_fixed_seed_reads_as_changed() {
        let base = details(&[framed(0, 0), framed(0, 0), framed(0, 0)]);
        let cand = details(&[
            stamped(framed(0, 0), 2, 2),
            stamped(framed(0, 0), 2, 2),
            stamped(framed(0, 0), 2, 2),
        ]);
        let t = test_local(&base, &cand).unwrap();
        let r = t.region.unwrap();
        assert_eq!((r.name.as_str(), r.change), ("top-left", Change::Changed));
    }

    #[test]
    fn too_few_samples_or_mixed_sizes_are_not_tested() {
        let one = details(&[framed(0, 0)]);
        let two = details(&[framed(0, 0), framed(3, 3)]);
        assert!(test_local(&one, &two).is_none());
        let other = vec![
            detail(&RgbImage::new(64, 64)),
            detail(&RgbImage::new(64, 64)),
        ];
        assert!(test_local(&two, &other).is_none());
    }
}
