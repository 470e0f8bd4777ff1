//! Verdicts: thresholds turn a case's sample scores into pass or drift.
//!
//! A case is judged on the median of each metric over its samples, so one noisy sample
//! cannot flip the verdict either way.

use crate::report::CaseVerdict;
use crate::score::{LabShift, Metrics, lab_shift_words};
use crate::suite::Thresholds;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// Judges a case from the metrics of its scored samples.
#[must_use]
pub fn judge(thresholds: &Thresholds, metrics: &[&Metrics]) -> (CaseVerdict, Vec<String>) {
    if metrics.is_empty() {
        return (CaseVerdict::Error, vec!["no sample could be scored".into()]);
    }
    let med = |f: fn(&Metrics) -> f64| median(metrics.iter().map(|m| f(m)).collect());
    let mut reasons = Vec::new();
    let ssim = med(|m| m.ssim);
    if let Some(t) = thresholds.ssim
        && ssim < t.min
    {
        reasons.push(format!("SSIM {ssim:.3} below {}", t.min));
    }
    let phash = med(|m| f64::from(m.phash));
    if let Some(t) = thresholds.phash
        && phash > f64::from(t.max_distance)
    {
        reasons.push(format!(
            "pHash distance {phash:.0} above {}",
            t.max_distance
        ));
    }
    let dhash = med(|m| f64::from(m.dhash));
    if let Some(t) = thresholds.dhash
        && dhash > f64::from(t.max_distance)
    {
        reasons.push(format!(
            "dHash distance {dhash:.0} above {}",
            t.max_distance
        ));
    }
    let de = med(|m| m.delta_e);
    if let Some(t) = thresholds.delta_e
        && de > t.max_delta_e
    {
        let shift = LabShift {
            dl: med(|m| m.lab_shift.dl),
            da: med(|m| m.lab_shift.da),
            db: med(|m| m.lab_shift.db),
        };
        let words = lab_shift_words(&shift, 0.0);
        let how = if words.is_empty() {
            String::new()
        } else {
            format!(" ({})", words.join(", "))
        };
        reasons.push(format!("colour ΔE {de:.1} above {}{how}", t.max_delta_e));
    }
    let pal = med(|m| m.palette_delta_e);
    if let Some(t) = thresholds.palette
        && pal > t.max_delta_e
    {
        reasons.push(format!("palette ΔE {pal:.1} above {}", t.max_delta_e));
    }
    if reasons.is_empty() {
        (CaseVerdict::Pass, Vec::new())
    } else {
        (CaseVerdict::Drift, reasons)
    }
}
