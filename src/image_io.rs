//! Image bytes → RGB pixels: the first stage of the data flow.
//!
//! Untrusted bytes (a dropped file, a download) are checked before any pixel
//! memory is allocated, so a small file that claims a huge size (a
//! decompression bomb) is refused with a message that names the size.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

/// Longest image side accepted, in pixels.
pub const MAX_SIDE: u32 = 20_000;
/// Largest pixel count accepted (100 megapixels).
pub const MAX_PIXELS: u64 = 100_000_000;
/// Memory the decoder may allocate: the largest accepted image at 16 bits per
/// channel with alpha, plus room for the decoder's own buffers.
const MAX_ALLOC: u64 = MAX_PIXELS * 8 + 64 * 1024 * 1024;

/// Why image bytes could not be turned into pixels.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The bytes are not in a format this build reads.
    #[error("the file is not an image in a supported format (PNG, JPEG, GIF, BMP, WebP or TIFF)")]
    UnknownFormat,
    /// The image declares more pixels than the limits allow.
    #[error(
        "the image is {width}x{height} pixels, more than the limit of {MAX_SIDE} pixels a side \
         and {MAX_PIXELS} pixels in total"
    )]
    TooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// The image declares zero width or height.
    #[error("the image is empty ({width}x{height} pixels)")]
    Empty {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// A JPEG far too small for the size it declares: every 8x8 block of a
    /// complete JPEG costs at least a bit, so such a file is cut short or
    /// crafted, and decoding it would spend seconds inventing pixels.
    #[error(
        "the JPEG file is {bytes} bytes but declares {width}x{height} pixels; it is truncated or damaged"
    )]
    Truncated {
        /// File size.
        bytes: usize,
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// The bytes are damaged or use an unsupported variant of the format.
    #[error("the image could not be decoded: {0}")]
    Decode(String),
}

/// Decodes image bytes into 8-bit RGB, upright as the camera meant it.
///
/// Grey, alpha and 16-bit images are converted to RGB8 (alpha is dropped);
/// the EXIF orientation of JPEG/TIFF/WebP files is applied. Images larger
/// than [`MAX_SIDE`] a side or [`MAX_PIXELS`] in total are refused before
/// decoding.
pub fn decode(bytes: &[u8]) -> Result<RgbImage, ImageError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::Decode(e.to_string()))?;
    let Some(format) = reader.format() else {
        return Err(ImageError::UnknownFormat);
    };
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    check_size(width, height)?;
    if format == ImageFormat::Jpeg {
        check_jpeg_length(bytes.len(), width, height)?;
    }
    decoder.set_limits(limits()).map_err(decode_error)?;
    let orientation = decoder.orientation().map_err(decode_error)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}

/// Checks declared dimensions against the limits.
pub fn check_size(width: u32, height: u32) -> Result<(), ImageError> {
    if width == 0 || height == 0 {
        return Err(ImageError::Empty { width, height });
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooLarge { width, height });
    }
    Ok(())
}

/// Pixels per byte no complete JPEG reaches: even with one-bit Huffman
/// codes each 64-pixel block of one component costs a bit, 512 pixels a
/// byte; eight times that leaves room for headers and odd encoders.
const MAX_JPEG_PIXELS_PER_BYTE: u64 = 4096;

/// Refuses a JPEG whose length cannot hold the pixels it declares.
fn check_jpeg_length(bytes: usize, width: u32, height: u32) -> Result<(), ImageError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > (bytes as u64).saturating_mul(MAX_JPEG_PIXELS_PER_BYTE) {
        return Err(ImageError::Truncated {
            bytes,
            width,
            height,
        });
    }
    Ok(())
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

