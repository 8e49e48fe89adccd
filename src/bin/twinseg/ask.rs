//! `twinseg ask IMAGE "QUERY" --out MASK.png [reasoner flags]`: the product
//! in one command. Proposals → hierarchy → Digital Twin → reasoner → compose
//! → PNG. The answer (steps and ids) goes to stdout, progress to stderr.

use std::path::PathBuf;

use clap::Args;
use image::RgbImage;
use twinseg::compose::compose;
use twinseg::mask::Mask;
use twinseg::model::SamModel;
use twinseg::reason::{Answer, ReasonError, Reasoner};
use twinseg::twin::{self, DigitalTwin, TwinInput};

use crate::grid_args::GridArgs;
use crate::model_args::ModelArgs;
use crate::reasoner_args::ReasonerArgs;
use crate::segment::write_mask;
use crate::twin::{read_image, segments_of};

/// Exit code of `ask` when the question was answered with "none of them".
pub const NOTHING_EXIT_CODE: u8 = 3;

/// Arguments of `twinseg ask`.
#[derive(Args, Debug)]
#[command(
    after_help = "Output: stdout holds the answer, one line per reasoning step \
('step: ...'), then 'ids: 3 5' (the chosen Digital Twin objects) or 'none: <why>'. \
Progress goes to stderr.\n\
Exit codes: 0 = objects selected and their mask written; 3 = the reasoner found no object \
that fits (an all-zero mask is still written, so scripts always get a file); 1 = error \
(one sentence on stderr, no mask written); 2 = invalid command line.\n\
The API key is read only from the environment variable named by --api-key-env; only the \
compact Digital Twin and the question are sent, never the image."
)]
pub struct AskArgs {
    /// The image to ask about.
    image: PathBuf,
    /// The question, in words (e.g. "the biggest red object").
    query: String,
    /// Where to write the answer mask PNG (8-bit grey, the image's size, 255 = selected).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    grid: GridArgs,
    #[command(flatten)]
    reasoner: ReasonerArgs,
    #[command(flatten)]
    model: ModelArgs,
}

/// How a question was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answered {
    /// At least one object was selected.
    Objects,
    /// The reasoner said "none of them".
    Nothing,
}

/// The perception of one image: its Digital Twin and the masks its objects point at.
pub struct Perception {
    /// The Digital Twin.
    pub twin: DigitalTwin,
    /// The segment masks, indexed by each twin object's `segment`.
    pub masks: Vec<Mask>,
}

impl Perception {
    /// Runs proposals, hierarchy and twin on an image.
    pub fn of(model: &SamModel, image: &RgbImage, grid: GridArgs) -> Result<Self, String> {
        check_points_per_side(grid.points_per_side)?;
        let segments = segments_of(model, image, grid)?;
        let twin = twin::build(image, &TwinInput::from_segments(&segments));
        let masks = segments.into_iter().map(|s| s.mask).collect();
        Ok(Self { twin, masks })
    }

    /// Asks `reasoner` and composes its answer into the answer mask.
    pub fn answer(&self, reasoner: &dyn Reasoner, query: &str) -> Result<(Answer, Mask), String> {
        let answer = reasoner
            .reason(&self.twin, query)
            .map_err(|e| reason_failure(&e))?;
        let mask = self.compose(&answer)?;
        Ok((answer, mask))
    }

    /// The union of the masks of the answer's objects (empty for "none of them").
    pub fn compose(&self, answer: &Answer) -> Result<Mask, String> {
        compose(&self.twin, &self.masks, &answer.ids).map_err(|e| e.to_string())
    }
}

/// The one-sentence message of a reasoner that gave no answer.
pub fn reason_failure(error: &ReasonError) -> String {
    format!("the reasoner gave no answer: {error}")
}

/// `--points-per-side` has to be positive (0 prompts find nothing).
pub fn check_points_per_side(points_per_side: u32) -> Result<(), String> {
    if points_per_side == 0 {
        Err("--points-per-side has to be at least 1, got 0".to_string())
    } else {
        Ok(())
    }
}

/// Runs the subcommand; the error is one sentence for stderr.
pub fn run(args: AskArgs) -> Result<Answered, String> {
    check_points_per_side(args.grid.points_per_side)?;
    if args.query.trim().is_empty() {
        return Err("the question is empty; ask something like \"the red circle\"".to_string());
    }
    let reasoner = args.reasoner.build()?;
    let image = read_image(&args.image)?;
    let model = args.model.load()?;
    eprintln!(
        "finding the objects of the {}x{} image ({} prompts)…",
        image.width(),
        image.height(),
        args.grid.points_per_side.pow(2)
    );
    let perception = Perception::of(&model, &image, args.grid)?;
    eprintln!(
        "{} objects in the Digital Twin; asking the {} reasoner…",
        perception.twin.objects.len(),
        args.reasoner.describe()
    );
    let (answer, mask) = perception.answer(reasoner.as_ref(), &args.query)?;
    print!("{}", answer_text(&answer));
    write_mask(&mask, &args.out)?;
    eprintln!(
        "answer mask of {} pixels written to {}",
        mask.area(),
        args.out.display()
    );
    Ok(if answer.ids.is_empty() {
        Answered::Nothing
    } else {
        Answered::Objects
    })
}

/// The stdout form of an answer: `step: …` lines, then `ids: …` or `none: …`.
pub fn answer_text(answer: &Answer) -> String {
    let mut text = String::new();
    for step in &answer.steps {
        text.push_str(&format!("step: {}\n", one_line(step)));
    }
    if answer.ids.is_empty() {
        let reason = answer
            .none_reason
            .as_deref()
            .unwrap_or("no object fits the question");
        text.push_str(&format!("none: {}\n", one_line(reason)));
    } else {
        let ids: Vec<String> = answer.ids.iter().map(u32::to_string).collect();
        text.push_str(&format!("ids: {}\n", ids.join(" ")));
    }
    text
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_text_lists_steps_then_ids() {
        let answer = Answer {
            ids: vec![3, 5],
            steps: vec!["Colour red:\n3, 5.".into()],
            none_reason: None,
        };
        assert_eq!(answer_text(&answer), "step: Colour red: 3, 5.\nids: 3 5\n");
    }

    #[test]
    fn answer_text_says_none_with_the_reason() {
        let answer = Answer {
            ids: vec![],
            steps: vec![],
            none_reason: Some("No object is green.".into()),
        };
        assert_eq!(answer_text(&answer), "none: No object is green.\n");
    }
}
