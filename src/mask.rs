//! Binary masks in the original image frame, the unit every stage after the
//! decoder works with.

use serde::{Deserialize, Serialize};

/// A binary mask, row-major, one byte per pixel (0 or 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mask {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

/// An axis-aligned pixel box, `x0,y0` inclusive and `x1,y1` exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelBox {
    /// Left edge (inclusive).
    pub x0: u32,
    /// Top edge (inclusive).
    pub y0: u32,
    /// Right edge (exclusive).
    pub x1: u32,
    /// Bottom edge (exclusive).
    pub y1: u32,
}

impl PixelBox {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.x1 - self.x0
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.y1 - self.y0
    }

    /// Pixel count of the box.
    pub fn area(&self) -> u64 {
        u64::from(self.width()) * u64::from(self.height())
    }
}

impl Mask {
    /// An empty (all zero) mask.
    pub fn empty(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            data: vec![0; width as usize * height as usize],
        }
    }

    /// A mask whose pixel `(x, y)` is set where `f(x, y)` is true.
    pub fn from_fn(width: u32, height: u32, mut f: impl FnMut(u32, u32) -> bool) -> Self {
        let mut data = Vec::with_capacity(width as usize * height as usize);
        for y in 0..height {
            for x in 0..width {
                data.push(u8::from(f(x, y)));
            }
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// Wraps row-major 0/1 bytes; `None` when the length does not match the size.
    pub fn from_bits(width: u32, height: u32, bits: Vec<u8>) -> Option<Self> {
        (bits.len() == width as usize * height as usize).then(|| Self {
            width,
            height,
            data: bits.into_iter().map(|b| u8::from(b != 0)).collect(),
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Row-major 0/1 bytes.
    pub fn bits(&self) -> &[u8] {
        &self.data
    }

    /// Whether pixel `(x, y)` is set; pixels outside the mask are not.
    pub fn get(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height && self.data[self.index(x, y)] != 0
    }

    /// Sets or clears pixel `(x, y)`; pixels outside the mask are ignored.
    pub fn set(&mut self, x: u32, y: u32, on: bool) {
        if x < self.width && y < self.height {
            let i = self.index(x, y);
            self.data[i] = u8::from(on);
        }
    }

    fn index(&self, x: u32, y: u32) -> usize {
        y as usize * self.width as usize + x as usize
    }

    /// Number of set pixels.
    pub fn area(&self) -> u64 {
        self.data.iter().map(|&b| u64::from(b)).sum()
    }

    /// Whether no pixel is set.
    pub fn is_empty(&self) -> bool {
        self.data.iter().all(|&b| b == 0)
    }

    /// The tight box around the set pixels, `None` for an empty mask.
    pub fn bbox(&self) -> Option<PixelBox> {
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for y in 0..self.height {
            let row = &self.data[self.index(0, y)..][..self.width as usize];
            if let (Some(first), Some(last)) = (
                row.iter().position(|&b| b != 0),
                row.iter().rposition(|&b| b != 0),
            ) {
                x0 = x0.min(first as u32);
                x1 = x1.max(last as u32 + 1);
                y0 = y0.min(y);
                y1 = y + 1;
            }
        }
        (x0 != u32::MAX).then_some(PixelBox { x0, y0, x1, y1 })
    }

    /// Pixels set in both masks. Masks of different sizes share no pixels.
    pub fn intersection_area(&self, other: &Mask) -> u64 {
        if !self.same_size(other) {
            return 0;
        }
        self.data
            .iter()
            .zip(&other.data)
            .map(|(&a, &b)| u64::from(a & b))
            .sum()
    }

    /// Pixels set in either mask.
    pub fn union_area(&self, other: &Mask) -> u64 {
        if !self.same_size(other) {
            return self.area() + other.area();
        }
        self.data
            .iter()
            .zip(&other.data)
            .map(|(&a, &b)| u64::from(a | b))
            .sum()
    }

    /// Intersection over union; two empty masks count as a perfect match (1.0).
    pub fn iou(&self, other: &Mask) -> f64 {
        let union = self.union_area(other);
        if union == 0 {
            1.0
        } else {
            self.intersection_area(other) as f64 / union as f64
        }
    }

    /// Whether both masks cover the same pixel grid.
    pub fn same_size(&self, other: &Mask) -> bool {
        self.width == other.width && self.height == other.height
    }

    /// Sets every pixel set in `other` (same size required; otherwise unchanged).
    pub fn union_with(&mut self, other: &Mask) {
        if self.same_size(other) {
            for (a, &b) in self.data.iter_mut().zip(&other.data) {
                *a |= b;
            }
        }
    }

    /// Clears every pixel set in `other` (same size required; otherwise unchanged).
    pub fn subtract(&mut self, other: &Mask) {
        if self.same_size(other) {
            for (a, &b) in self.data.iter_mut().zip(&other.data) {
                *a &= !b & 1;
            }
        }
    }

    /// The mask as an 8-bit grey image: 255 selected, 0 not.
    pub fn to_gray_image(&self) -> image::GrayImage {
        image::GrayImage::from_fn(self.width, self.height, |x, y| {
            image::Luma([if self.get(x, y) { 255 } else { 0 }])
        })
    }

    /// Reads an 8-bit grey mask image: any non-zero pixel is selected.
    pub fn from_gray_image(img: &image::GrayImage) -> Self {
        Self::from_fn(img.width(), img.height(), |x, y| {
            img.get_pixel(x, y).0[0] > 127
        })
    }
}

/// Which neighbours join two set pixels into one region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Connectivity {
    /// Left, right, up and down.
    Four,
    /// The four sides and the four diagonals.
    Eight,
}

/// The connected regions of a mask: a label per pixel and each region's size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Components {
    /// Row-major label per pixel: 0 for unset pixels, `1..=count` for regions.
    pub labels: Vec<u32>,
    /// Pixel count of region `label`, at index `label - 1`.
    pub areas: Vec<u64>,
}

impl Components {
    /// Number of regions.
    pub fn count(&self) -> usize {
        self.areas.len()
    }
}

impl Mask {
    /// The mask with every pixel flipped.
    pub fn inverted(&self) -> Mask {
        Mask {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|&b| b ^ 1).collect(),
        }
    }

    /// Labels the connected regions of set pixels, in scan order of their first pixel.
    pub fn components(&self, connectivity: Connectivity) -> Components {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut labels = vec![0u32; w * h];
        let mut areas = Vec::new();
        let mut stack = Vec::new();
        for start in 0..w * h {
            if self.data[start] == 0 || labels[start] != 0 {
                continue;
            }
            let label = areas.len() as u32 + 1;
            let mut area = 0u64;
            labels[start] = label;
            stack.push(start);
            while let Some(i) = stack.pop() {
                area += 1;
                let (x, y) = ((i % w) as i64, (i / w) as i64);
                for (dx, dy) in neighbour_offsets(connectivity) {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                        continue;
                    }
                    let j = ny as usize * w + nx as usize;
                    if self.data[j] != 0 && labels[j] == 0 {
                        labels[j] = label;
                        stack.push(j);
                    }
                }
            }
            areas.push(area);
        }
        Components { labels, areas }
    }
}

