//! Decoding, encoding and size normalisation: the only part of the crate that touches
//! codecs (the report's thumbnails and the run's display copies are encoded here too).
//!
//! Everything else in `score` works on decoded 8-bit sRGB buffers. Inputs come from remote
//! model providers, so decoding is bounded twice: the header's dimensions are checked against
//! [`DecodeLimits`] before any pixel buffer is allocated, and the same limits are handed to the
//! decoder so a lying header cannot make it allocate more than `max_alloc`.

use std::io::Cursor;

use image::{DynamicImage, ImageReader, RgbImage, imageops::FilterType};

/// Why an image could not be turned into pixels.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// Shrinking a display copy failed.
    #[error("cannot shrink a display copy: {0}")]
    Resize(String),
    /// The bytes are not a PNG, JPEG or WebP file.
    #[error("unrecognised image format (expected png, jpeg or webp)")]
    UnknownFormat,
    /// The header announces more pixels than allowed.
    #[error("image is {width}x{height} pixels, above the limit of {max_width}x{max_height}")]
    TooLarge {
        /// Width from the image header.
        width: u32,
        /// Height from the image header.
        height: u32,
        /// Configured width limit.
        max_width: u32,
        /// Configured height limit.
        max_height: u32,
    },
    /// The image has no pixels.
    #[error("image is empty ({width}x{height} pixels)")]
    Empty {
        /// Width from the image header.
        width: u32,
        /// Height from the image header.
        height: u32,
    },
    /// The decoder would have needed more memory than allowed.
    #[error("decoding the image needs more than {max_alloc} bytes")]
    OverMemoryLimit {
        /// Configured allocation limit in bytes.
        max_alloc: u64,
        /// What the decoder reported.
        #[source]
        source: image::ImageError,
    },
    /// The file is corrupt, truncated or uses an unsupported feature.
    #[error("failed to decode image")]
    Decode(#[source] image::ImageError),
    /// Pixels could not be encoded as PNG or JPEG.
    #[error("failed to encode image")]
    Encode(#[source] image::ImageError),
}

/// Upper bounds applied before and during decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted width in pixels. Default: 16384.
    pub max_width: u32,
    /// Largest accepted height in pixels. Default: 16384.
    pub max_height: u32,
    /// Most bytes the decoder may allocate at once. Default: 512 MiB.
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_width: 16384,
            max_height: 16384,
            max_alloc: 512 * 1024 * 1024,
        }
    }
}

/// Decodes PNG, JPEG or WebP bytes (format guessed from the content) into 8-bit sRGB.
///
/// Alpha is flattened onto white, because that is how most image viewers and report pages
/// show a transparent generation; dropping alpha instead would expose whatever colour the
/// encoder happened to leave under transparent pixels. 16-bit images are reduced to 8 bits.
///
/// # Errors
/// When the format is not PNG, JPEG or WebP, the header claims more than `limits`
/// allow, or the data is corrupt.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage, ScoreError> {
    let reader = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| ScoreError::Decode(image::ImageError::IoError(e)))
    };
    let probe = reader()?;
    if probe.format().is_none() {
        return Err(ScoreError::UnknownFormat);
    }
    let (width, height) = probe.into_dimensions().map_err(ScoreError::Decode)?;
    if width > limits.max_width || height > limits.max_height {
        return Err(ScoreError::TooLarge {
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
        });
    }
    if width == 0 || height == 0 {
        return Err(ScoreError::Empty { width, height });
    }

    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_width);
    image_limits.max_image_height = Some(limits.max_height);
    image_limits.max_alloc = Some(limits.max_alloc);
    let mut reader = reader()?;
    reader.limits(image_limits);
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => ScoreError::OverMemoryLimit {
            max_alloc: limits.max_alloc,
            source: e,
        },
        other => ScoreError::Decode(other),
    })?;
    Ok(flatten_on_white(decoded))
}

fn flatten_on_white(img: DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.into_rgb8();
    }
    let rgba = img.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
        let alpha = u32::from(src[3]);
        for c in 0..3 {
            // Integer "over" onto 255 with rounding; exact for alpha 0 and 255.
            let v = (u32::from(src[c]) * alpha + 255 * (255 - alpha) + 127) / 255;
            dst[c] = u8::try_from(v).unwrap_or(u8::MAX);
        }
    }
    out
}

/// Filter used to bring two differently sized images to a common size.
///
/// Triangle (bilinear with a support widened by the scale factor) averages away the
/// aliasing a nearest-neighbour shrink would add, without the ringing of Lanczos, so a pure
/// resolution change scores as a mild blur rather than as structural drift.
pub const RESIZE_FILTER: FilterType = FilterType::Triangle;

/// The size both images are scored at: the smaller width and the smaller height.
pub(crate) fn common_size(a: (u32, u32), b: (u32, u32)) -> (u32, u32) {
    (a.0.min(b.0), a.1.min(b.1))
}

/// Returns `img` at `size`, borrowing it when it already has that size.
pub(crate) fn fit(img: &RgbImage, size: (u32, u32)) -> std::borrow::Cow<'_, RgbImage> {
    if img.dimensions() == size {
        std::borrow::Cow::Borrowed(img)
    } else {
        std::borrow::Cow::Owned(image::imageops::resize(img, size.0, size.1, RESIZE_FILTER))
    }
}

