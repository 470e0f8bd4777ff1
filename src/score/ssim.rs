//! Gaussian-window SSIM (Wang et al. 2004) with scikit-image's conventions.
//!
//! Settings match `skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
//! use_sample_covariance=False, data_range=255)`: an 11-tap Gaussian (radius
//! `int(3.5 * 1.5 + 0.5) = 5`), K1 = 0.01, K2 = 0.03, population covariance, scipy `reflect`
//! borders (`d c b a | a b c d`), and the mean taken after cropping 5 pixels from every edge.
//!
//! The five local statistics (two means, two second moments, cross moment) are blurred
//! together, two output rows at a time: a vertical pass over their 12 source rows into five
//! row buffers each, then a horizontal pass that feeds the SSIM formula directly. The R, G
//! and B SSIMs are one such pass over the rows' interleaved bytes. Only the two input
//! images and the output map are full size, and the row loop is split into bands that run
//! on separate threads.

use image::RgbImage;
use multiversion::{multiversion, target::selected_target};

const RADIUS: usize = 5;
const TAPS: usize = 2 * RADIUS + 1;
const C1: f32 = (0.01 * 255.0) * (0.01 * 255.0);
const C2: f32 = (0.03 * 255.0) * (0.03 * 255.0);

/// Normalised Gaussian weights for sigma 1.5, computed in f64 as scipy does.
fn weights() -> [f32; TAPS] {
    let sigma2 = 1.5f64 * 1.5;
    let mut w = [0f64; TAPS];
    for (i, v) in w.iter_mut().enumerate() {
        let x = i as f64 - RADIUS as f64;
        *v = (-0.5 / sigma2 * x * x).exp();
    }
    let sum: f64 = w.iter().sum();
    w.map(|v| (v / sum) as f32)
}

/// scipy's `reflect` boundary: the edge sample is repeated, folding as often as needed.
fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    let m = i.rem_euclid(2 * n);
    (if m >= n { 2 * n - 1 - m } else { m }) as usize
}

/// Channels of an RGB image that SSIM is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channels {
    /// Luma only.
    Luma,
    /// Luma, then R, G and B.
    LumaAndRgb,
}