fn decode_error(error: image::ImageError) -> ImageError {
    match error {
        image::ImageError::Unsupported(_) => ImageError::UnknownFormat,
        other => ImageError::Decode(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, LumaA, Rgb, Rgba};

    fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        image
            .write_to(&mut bytes, format)
            .expect("encoding a small test image");
        bytes.into_inner()
    }

    #[test]
    fn the_most_compressible_complete_jpeg_is_not_taken_for_a_truncated_one() {
        let flat = RgbImage::from_pixel(2048, 2048, Rgb([250, 250, 250]));
        let bytes = encode(DynamicImage::ImageRgb8(flat), ImageFormat::Jpeg);
        let pixels_per_byte = 2048 * 2048 / bytes.len() as u64;
        assert!(
            pixels_per_byte < MAX_JPEG_PIXELS_PER_BYTE / 4,
            "{pixels_per_byte}"
        );
        assert_eq!(decode(&bytes).expect("decodes").dimensions(), (2048, 2048));
    }

    #[test]
    fn decodes_rgb_png_exactly() {
        let img = RgbImage::from_fn(5, 3, |x, y| Rgb([x as u8 * 40, y as u8 * 80, 7]));
        let out = decode(&encode(
            DynamicImage::ImageRgb8(img.clone()),
            ImageFormat::Png,
        ))
        .unwrap();
        assert_eq!(out, img);
    }

    #[test]
    fn converts_grey_alpha_and_16_bit_to_rgb8() {
        let grey = image::GrayImage::from_pixel(4, 4, Luma([200]));
        let out = decode(&encode(DynamicImage::ImageLuma8(grey), ImageFormat::Png)).unwrap();
        assert_eq!(out.get_pixel(1, 1), &Rgb([200, 200, 200]));

        let grey_alpha = image::GrayAlphaImage::from_pixel(4, 4, LumaA([90, 10]));
        let out = decode(&encode(
            DynamicImage::ImageLumaA8(grey_alpha),
            ImageFormat::Png,
        ))
        .unwrap();
        assert_eq!(out.get_pixel(0, 0), &Rgb([90, 90, 90]));

        let rgba16 =
            image::ImageBuffer::<Rgba<u16>, _>::from_pixel(3, 2, Rgba([65535, 0, 32896, 1000]));
        let out = decode(&encode(DynamicImage::ImageRgba16(rgba16), ImageFormat::Png)).unwrap();
        assert_eq!(out.dimensions(), (3, 2));
        assert_eq!(out.get_pixel(2, 1), &Rgb([255, 0, 128]));
    }

    #[test]
    fn refuses_a_decompression_bomb_before_decoding() {
        // A valid PNG header claiming 50000x50000 pixels, and nothing else.
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&50_000u32.to_be_bytes());
        png.extend_from_slice(&50_000u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&crc32(&png[12..]).to_be_bytes());
        png.extend_from_slice(&[0, 0, 0, 0]);
        png.extend_from_slice(b"IDAT");
        png.extend_from_slice(&crc32(b"IDAT").to_be_bytes());
        match decode(&png) {
            Err(ImageError::TooLarge {
                width: 50_000,
                height: 50_000,
            }) => {}
            other => panic!("expected TooLarge, got {other:?}"),
        }
        let message = decode(&png).unwrap_err().to_string();
        assert!(message.contains("50000x50000"), "{message}");
    }

    #[test]
    fn names_unknown_and_damaged_files() {
        assert!(matches!(
            decode(b"hello, not an image"),
            Err(ImageError::UnknownFormat)
        ));
        let img = RgbImage::from_pixel(64, 64, Rgb([1, 2, 3]));
        let png = encode(DynamicImage::ImageRgb8(img), ImageFormat::Png);
        assert!(matches!(
            decode(&png[..png.len() / 2]),
            Err(ImageError::Decode(_))
        ));
    }

    #[test]
    fn applies_exif_orientation() {
        let img = RgbImage::from_fn(4, 2, |x, _| {
            if x == 0 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        let jpeg = encode(DynamicImage::ImageRgb8(img), ImageFormat::Jpeg);
        let rotated = with_exif_orientation(&jpeg, 6);
        let out = decode(&rotated).unwrap();
        assert_eq!(
            out.dimensions(),
            (2, 4),
            "orientation 6 turns the image 90° clockwise"
        );
        let top = out.get_pixel(1, 0);
        assert!(
            top[0] > 150 && top[2] < 100,
            "the red left column becomes the top row: {top:?}"
        );
    }

    /// Inserts an APP1 Exif segment with one Orientation tag after the JPEG SOI marker.
    fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
        tiff.extend_from_slice(&1u16.to_be_bytes());
        tiff.extend_from_slice(&0x0112u16.to_be_bytes());
        tiff.extend_from_slice(&3u16.to_be_bytes());
        tiff.extend_from_slice(&1u32.to_be_bytes());
        tiff.extend_from_slice(&orientation.to_be_bytes());
        tiff.extend_from_slice(&[0, 0]);
        tiff.extend_from_slice(&0u32.to_be_bytes());
        let mut payload = b"Exif\x00\x00".to_vec();
        payload.extend_from_slice(&tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
