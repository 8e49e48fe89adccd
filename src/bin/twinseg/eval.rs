//! `twinseg eval DATASET_DIR [--pred-out DIR] [reasoner flags]`: the whole
//! pipeline over a ReasonSeg-format set, scored as LISA does (gIoU, cIoU,
//! "ignore" pixels excluded). Per-sample lines and the progress bar go to
//! stderr; stdout gets one line per query type, then `gIoU=… cIoU=… n=N`.

use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use twinseg::dataset::{self, Sample};
use twinseg::eval::Scores;
use twinseg::mask::Mask;
use twinseg::reason::remote::RemoteError;
use twinseg::reason::{ReasonError, Reasoner};

use crate::ask::{check_points_per_side, reason_failure, Perception};
use crate::grid_args::GridArgs;
use crate::model_args::ModelArgs;
use crate::reasoner_args::ReasonerArgs;
use crate::segment::write_mask;
use crate::twin::read_image;

/// Arguments of `twinseg eval`.
#[derive(Args, Debug)]
#[command(
    after_help = "Each sample is scored on its first query, as LISA's ReasonSeg \
evaluation does (--all-queries scores every phrasing, each counting once in n). A remote \
model's unusable answer (no JSON, unknown ids) scores that query as an empty mask and is \
reported on stderr; an unreachable or refusing endpoint stops the run with an error."
)]
pub struct EvalArgs {
    /// Directory of `NAME.jpg` + `NAME.json` ReasonSeg samples (e.g. written by `twinseg scenes`).
    dataset_dir: PathBuf,
    /// Write each predicted mask as `NAME.png` (`NAME.QUERY.png` with --all-queries) into this directory.
    #[arg(long, value_name = "DIR")]
    pred_out: Option<PathBuf>,
    /// Score every query of a sample instead of only the first.
    #[arg(long)]
    all_queries: bool,
    #[command(flatten)]
    grid: GridArgs,
    #[command(flatten)]
    reasoner: ReasonerArgs,
    #[command(flatten)]
    model: ModelArgs,
}

/// Runs the subcommand; the error is one sentence for stderr.
pub fn run(args: EvalArgs) -> Result<(), String> {
    check_points_per_side(args.grid.points_per_side)?;
    let reasoner = args.reasoner.build()?;
    let samples = dataset::load_dir(&args.dataset_dir).map_err(|e| e.to_string())?;
    if let Some(dir) = &args.pred_out {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let model = args.model.load()?;
    eprintln!(
        "evaluating {} samples with the {} reasoner",
        samples.len(),
        args.reasoner.describe()
    );
    let bar = progress_bar(samples.len())?;
    let mut scores = Scores::new();
    for sample in &samples {
        let run = SampleRun {
            sample,
            reasoner: reasoner.as_ref(),
            args: &args,
            bar: &bar,
        };
        run.score(&model, &mut scores)
            .map_err(|e| format!("sample {}: {e}", sample.name))?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!("{}", scores.report());
    Ok(())
}

fn progress_bar(len: usize) -> Result<ProgressBar, String> {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("eval [{bar:40}] {pos}/{len} samples ({elapsed}, eta {eta})")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );
    Ok(bar)
}

/// One sample's evaluation.
struct SampleRun<'a> {
    sample: &'a Sample,
    reasoner: &'a dyn Reasoner,
    args: &'a EvalArgs,
    bar: &'a ProgressBar,
}

impl SampleRun<'_> {
    fn score(&self, model: &twinseg::model::SamModel, scores: &mut Scores) -> Result<(), String> {
        let image = read_image(&self.sample.image_path)?;
        let perception = Perception::of(model, &image, self.args.grid)?;
        let truth = self.sample.ground_truth();
        let queries = self.sample.queries();
        let count = if self.args.all_queries {
            queries.len()
        } else {
            1
        };
        for (index, query) in queries.iter().take(count).enumerate() {
            let (mask, ids) = self.predict(&perception, query)?;
            let score = scores
                .add_prediction(
                    self.sample.query_type(),
                    &mask,
                    &truth.target,
                    &truth.ignore,
                )
                .map_err(|e| e.to_string())?;
            self.bar.suspend(|| {
                eprintln!(
                    "{}  {}  IoU={:.3}  ids={}  {:?}",
                    self.sample.name,
                    self.sample.query_type().unwrap_or("-"),
                    score.iou(),
                    ids,
                    query
                )
            });
            if let Some(dir) = &self.args.pred_out {
                write_mask(&mask, &self.pred_path(dir, index))?;
            }
        }
        Ok(())
    }

    /// The predicted mask and a short form of the chosen ids. A remote
    /// model's unusable answer becomes an empty mask; other failures stop.
    fn predict(&self, perception: &Perception, query: &str) -> Result<(Mask, String), String> {
        match self.reasoner.reason(&perception.twin, query) {
            Ok(answer) => {
                let ids: Vec<String> = answer.ids.iter().map(u32::to_string).collect();
                let ids = if ids.is_empty() {
                    "none".to_string()
                } else {
                    ids.join(",")
                };
                Ok((perception.compose(&answer)?, ids))
            }
            Err(error @ ReasonError::Remote(RemoteError::Answer(_))) => {
                self.bar.suspend(|| {
                    eprintln!(
                        "{}: scored as an empty mask: {}",
                        self.sample.name,
                        reason_failure(&error)
                    );
                });
                let size = &perception.twin.image;
                Ok((Mask::empty(size.width, size.height), "error".to_string()))
            }
            Err(error) => Err(reason_failure(&error)),
        }
    }

    fn pred_path(&self, dir: &Path, index: usize) -> PathBuf {
        if self.args.all_queries {
            dir.join(format!("{}.{index}.png", self.sample.name))
        } else {
            dir.join(format!("{}.png", self.sample.name))
        }
    }
}