/// SSIM of two same-sized images: `[luma, r, g, b]` (the colour entries stay 0 for
/// [`Channels::Luma`]). Fills `map` (row-major, `w * h`) with the luma SSIM map when given.
///
/// Source rows are converted to f32 once, into an 11-row cache per thread, so no
/// full-size float plane is ever allocated.
pub(crate) fn ssim_images(
    a: &RgbImage,
    b: &RgbImage,
    channels: Channels,
    map: Option<&mut [f32]>,
) -> [f64; 4] {
    assert_eq!(a.dimensions(), b.dimensions(), "image size mismatch");
    let (w, h) = (a.width() as usize, a.height() as usize);
    if w == 0 || h == 0 {
        return [1.0; 4];
    }
    let wts = weights();
    // Too small to crop: average the whole map rather than nothing.
    let crop = if w > 2 * RADIUS && h > 2 * RADIUS {
        RADIUS
    } else {
        0
    };
    // Many small chunks pulled from a shared queue rather than one band per thread, so a
    // core that is busy with something else (the hashes, another process) does not leave
    // the other idle at the end.
    let chunk_rows = 64;
    let mut chunks: Vec<(std::ops::Range<usize>, Option<&mut [f32]>)> = Vec::new();
    let mut rest = map;
    for start in (0..h).step_by(chunk_rows) {
        let r = start..(start + chunk_rows).min(h);
        let head = match rest.take() {
            Some(m) => {
                let (head, tail) = m.split_at_mut(r.len() * w);
                rest = Some(tail);
                Some(head)
            }
            None => None,
        };
        chunks.push((r, head));
    }
    let queue = std::sync::Mutex::new(chunks.into_iter().enumerate());
    let job = Job {
        a: a.as_raw(),
        b: b.as_raw(),
        w,
        h,
        channels,
        wts,
        crop,
    };
    let workers = super::parallel::threads().min(h.div_ceil(chunk_rows));
    // Each chunk's sums are kept apart and added in image order, so the result does not
    // depend on which worker took which chunk.
    let mut sums: Vec<(usize, [f64; 4])> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (job, queue) = (&job, &queue);
                s.spawn(move || {
                    let mut done = Vec::new();
                    let mut scratch = job.scratch();
                    loop {
                        let next = queue.lock().map(|mut q| q.next());
                        let Ok(Some((i, (rows, out)))) = next else {
                            break;
                        };
                        done.push((i, job.band(rows, out, &mut scratch)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|_| vec![(0, [f64::NAN; 4])]))
            .collect()
    });
    sums.sort_by_key(|(i, _)| *i);
    let count = ((w - 2 * crop) * (h - 2 * crop)) as f64;
    let mut out = [0f64; 4];
    for (_, part) in sums {
        for (o, v) in out.iter_mut().zip(part) {
            *o += v;
        }
    }
    out.map(|v| v / count)
}

/// 601 luma of one row of RGB bytes, in [`luma601`]'s exact arithmetic. Written as a plain
/// indexed loop over pixels: the compiler recognises the stride-3 byte loads and splits
/// them with a few byte shuffles per 32 pixels. A loop over `chunks_exact(3)` was a third
/// of the luma SSIM, and fixed groups of 16 pixels inserted the bytes one at a time.
#[multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))]
pub(crate) fn luma_row(src: &[u8], dst: &mut [f32]) {
    let n = dst.len().min(src.len() / 3);
    let (src, dst) = (&src[..3 * n], &mut dst[..n]);
    for i in 0..n {
        let (r, g, b) = (
            f32::from(src[3 * i]),
            f32::from(src[3 * i + 1]),
            f32::from(src[3 * i + 2]),
        );
        dst[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    }
}

/// Pixels processed together; the 5 x LANES accumulators stay in vector registers.
const LANES: usize = 16;

/// Floats per cache line.
const LINE: usize = 16;

/// `n` floats rounded up to an odd number of cache lines. The vertical pass reads the same
/// columns of 22 rows at once; at a row stride that is a multiple of 4 KB (any width
/// divisible by 1024) all 22 map to one set of the 8-way L1 cache and evict each other on
/// every load, while an odd number of lines puts every row in a different set. Luma SSIM
/// on 2048 px went from 37 to 23 ms on one core.
fn odd_lines(n: usize) -> usize {
    (n.div_ceil(LINE) | 1) * LINE
}

/// One SSIM pass over a row layout: luma (one float per pixel) or interleaved R, G, B
/// (three floats per pixel, `STEP` apart for the horizontal blur).
#[derive(Clone, Copy)]
enum Pass {
    Luma,
    Rgb,
}

impl Pass {
    const fn step(self) -> usize {
        match self {
            Self::Luma => 1,
            Self::Rgb => 3,
        }
    }
}

/// The five vertically blurred statistics of one row, padded by `RADIUS` pixels on each
/// side.
struct Rows {
    /// `[mx, my, mxx, myy, mxy]`, one every `stride` floats.
    data: Vec<f32>,
    stride: usize,
    pad: usize,
}

impl Rows {
    fn new(w: usize, pass: Pass) -> Self {
        let pad = RADIUS * pass.step();
        let stride = odd_lines(w * pass.step() + 2 * pad);
        Self {
            data: vec![0.0; 5 * stride],
            stride,
            pad,
        }
    }

    fn planes(&self) -> [&[f32]; 5] {
        let mut it = self.data.chunks_exact(self.stride);
        std::array::from_fn(|_| it.next().unwrap_or_default())
    }

    fn planes_mut(&mut self) -> [&mut [f32]; 5] {
        let mut it = self.data.chunks_exact_mut(self.stride);
        std::array::from_fn(|_| it.next().unwrap_or_default())
    }

    /// Fills the padding with scipy `reflect` copies of the `w` pixels inside.
    fn reflect_edges(&mut self, w: usize) {
        let pad = self.pad;
        let step = pad / RADIUS;
        for v in self.planes_mut() {
            for j in 0..RADIUS {
                let (left, right) = (reflect(-(j as isize) - 1, w), reflect((w + j) as isize, w));
                for c in 0..step {
                    v[pad - step * (j + 1) + c] = v[pad + step * left + c];
                    v[pad + step * (w + j) + c] = v[pad + step * right + c];
                }
            }
        }
    }
}

/// What one worker keeps from band to band.
struct Scratch {
    cache: RowCache,
    luma: [Rows; 2],
    rgb: Option<[Rows; 2]>,
    out: Vec<f32>,
}

/// Source rows cached: the 12 that two neighbouring output rows read. Blurring two rows at
/// once loads each source value once for both; luma SSIM went from 10.4 to 9.8 ms.
const SLOTS: usize = TAPS + 1;

struct Job<'a> {
    a: &'a [u8],
    b: &'a [u8],
    w: usize,
    h: usize,
    channels: Channels,
    wts: [f32; TAPS],
    crop: usize,
}

/// The last `SLOTS` source rows of both images as f32: luma, and for RGB SSIM the bytes
/// themselves, still interleaved. A row lives in slot `row % SLOTS`; the rows one or two
/// output rows need never collide (they lie within 12 consecutive indices).
struct RowCache {
    tags: [usize; SLOTS],
    /// `[slot][image]` blocks of `block` floats: luma at 0, RGB at `rgb_at`.
    data: Vec<f32>,
    w: usize,
    block: usize,
    rgb_at: Option<usize>,
}

impl RowCache {
    fn new(w: usize, channels: Channels) -> Self {
        let luma = odd_lines(w);
        let rgb_at = (channels == Channels::LumaAndRgb).then_some(luma);
        let block = luma + rgb_at.map_or(0, |_| odd_lines(3 * w));
        Self {
            tags: [usize::MAX; SLOTS],
            data: vec![0.0; SLOTS * 2 * block],
            w,
            block,
            rgb_at,
        }
    }

    fn load(&mut self, row: usize, job: &Job<'_>) {
        let slot = row % SLOTS;
        if self.tags[slot] == row {
            return;
        }
        self.tags[slot] = row;
        let w = self.w;
        for (image, raw) in [job.a, job.b].into_iter().enumerate() {
            let src = &raw[row * w * 3..(row + 1) * w * 3];
            let base = (slot * 2 + image) * self.block;
            let dst = &mut self.data[base..base + self.block];
            luma_row(src, &mut dst[..w]);
            if let Some(at) = self.rgb_at {
                for (d, &v) in dst[at..at + 3 * w].iter_mut().zip(src) {
                    *d = f32::from(v);
                }
            }
        }
    }

    fn row(&self, row: usize, image: usize, pass: Pass) -> &[f32] {
        let o = ((row % SLOTS) * 2 + image) * self.block;
        match pass {
            Pass::Luma => &self.data[o..o + self.w],
            Pass::Rgb => {
                let at = o + self.rgb_at.unwrap_or(0);
                &self.data[at..at + 3 * self.w]
            }
        }
    }
}

impl Job<'_> {
    fn scratch(&self) -> Scratch {
        let rgb = self.channels == Channels::LumaAndRgb;
        Scratch {
            cache: RowCache::new(self.w, self.channels),
            luma: [0, 1].map(|_| Rows::new(self.w, Pass::Luma)),
            rgb: rgb.then(|| [0, 1].map(|_| Rows::new(self.w, Pass::Rgb))),
            out: vec![0.0; if rgb { 3 * self.w } else { self.w }],
        }
    }

    /// Scores output rows `rows`. The scratch outlives the band so that a new band neither
    /// faults in fresh pages nor converts again the source rows it shares with the last.
    fn band(
        &self,
        rows: std::ops::Range<usize>,
        mut out: Option<&mut [f32]>,
        scratch: &mut Scratch,
    ) -> [f64; 4] {
        let (w, h, crop) = (self.w, self.h, self.crop);
        let Scratch {
            cache,
            luma,
            rgb,
            out: spare,
        } = scratch;
        let mut sums = [0f64; 4];
        let first = rows.start;
        let mut y = rows.start;
        while y < rows.end {
            // Two output rows at once where neither reads a reflected row: they share 10 of
            // their 11 source rows, so each source value is loaded once for both.
            let pair = y + 1 < rows.end && y >= RADIUS && y + 1 + RADIUS < h;
            let n = if pair { 2 } else { 1 };
            let src: [usize; SLOTS] = std::array::from_fn(|k| {
                reflect(
                    y as isize + k.min(TAPS - 1 + n - 1) as isize - RADIUS as isize,
                    h,
                )
            });
            for &r in &src {
                cache.load(r, self);
            }
            for (pass, bufs) in [(Pass::Luma, Some(&mut *luma)), (Pass::Rgb, rgb.as_mut())] {
                let Some([b0, b1]) = bufs else { continue };
                let ra: [&[f32]; SLOTS] = src.map(|r| cache.row(r, 0, pass));
                let rb: [&[f32]; SLOTS] = src.map(|r| cache.row(r, 1, pass));
                if pair {
                    vertical2(&ra, &rb, &self.wts, b0, b1);
                } else {
                    let (ra, rb) = (first_taps(&ra), first_taps(&rb));
                    vertical(&ra, &rb, &self.wts, b0);
                }
                for (j, buf) in [b0, b1].into_iter().take(n).enumerate() {
                    let y = y + j;
                    buf.reflect_edges(w);
                    let inside = y >= crop && y < h - crop;
                    let out_row = match (pass, out.as_deref_mut()) {
                        (Pass::Luma, Some(m)) => &mut m[(y - first) * w..(y - first + 1) * w],
                        _ => &mut spare[..w * pass.step()],
                    };
                    match pass {
                        Pass::Luma => {
                            horizontal::<1>(buf, &self.wts, out_row);
                            if inside {
                                sums[0] += row_sum(&out_row[crop..w - crop]);
                            }
                        }
                        Pass::Rgb => {
                            horizontal::<3>(buf, &self.wts, out_row);
                            if inside {
                                let rgb = rgb_sums(&out_row[3 * crop..3 * (w - crop)]);
                                for (s, v) in sums[1..].iter_mut().zip(rgb) {
                                    *s += v;
                                }
                            }
                        }
                    }
                }
            }
            y += n;
        }
        sums
    }
}

