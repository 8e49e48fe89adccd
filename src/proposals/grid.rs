//! Where the prompts go: the crop boxes and the point grid inside each, as in
//! SAM's automatic mask generator.

use crate::mask::PixelBox;

/// `n × n` points at the centres of an even grid over `crop`, row by row, in
/// original pixel coordinates.
pub fn point_grid(n: u32, crop: PixelBox) -> Vec<[f32; 2]> {
    let step_x = crop.width() as f32 / n as f32;
    let step_y = crop.height() as f32 / n as f32;
    (0..n)
        .flat_map(|j| {
            (0..n).map(move |i| {
                [
                    crop.x0 as f32 + (i as f32 + 0.5) * step_x,
                    crop.y0 as f32 + (j as f32 + 0.5) * step_y,
                ]
            })
        })
        .collect()
}

/// The whole image (layer 0), then for each layer `i` in `1..=n_layers` a
/// `2^i × 2^i` grid of crops that overlap by `overlap_ratio` of the shorter
/// side scaled by `2 / 2^i`. Each box comes with its layer.
pub fn crop_boxes(
    width: u32,
    height: u32,
    n_layers: u32,
    overlap_ratio: f32,
) -> Vec<(PixelBox, u32)> {
    let mut boxes = vec![(
        PixelBox {
            x0: 0,
            y0: 0,
            x1: width,
            y1: height,
        },
        0,
    )];
    let short = width.min(height) as f32;
    for layer in 1..=n_layers.min(8) {
        let per_side = 1u32 << layer;
        let overlap = (overlap_ratio * short * 2.0 / per_side as f32) as u32;
        let crop_w = (width + overlap * (per_side - 1)).div_ceil(per_side);
        let crop_h = (height + overlap * (per_side - 1)).div_ceil(per_side);
        for j in 0..per_side {
            for i in 0..per_side {
                let x0 = crop_w.saturating_sub(overlap) * i;
                let y0 = crop_h.saturating_sub(overlap) * j;
                boxes.push((
                    PixelBox {
                        x0,
                        y0,
                        x1: (x0 + crop_w).min(width),
                        y1: (y0 + crop_h).min(height),
                    },
                    layer,
                ));
            }
        }
    }
    boxes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_points_sit_at_cell_centres_of_the_crop() {
        let crop = PixelBox {
            x0: 10,
            y0: 20,
            x1: 50,
            y1: 40,
        };
        let points = point_grid(4, crop);
        assert_eq!(points.len(), 16);
        assert_eq!(points[0], [15.0, 22.5]);
        assert_eq!(points[3], [45.0, 22.5]);
        assert_eq!(points[15], [45.0, 37.5]);
    }

    #[test]
    fn crop_layers_cover_the_image_with_overlap() {
        let boxes = crop_boxes(1500, 1000, 1, 512.0 / 1500.0);
        assert_eq!(boxes.len(), 5);
        assert_eq!(boxes[0].0.area(), 1500 * 1000);
        let layer1: Vec<PixelBox> = boxes[1..].iter().map(|b| b.0).collect();
        assert!(layer1.iter().all(|b| b.x1 <= 1500 && b.y1 <= 1000));
        assert_eq!(layer1[0].x0, 0);
        assert_eq!(layer1[3].x1, 1500);
        assert_eq!(layer1[3].y1, 1000);
        assert!(layer1[1].x0 < layer1[0].x1, "neighbouring crops overlap");
    }
}