/// The PNG of an image: bytes that already are a PNG are kept as they are (re-encoding
/// would change their hash for nothing); anything else is encoded from its decoded pixels.
///
/// # Errors
/// When encoding fails.
pub fn to_png(bytes: &[u8], img: &RgbImage) -> Result<Vec<u8>, ScoreError> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    img.write_with_encoder(image::codecs::png::PngEncoder::new(&mut out))
        .map_err(ScoreError::Encode)?;
    Ok(out)
}

/// `img` shrunk to `w`x`h` for display with a SIMD resizer (a bilinear filter widened by
/// the scale, as [`RESIZE_FILTER`]): the report's copies are made at the cost of a copy.
/// Scoring keeps `image`'s resizer, so scores do not depend on this one.
fn shrink(img: &RgbImage, w: u32, h: u32) -> Result<RgbImage, ScoreError> {
    use fast_image_resize::{FilterType as Filter, ResizeAlg, ResizeOptions, Resizer};
    let mut out = RgbImage::new(w, h);
    Resizer::new()
        .resize(
            img,
            &mut out,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(Filter::Bilinear)),
        )
        .map_err(|e| ScoreError::Resize(e.to_string()))?;
    Ok(out)
}

/// A JPEG copy of `img` for a person to look at: at most `max_side` pixels on its long
/// side (shrunk, never enlarged), at JPEG `quality` (1-100).
///
/// # Errors
/// When encoding fails.
pub fn to_display_jpeg(img: &RgbImage, max_side: u32, quality: u8) -> Result<Vec<u8>, ScoreError> {
    let (w, h) = img.dimensions();
    let long = w.max(h);
    let small = (long > max_side).then(|| {
        let scale = f64::from(max_side) / f64::from(long);
        // At least 1 px; the casts cannot overflow as scale < 1.
        let side = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
        shrink(img, side(w), side(h))
    });
    let mut out = Vec::new();
    let small = small.transpose()?;
    small
        .as_ref()
        .unwrap_or(img)
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut out, quality,
        ))
        .map_err(ScoreError::Encode)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_png(img: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn decodes_png_roundtrip() {
        let img = RgbImage::from_fn(7, 5, |x, y| image::Rgb([x as u8 * 30, y as u8 * 40, 9]));
        let bytes = encode_png(&DynamicImage::ImageRgb8(img.clone()));
        let back = decode(&bytes, &DecodeLimits::default()).unwrap();
        assert_eq!(back, img);
    }

    #[test]
    fn flattens_alpha_on_white() {
        let img = image::RgbaImage::from_fn(2, 1, |x, _| {
            if x == 0 {
                image::Rgba([0, 0, 0, 0])
            } else {
                image::Rgba([10, 20, 30, 255])
            }
        });
        let bytes = encode_png(&DynamicImage::ImageRgba8(img));
        let back = decode(&bytes, &DecodeLimits::default()).unwrap();
        assert_eq!(back.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(back.get_pixel(1, 0).0, [10, 20, 30]);
    }

    #[test]
    fn rejects_oversized_before_decoding() {
        let img = RgbImage::new(64, 32);
        let bytes = encode_png(&DynamicImage::ImageRgb8(img));
        let limits = DecodeLimits {
            max_width: 32,
            ..DecodeLimits::default()
        };
        let err = decode(&bytes, &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "image is 64x32 pixels, above the limit of 32x16384"
        );
    }

    #[test]
    fn rejects_garbage() {
        let err = decode(b"definitely not an image", &DecodeLimits::default()).unwrap_err();
        assert!(matches!(err, ScoreError::UnknownFormat));
    }

    #[test]
    fn truncated_png_is_a_decode_error() {
        let img = RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8, y as u8, 0]));
        let bytes = encode_png(&DynamicImage::ImageRgb8(img));
        let err = decode(&bytes[..bytes.len() / 2], &DecodeLimits::default()).unwrap_err();
        assert!(matches!(err, ScoreError::Decode(_)), "{err:?}");
    }

    #[test]
    fn png_bytes_are_kept_and_others_encoded() {
        let img = RgbImage::from_fn(9, 4, |x, y| image::Rgb([x as u8 * 20, y as u8 * 50, 7]));
        let png = encode_png(&DynamicImage::ImageRgb8(img.clone()));
        assert_eq!(to_png(&png, &img).unwrap(), png);
        let jpeg = to_display_jpeg(&img, 64, 90).unwrap();
        let again = to_png(&jpeg, &img).unwrap();
        assert!(again.starts_with(b"\x89PNG"));
        assert_eq!(decode(&again, &DecodeLimits::default()).unwrap(), img);
    }

    #[test]
    fn display_copies_shrink_to_the_long_side_and_never_grow() {
        let img = RgbImage::from_fn(300, 120, |x, _| image::Rgb([x as u8, 90, 200]));
        let small = decode(
            &to_display_jpeg(&img, 100, 90).unwrap(),
            &DecodeLimits::default(),
        );
        assert_eq!(small.unwrap().dimensions(), (100, 40));
        let same = decode(
            &to_display_jpeg(&img, 512, 90).unwrap(),
            &DecodeLimits::default(),
        );
        assert_eq!(same.unwrap().dimensions(), (300, 120));
    }
}