/// Whether a multiversioned clone was compiled with fused multiply-add.
#[allow(clippy::missing_const_for_fn, unused_variables)]
const fn has_fma(t: multiversion::target::TargetFeatures) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        t.contains(multiversion::target_features::x86_64::FMA)
    }
    #[cfg(target_arch = "aarch64")]
    {
        t.contains(multiversion::target_features::aarch64::NEON)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// Multiply-add that is fused only where the CPU has FMA (elsewhere `mul_add` would be a
/// slow library call).
#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

#[multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))]
fn vertical(ra: &[&[f32]; TAPS], rb: &[&[f32]; TAPS], wts: &[f32; TAPS], buf: &mut Rows) {
    const FMA: bool = has_fma(selected_target!());
    let w = ra[0].len();
    let pad = buf.pad;
    let [mx, my, mxx, myy, mxy] = buf.planes_mut().map(|p| &mut p[pad..pad + w]);
    let full = w - w % LANES;
    for i0 in (0..full).step_by(LANES) {
        let mut acc = [[0f32; LANES]; 5];
        for t in 0..TAPS {
            let k = wts[t];
            let xs = &ra[t][i0..i0 + LANES];
            let ys = &rb[t][i0..i0 + LANES];
            for l in 0..LANES {
                let (p, q) = (xs[l], ys[l]);
                let (kp, kq) = (k * p, k * q);
                acc[0][l] += kp;
                acc[1][l] += kq;
                acc[2][l] = madd::<FMA>(kp, p, acc[2][l]);
                acc[3][l] = madd::<FMA>(kq, q, acc[3][l]);
                acc[4][l] = madd::<FMA>(kp, q, acc[4][l]);
            }
        }
        mx[i0..i0 + LANES].copy_from_slice(&acc[0]);
        my[i0..i0 + LANES].copy_from_slice(&acc[1]);
        mxx[i0..i0 + LANES].copy_from_slice(&acc[2]);
        myy[i0..i0 + LANES].copy_from_slice(&acc[3]);
        mxy[i0..i0 + LANES].copy_from_slice(&acc[4]);
    }
    for i in full..w {
        let mut acc = [0f32; 5];
        for t in 0..TAPS {
            let k = wts[t];
            let (p, q) = (ra[t][i], rb[t][i]);
            let (kp, kq) = (k * p, k * q);
            acc[0] += kp;
            acc[1] += kq;
            acc[2] = madd::<FMA>(kp, p, acc[2]);
            acc[3] = madd::<FMA>(kq, q, acc[3]);
            acc[4] = madd::<FMA>(kp, q, acc[4]);
        }
        (mx[i], my[i], mxx[i], myy[i], mxy[i]) = (acc[0], acc[1], acc[2], acc[3], acc[4]);
    }
}

fn first_taps<'a>(rows: &[&'a [f32]; SLOTS]) -> [&'a [f32]; TAPS] {
    std::array::from_fn(|t| rows[t])
}

