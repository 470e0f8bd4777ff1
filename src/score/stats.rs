//! Summary statistics over scores, shared by the verdict and the report.

/// The median of `values` in `f64::total_cmp` order (a NaN sorts past every number, a
/// negative NaN before), the mean of the middle two for an even count; `None` when
/// empty. Callers that must not be swayed by a failed score filter it out first.
#[must_use]
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some(f64::midpoint(values[n / 2 - 1], values[n / 2])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(Vec::new()), None);
    }

    #[test]
    fn nan_sorts_last_rather_than_panicking() {
        assert_eq!(median(vec![f64::NAN, 1.0, 2.0]), Some(2.0));
        assert!(median(vec![f64::NAN]).is_some_and(f64::is_nan));
    }
}
