//! `twinseg segment IMAGE --point X,Y[,1|0]... [--box X0,Y0,X1,Y1] --out
//! MASK.png`: one prompt, one mask. Embeds the image once, answers the prompt
//! and writes the decoder's best mask as an 8-bit grey PNG of the image's size.

use std::path::{Path, PathBuf};

use clap::Args;
use twinseg::decoder::{PointPrompt, Prompt};
use twinseg::mask::Mask;

use crate::model_args::ModelArgs;
use crate::twin::read_image;

/// Arguments of `twinseg segment`.
#[derive(Args, Debug)]
#[command(
    after_help = "Coordinates are pixels of the original image (x to the right, y down). \
A point is positive (the object is here) unless it ends in ',0'. At least one --point or a --box \
is needed. The mask PNG is 8-bit grey, the image's size, 255 = selected, 0 = not."
)]
pub struct SegmentArgs {
    /// The image to segment.
    image: PathBuf,
    /// A prompt point `X,Y` (positive) or `X,Y,1` / `X,Y,0` (positive / negative); repeatable.
    #[arg(long = "point", value_name = "X,Y[,1|0]", value_parser = parse_point)]
    points: Vec<PointPrompt>,
    /// A box around the object, `X0,Y0,X1,Y1` with X0 < X1 and Y0 < Y1.
    #[arg(long = "box", value_name = "X0,Y0,X1,Y1", value_parser = parse_box)]
    bbox: Option<[f32; 4]>,
    /// Where to write the mask PNG.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
}

/// Runs the subcommand; the error is one sentence for stderr.
pub fn run(args: SegmentArgs) -> Result<(), String> {
    if args.points.is_empty() && args.bbox.is_none() {
        return Err("give at least one --point X,Y or a --box X0,Y0,X1,Y1".to_string());
    }
    let image = read_image(&args.image)?;
    let (width, height) = image.dimensions();
    for point in &args.points {
        check_inside("--point", point.x, point.y, width, height)?;
    }
    if let Some([x0, y0, x1, y1]) = args.bbox {
        check_inside("--box corner", x0, y0, width, height)?;
        check_inside("--box corner", x1, y1, width, height)?;
    }
    let model = args.model.load()?;
    eprintln!("encoding the {width}x{height} image…");
    let embedding = model.embed(&image).map_err(|e| e.to_string())?;
    let prompt = Prompt {
        points: args.points,
        bbox: args.bbox,
        mask_input: None,
    };
    let prediction = model
        .predict(&embedding, &prompt)
        .map_err(|e| e.to_string())?;
    let best = prediction
        .best_index()
        .ok_or("the decoder returned no mask for the prompt")?;
    let mask = prediction.masks[best].to_mask(embedding.frame(), 0.0);
    write_mask(&mask, &args.out)?;
    eprintln!(
        "mask of {} pixels (predicted IoU {:.2}) written to {}",
        mask.area(),
        prediction.iou.get(best).copied().unwrap_or(0.0),
        args.out.display()
    );
    Ok(())
}

/// Writes a mask as an 8-bit grey PNG (255 selected, 0 not), whatever the file's extension.
pub fn write_mask(mask: &Mask, path: &Path) -> Result<(), String> {
    mask.to_gray_image()
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| format!("cannot write the mask {}: {e}", path.display()))
}

fn check_inside(what: &str, x: f32, y: f32, width: u32, height: u32) -> Result<(), String> {
    if (0.0..=width as f32).contains(&x) && (0.0..=height as f32).contains(&y) {
        Ok(())
    } else {
        Err(format!(
            "{what} {x},{y} lies outside the {width}x{height} image (x has to be 0..={width}, y 0..={height})"
        ))
    }
}

/// Reads `count` comma-separated finite numbers.
fn numbers(text: &str, count: usize, form: &str) -> Result<Vec<f32>, String> {
    let values: Vec<f32> = text
        .split(',')
        .map(|part| part.trim().parse::<f32>().ok().filter(|v| v.is_finite()))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("expected {form} with numbers, got {text:?}"))?;
    if values.len() == count {
        Ok(values)
    } else {
        Err(format!(
            "expected {form} ({count} numbers), got {} in {text:?}",
            values.len()
        ))
    }
}

/// Parses `X,Y`, `X,Y,1` (positive) or `X,Y,0` (negative).
fn parse_point(text: &str) -> Result<PointPrompt, String> {
    let parts = text.split(',').count();
    let form = "X,Y or X,Y,1 or X,Y,0";
    let values = numbers(text, if parts == 3 { 3 } else { 2 }, form)?;
    let positive = match values.get(2) {
        None => true,
        Some(1.0) => true,
        Some(0.0) => false,
        Some(label) => {
            return Err(format!(
                "the point label has to be 1 (positive) or 0 (negative), got {label}"
            ))
        }
    };
    Ok(PointPrompt {
        x: values[0],
        y: values[1],
        positive,
    })
}

/// Parses `X0,Y0,X1,Y1` with the first corner above and left of the second.
fn parse_box(text: &str) -> Result<[f32; 4], String> {
    let v = numbers(text, 4, "X0,Y0,X1,Y1")?;
    if v[0] < v[2] && v[1] < v[3] {
        Ok([v[0], v[1], v[2], v[3]])
    } else {
        Err(format!(
            "the box {text:?} needs X0 < X1 and Y0 < Y1 (top-left corner first)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_take_an_optional_label() {
        let p = parse_point("10,20.5").expect("valid");
        assert_eq!((p.x, p.y, p.positive), (10.0, 20.5, true));
        assert!(!parse_point("1,2,0").expect("valid").positive);
        assert!(parse_point("1,2,1").expect("valid").positive);
    }

    #[test]
    fn malformed_points_say_what_was_expected() {
        assert!(parse_point("1,2,5")
            .unwrap_err()
            .contains("1 (positive) or 0"));
        assert!(parse_point("1").unwrap_err().contains("X,Y"));
        assert!(parse_point("a,b").unwrap_err().contains("X,Y"));
        assert!(parse_point("1,2,3,4").unwrap_err().contains("X,Y"));
        assert!(parse_point("nan,2").is_err());
    }

    #[test]
    fn boxes_need_four_ordered_numbers() {
        assert_eq!(parse_box("1,2,3,4"), Ok([1.0, 2.0, 3.0, 4.0]));
        assert!(parse_box("3,2,1,4").unwrap_err().contains("X0 < X1"));
        assert!(parse_box("1,2,3").unwrap_err().contains("4 numbers"));
    }

    #[test]
    fn points_outside_the_image_are_refused() {
        assert!(check_inside("--point", 10.0, 10.0, 20, 20).is_ok());
        let err = check_inside("--point", 25.0, 10.0, 20, 20).unwrap_err();
        assert!(err.contains("outside the 20x20 image"));
        assert!(check_inside("--point", 5.0, -1.0, 20, 20).is_err());
    }
}