/// Pixels per group in [`vertical2`]: its 2 x 5 accumulators fill the vector registers.
const LANES2: usize = 8;

/// [`vertical`] for two neighbouring output rows, from their 12 source rows.
#[multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))]
fn vertical2(
    ra: &[&[f32]; SLOTS],
    rb: &[&[f32]; SLOTS],
    wts: &[f32; TAPS],
    b0: &mut Rows,
    b1: &mut Rows,
) {
    const FMA: bool = has_fma(selected_target!());
    let w = ra[0].len();
    let pad = b0.pad;
    let mut outs = [b0, b1].map(|b| b.planes_mut().map(|p| &mut p[pad..pad + w]));
    let full = w - w % LANES2;
    let step = |acc: &mut [[f32; LANES2]; 5], k: f32, xs: &[f32], ys: &[f32]| {
        for l in 0..LANES2 {
            let (p, q) = (xs[l], ys[l]);
            let (kp, kq) = (k * p, k * q);
            acc[0][l] += kp;
            acc[1][l] += kq;
            acc[2][l] = madd::<FMA>(kp, p, acc[2][l]);
            acc[3][l] = madd::<FMA>(kq, q, acc[3][l]);
            acc[4][l] = madd::<FMA>(kp, q, acc[4][l]);
        }
    };
    for i0 in (0..full).step_by(LANES2) {
        let (mut a0, mut a1) = ([[0f32; LANES2]; 5], [[0f32; LANES2]; 5]);
        for t in 0..SLOTS {
            let xs = &ra[t][i0..i0 + LANES2];
            let ys = &rb[t][i0..i0 + LANES2];
            if t < TAPS {
                step(&mut a0, wts[t], xs, ys);
            }
            if t > 0 {
                step(&mut a1, wts[t - 1], xs, ys);
            }
        }
        for (o, a) in outs.iter_mut().zip([a0, a1]) {
            for (plane, v) in o.iter_mut().zip(a) {
                plane[i0..i0 + LANES2].copy_from_slice(&v);
            }
        }
    }
    for i in full..w {
        for (shift, o) in outs.iter_mut().enumerate() {
            let mut acc = [0f32; 5];
            for t in 0..TAPS {
                let k = wts[t];
                let (p, q) = (ra[t + shift][i], rb[t + shift][i]);
                let (kp, kq) = (k * p, k * q);
                acc[0] += kp;
                acc[1] += kq;
                acc[2] = madd::<FMA>(kp, p, acc[2]);
                acc[3] = madd::<FMA>(kq, q, acc[3]);
                acc[4] = madd::<FMA>(kp, q, acc[4]);
            }
            for (plane, v) in o.iter_mut().zip(acc) {
                plane[i] = v;
            }
        }
    }
}

