//! Splitting row loops across the machine's cores with scoped threads.

use std::ops::Range;

/// Number of worker threads to use for one image.
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Splits `0..rows` into at most `threads()` contiguous bands of at least `min_rows` rows.
pub(crate) fn bands(rows: usize, min_rows: usize) -> Vec<Range<usize>> {
    let n = threads().min(rows.div_ceil(min_rows.max(1))).max(1);
    let per = rows.div_ceil(n);
    (0..n)
        .map(|i| (i * per).min(rows)..((i + 1) * per).min(rows))
        .filter(|r| !r.is_empty())
        .collect()
}
