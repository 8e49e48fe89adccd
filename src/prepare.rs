//! RGB pixels → the SAM encoder's input tensor, and the coordinate mapping
//! between the original image and the model's 1024×1024 frame.
//!
//! SAM's preprocessing: resize so the longest side is 1024 (`ResizeLongestSide`),
//! normalise with SAM's pixel mean and standard deviation, pad with zeros at
//! the bottom and right to 1024×1024. Prompts and masks are mapped with
//! [`Frame`] so that every other stage works in original pixels.

use image::imageops::{self, FilterType};
use image::RgbImage;
use serde::{Deserialize, Serialize};

/// Side of the square model input, in pixels.
pub const SIDE: u32 = 1024;
/// Side of the decoder's low-resolution mask grid (a quarter of [`SIDE`]).
pub const LOW_RES: u32 = 256;
/// SAM's per-channel pixel mean (RGB, 0..255).
pub const PIXEL_MEAN: [f32; 3] = [123.675, 116.28, 103.53];
/// SAM's per-channel pixel standard deviation (RGB, 0..255).
pub const PIXEL_STD: [f32; 3] = [58.395, 57.12, 57.375];

/// Where an original image sits in the model's 1024×1024 frame: resized so
/// its longest side is 1024, anchored at the top-left corner.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// Original width in pixels.
    pub orig_w: u32,
    /// Original height in pixels.
    pub orig_h: u32,
    /// Resize factor of the longest side (1024 / longest original side).
    pub scale: f32,
    /// Width of the resized image inside the frame.
    pub resized_w: u32,
    /// Height of the resized image inside the frame.
    pub resized_h: u32,
}

impl Frame {
    /// The frame of an `orig_w`×`orig_h` image (SAM's `ResizeLongestSide`,
    /// rounding the short side to the nearest pixel). Zero sizes count as 1.
    pub fn new(orig_w: u32, orig_h: u32) -> Self {
        let (orig_w, orig_h) = (orig_w.max(1), orig_h.max(1));
        let scale = SIDE as f32 / orig_w.max(orig_h) as f32;
        let resized = |side: u32| ((side as f32 * scale + 0.5) as u32).clamp(1, SIDE);
        Self {
            orig_w,
            orig_h,
            scale,
            resized_w: resized(orig_w),
            resized_h: resized(orig_h),
        }
    }

    /// Horizontal factor from original to frame pixels.
    pub fn sx(&self) -> f32 {
        self.resized_w as f32 / self.orig_w as f32
    }

    /// Vertical factor from original to frame pixels.
    pub fn sy(&self) -> f32 {
        self.resized_h as f32 / self.orig_h as f32
    }

    /// Maps a point in original pixels to the 1024 frame (as SAM's `apply_coords`).
    pub fn to_model(&self, x: f32, y: f32) -> (f32, f32) {
        (x * self.sx(), y * self.sy())
    }

    /// Maps a point in the 1024 frame back to original pixels.
    pub fn to_original(&self, x: f32, y: f32) -> (f32, f32) {
        (x / self.sx(), y / self.sy())
    }

    /// The part of the 256×256 low-res grid covered by the image (the rest is padding),
    /// as a fractional (width, height) in low-res cells.
    pub fn low_res_extent(&self) -> (f32, f32) {
        let cell = (SIDE / LOW_RES) as f32;
        (self.resized_w as f32 / cell, self.resized_h as f32 / cell)
    }
}

/// The encoder input for one image: `1×3×1024×1024` f32, channel-major (CHW).
#[derive(Clone, Debug, PartialEq)]
pub struct PreparedImage {
    /// How the image maps into the tensor.
    pub frame: Frame,
    /// `3 * 1024 * 1024` values: normalised R plane, then G, then B; zero padding.
    pub data: Vec<f32>,
}

impl PreparedImage {
    /// The tensor shape, `[1, 3, 1024, 1024]`.
    pub fn shape(&self) -> [usize; 4] {
        [1, 3, SIDE as usize, SIDE as usize]
    }
}

/// Resizes, normalises and pads an image into the encoder's input tensor.
pub fn prepare(image: &RgbImage) -> PreparedImage {
    let frame = Frame::new(image.width(), image.height());
    let plane = (SIDE * SIDE) as usize;
    let mut data = vec![0.0f32; 3 * plane];
    if image.width() == 0 || image.height() == 0 {
        return PreparedImage { frame, data };
    }
    let resized = if (image.width(), image.height()) == (frame.resized_w, frame.resized_h) {
        image.clone()
    } else {
        imageops::resize(
            image,
            frame.resized_w,
            frame.resized_h,
            FilterType::Triangle,
        )
    };
    for (x, y, pixel) in resized.enumerate_pixels() {
        let at = (y * SIDE + x) as usize;
        for c in 0..3 {
            data[c * plane + at] = (f32::from(pixel[c]) - PIXEL_MEAN[c]) / PIXEL_STD[c];
        }
    }
    PreparedImage { frame, data }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn frame_follows_resize_longest_side() {
        let f = Frame::new(1500, 2250);
        assert_eq!((f.resized_w, f.resized_h), (683, 1024));
        let f = Frame::new(640, 480);
        assert_eq!((f.resized_w, f.resized_h), (1024, 768));
        assert!((f.scale - 1.6).abs() < 1e-6);
        let f = Frame::new(3, 4000);
        assert_eq!((f.resized_w, f.resized_h), (1, 1024));
    }

    #[test]
    fn coordinates_round_trip() {
        let f = Frame::new(777, 333);
        for &(x, y) in &[(0.0, 0.0), (776.5, 332.0), (100.25, 17.0)] {
            let (mx, my) = f.to_model(x, y);
            assert!(mx <= 1024.0 && my <= 1024.0);
            let (ox, oy) = f.to_original(mx, my);
            assert!((ox - x).abs() < 1e-3 && (oy - y).abs() < 1e-3);
        }
        let (ex, ey) = f.to_model(777.0, 333.0);
        assert!((ex - f.resized_w as f32).abs() < 1e-3 && (ey - f.resized_h as f32).abs() < 1e-3);
    }

    #[test]
    fn prepare_normalises_and_pads_bottom_right() {
        let img = RgbImage::from_pixel(512, 256, Rgb([200, 100, 50]));
        let p = prepare(&img);
        assert_eq!((p.frame.resized_w, p.frame.resized_h), (1024, 512));
        assert_eq!(p.data.len(), 3 * 1024 * 1024);
        let plane = 1024 * 1024;
        let expected = (100.0 - PIXEL_MEAN[1]) / PIXEL_STD[1];
        assert!((p.data[plane + 10 * 1024 + 1000] - expected).abs() < 1e-5);
        assert_eq!(
            p.data[2 * plane + 600 * 1024 + 5],
            0.0,
            "below the image is padding"
        );
        assert_ne!(
            p.data[2 * plane + 511 * 1024 + 1023],
            0.0,
            "the last image row is not padding"
        );
    }
}