/// Sum of a map row in f64. Eight independent partial sums: one running sum would make
/// every addition wait for the previous one, which cost a third of the row loop.
fn row_sum(row: &[f32]) -> f64 {
    let mut acc = [0f64; 8];
    let chunks = row.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().map(|&v| f64::from(v)).sum();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f64::from(v);
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// Sums of an interleaved R, G, B map row, per channel. Blocks of 24 values (a whole
/// number of pixels and of vectors) keep each lane on one channel.
fn rgb_sums(row: &[f32]) -> [f64; 3] {
    let mut acc = [0f64; 24];
    let chunks = row.chunks_exact(24);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f64::from(v);
        }
    }
    let mut out = [0f64; 3];
    for (i, a) in acc.iter().enumerate() {
        out[i % 3] += a;
    }
    for (i, &v) in tail.iter().enumerate() {
        out[i % 3] += f64::from(v);
    }
    out
}

/// SSIM from the five blurred statistics, written so that x == y gives numerator ==
/// denominator bit for bit (identity scores exactly 1).
#[inline(always)]
fn ssim_formula(ux: f32, uy: f32, uxx: f32, uyy: f32, uxy: f32) -> f32 {
    let vx = uxx - ux * ux;
    let vy = uyy - uy * uy;
    let vxy = uxy - ux * uy;
    let num = (2.0 * ux * uy + C1) * (2.0 * vxy + C2);
    let den = (ux * ux + uy * uy + C1) * (vx + vy + C2);
    num / den
}

