//! Plain-language description of a colour shift for reports.

use super::LabShift;

/// Just-noticeable difference per CIELAB component: smaller shifts are not named. Slightly
/// under the usual whole-colour JND of 2.3 because a shift of one component across a whole
/// image is easier to see than the same difference between two patches.
pub const JND: f64 = 2.0;

/// Words for the components of a Lab shift that reach [`JND`], largest first.
///
/// `chroma_shift` is the candidate's mean chroma minus the baseline's
/// ([`PairScore::chroma_shift`](super::PairScore::chroma_shift)). Signs follow CIELAB:
/// +b is yellow (warmer), -b blue (cooler), +a red/magenta, -a green.
pub fn lab_shift_words(shift: &LabShift, chroma_shift: f64) -> Vec<String> {
    let mut named: Vec<(f64, String)> = Vec::new();
    let mut push = |value: f64, label: &str, up: &str, down: &str| {
        if value.abs() >= JND {
            let word = if value > 0.0 { up } else { down };
            named.push((value.abs(), format!("{word} ({label} {value:+.1})")));
        }
    };
    push(shift.db, "db", "warmer", "cooler");
    push(shift.da, "da", "redder", "greener");
    push(shift.dl, "dL", "lighter", "darker");
    push(chroma_shift, "dC", "more saturated", "less saturated");
    named.sort_by(|a, b| b.0.total_cmp(&a.0));
    named.into_iter().map(|(_, w)| w).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_only_noticeable_components() {
        let shift = LabShift {
            dl: -2.44,
            da: 0.5,
            db: 3.1,
        };
        assert_eq!(
            lab_shift_words(&shift, -2.0),
            vec![
                "warmer (db +3.1)",
                "darker (dL -2.4)",
                "less saturated (dC -2.0)"
            ]
        );
        assert_eq!(lab_shift_words(&shift, 1.9).len(), 2);
        assert!(
            lab_shift_words(
                &LabShift {
                    dl: 0.0,
                    da: 0.0,
                    db: 0.0
                },
                0.0
            )
            .is_empty()
        );
    }
}