fn neighbour_offsets(connectivity: Connectivity) -> &'static [(i64, i64)] {
    const FOUR: [(i64, i64); 4] = [(1, 0), (-1, 0), (0, 1), (0, -1)];
    const EIGHT: [(i64, i64); 8] = [
        (1, 0),
        (-1, 0),
        (0, 1),
        (0, -1),
        (1, 1),
        (1, -1),
        (-1, 1),
        (-1, -1),
    ];
    match connectivity {
        Connectivity::Four => &FOUR,
        Connectivity::Eight => &EIGHT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(size: u32, x0: u32, y0: u32, side: u32) -> Mask {
        Mask::from_fn(size, size, |x, y| {
            (x0..x0 + side).contains(&x) && (y0..y0 + side).contains(&y)
        })
    }

    #[test]
    fn bbox_is_tight_and_exclusive_at_the_far_edge() {
        let m = square(20, 3, 5, 4);
        assert_eq!(
            m.bbox(),
            Some(PixelBox {
                x0: 3,
                y0: 5,
                x1: 7,
                y1: 9
            })
        );
        assert_eq!(m.area(), 16);
        assert_eq!(Mask::empty(4, 4).bbox(), None);
    }

    #[test]
    fn iou_of_half_overlapping_squares() {
        let a = square(20, 0, 0, 4);
        let b = square(20, 2, 0, 4);
        assert_eq!(a.intersection_area(&b), 8);
        assert_eq!(a.union_area(&b), 24);
        assert!((a.iou(&b) - 8.0 / 24.0).abs() < 1e-12);
        assert_eq!(Mask::empty(3, 3).iou(&Mask::empty(3, 3)), 1.0);
    }

    #[test]
    fn union_and_subtract_change_only_the_other_masks_pixels() {
        let mut a = square(10, 0, 0, 2);
        a.union_with(&square(10, 5, 5, 2));
        assert_eq!(a.area(), 8);
        a.subtract(&square(10, 0, 0, 1));
        assert_eq!(a.area(), 7);
        assert!(!a.get(0, 0) && a.get(1, 1));
    }

    #[test]
    fn grey_png_round_trip_keeps_pixels() {
        let m = square(9, 2, 3, 3);
        assert_eq!(Mask::from_gray_image(&m.to_gray_image()), m);
    }

    #[test]
    fn diagonal_pixels_join_only_with_eight_connectivity() {
        let m = Mask::from_fn(4, 4, |x, y| x == y || (x == 3 && y == 0));
        let four = m.components(Connectivity::Four);
        assert_eq!(four.count(), 5);
        let eight = m.components(Connectivity::Eight);
        assert_eq!(eight.areas, vec![4, 1]);
        assert_eq!(eight.labels[0], eight.labels[5]);
        assert_ne!(eight.labels[0], eight.labels[3]);
        assert_eq!(m.inverted().area(), 16 - 5);
    }
}