/// The horizontal blur and the SSIM formula; neighbouring pixels are `STEP` floats apart.
#[multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1", "aarch64+neon"))]
fn horizontal<const STEP: usize>(buf: &Rows, wts: &[f32; TAPS], out: &mut [f32]) {
    const FMA: bool = has_fma(selected_target!());
    let w = out.len();
    let src = buf.planes();
    let full = w - w % LANES;
    for i0 in (0..full).step_by(LANES) {
        let mut acc = [[0f32; LANES]; 5];
        for t in 0..TAPS {
            let k = wts[t];
            for (q, plane) in src.iter().enumerate() {
                let v = &plane[i0 + STEP * t..i0 + STEP * t + LANES];
                for l in 0..LANES {
                    acc[q][l] = madd::<FMA>(k, v[l], acc[q][l]);
                }
            }
        }
        let o = &mut out[i0..i0 + LANES];
        for l in 0..LANES {
            o[l] = ssim_formula(acc[0][l], acc[1][l], acc[2][l], acc[3][l], acc[4][l]);
        }
    }
    for (i, o) in out.iter_mut().enumerate().skip(full) {
        let mut acc = [0f32; 5];
        for t in 0..TAPS {
            for (q, plane) in src.iter().enumerate() {
                acc[q] = madd::<FMA>(wts[t], plane[i + STEP * t], acc[q]);
            }
        }
        *o = ssim_formula(acc[0], acc[1], acc[2], acc[3], acc[4]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::features::luma601;

    fn grey(w: u32, h: u32, f: impl Fn(u32, u32) -> u8) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| image::Rgb([f(x, y); 3]))
    }

    #[test]
    fn the_mean_does_not_depend_on_which_worker_took_which_rows() {
        // 300 rows are five chunks shared by the workers in whatever order they run.
        let a = grey(97, 300, |x, y| ((x * 7 + y * 13) % 251) as u8);
        let b = grey(97, 300, |x, y| ((x * 5 + y * 11 + 3) % 241) as u8);
        let first = ssim_images(&a, &b, Channels::LumaAndRgb, None).map(f64::to_bits);
        for _ in 0..5 {
            let again = ssim_images(&a, &b, Channels::LumaAndRgb, None).map(f64::to_bits);
            assert_eq!(again, first);
        }
    }

    #[test]
    fn two_rows_at_once_are_bit_for_bit_two_single_rows() {
        // 37 columns: four groups and a scalar tail.
        let rows: Vec<Vec<f32>> = (0..2 * SLOTS)
            .map(|r| (0..37).map(|x| ((x * 31 + r * 17) % 256) as f32).collect())
            .collect();
        let ra: [&[f32]; SLOTS] = std::array::from_fn(|t| &rows[t][..]);
        let rb: [&[f32]; SLOTS] = std::array::from_fn(|t| &rows[SLOTS + t][..]);
        let wts = weights();
        let (mut b0, mut b1) = (Rows::new(37, Pass::Luma), Rows::new(37, Pass::Luma));
        vertical2(&ra, &rb, &wts, &mut b0, &mut b1);
        for (shift, got) in [(0, &b0), (1, &b1)] {
            let ra1: [&[f32]; TAPS] = std::array::from_fn(|t| ra[t + shift]);
            let rb1: [&[f32]; TAPS] = std::array::from_fn(|t| rb[t + shift]);
            let mut want = Rows::new(37, Pass::Luma);
            vertical(&ra1, &rb1, &wts, &mut want);
            let bits = |r: &Rows| r.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(got), bits(&want), "row {shift}");
        }
    }

    #[test]
    fn luma_rows_are_bit_for_bit_the_luma_formula() {
        // Every byte value in every channel, with a row length that leaves a tail.
        let src: Vec<u8> = (0..3 * 259)
            .map(|i| ((i * 97 + i / 3) % 256) as u8)
            .collect();
        let mut dst = vec![0f32; 259];
        luma_row(&src, &mut dst);
        for (d, p) in dst.iter().zip(src.chunks_exact(3)) {
            assert_eq!(d.to_bits(), luma601(p).to_bits(), "{p:?}");
        }
    }

    #[test]
    fn weights_sum_to_one_and_are_symmetric() {
        let w = weights();
        assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        for i in 0..TAPS {
            assert_eq!(w[i], w[TAPS - 1 - i]);
        }
    }

    #[test]
    fn reflect_matches_scipy() {
        let n = 4;
        let got: Vec<usize> = (-5..9).map(|i| reflect(i, n)).collect();
        // scipy reflect for n=4: ... 3 2 1 0 | 0 1 2 3 | 3 2 1 0 ...
        assert_eq!(got, vec![3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0]);
    }

    #[test]
    fn identity_is_exactly_one() {
        let a = RgbImage::from_fn(37, 23, |x, y| {
            image::Rgb([(x * 7 + y * 13) as u8, (x * y) as u8, 200 - x as u8])
        });
        let mut map = vec![0f32; 37 * 23];
        let s = ssim_images(&a, &a, Channels::LumaAndRgb, Some(&mut map));
        assert_eq!(s, [1.0; 4]);
        assert!(map.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn symmetric_and_bounded() {
        let a = grey(40, 30, |x, y| ((x * 7 + y * 13) % 256) as u8);
        let b = grey(40, 30, |x, y| ((x * 5 + y * y) % 256) as u8);
        let ab = ssim_images(&a, &b, Channels::LumaAndRgb, None);
        let ba = ssim_images(&b, &a, Channels::LumaAndRgb, None);
        assert!((ab[0] - ba[0]).abs() < 1e-6);
        assert!((-1.0..1.0).contains(&ab[0]));
        // Grey images: every channel equals luma up to f32 rounding.
        assert!((ab[0] - ab[1]).abs() < 1e-4, "{ab:?}");
    }

    #[test]
    fn tiny_images_do_not_panic() {
        for (w, h) in [(1, 1), (3, 2), (11, 11), (2, 40), (40, 2)] {
            let a = grey(w, h, |x, y| (x * 40 + y * 3) as u8);
            let b = grey(w, h, |x, y| (x * 41 + y) as u8);
            let s = ssim_images(&a, &b, Channels::LumaAndRgb, None);
            assert!(
                s.iter().all(|v| v.is_finite() && *v <= 1.0),
                "{w}x{h}: {s:?}"
            );
        }
    }
}
