//! `twinseg export-sft DATASET_DIR --out FILE.jsonl`: chat-format fine-tuning
//! examples for a small language model, as the paper's Seg-DT data. Each line
//! is `{"messages": [system, user, assistant]}`: the system prompt and user
//! message exactly as the remote reasoner sends them (compact Digital Twin +
//! query), and the answer `{"steps": [...], "ids": [...]}` whose ids are the
//! twin objects that best cover the ground-truth mask.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;
use twinseg::dataset::{self, GroundTruth};
use twinseg::eval::ImageScore;
use twinseg::mask::Mask;
use twinseg::reason::remote::prompt;
use twinseg::reason::EmbeddedReasoner;
use twinseg::twin::DigitalTwin;

use crate::ask::{check_points_per_side, Perception};
use crate::grid_args::GridArgs;
use crate::model_args::ModelArgs;
use crate::twin::read_image;

/// Arguments of `twinseg export-sft`.
#[derive(Args, Debug)]
#[command(
    after_help = "The right ids are chosen greedily: the twin object that raises the \
IoU with the ground truth most is added until no object raises it further. Samples whose best \
cover stays below --min-cover-iou (perception missed the object) are skipped and counted. \
The steps are the embedded reasoner's when it reaches the same ids, otherwise one step per \
chosen object describing it."
)]
pub struct ExportSftArgs {
    /// Directory of `NAME.jpg` + `NAME.json` ReasonSeg samples.
    dataset_dir: PathBuf,
    /// Where to write the JSONL file.
    #[arg(long)]
    out: PathBuf,
    /// Skip samples whose best cover by twin objects has a lower IoU than this.
    #[arg(long, default_value_t = 0.5)]
    min_cover_iou: f64,
    /// Write one example per sample (its first query) instead of one per query.
    #[arg(long)]
    first_query: bool,
    #[command(flatten)]
    grid: GridArgs,
    #[command(flatten)]
    model: ModelArgs,
}

/// Runs the subcommand; the error is one sentence for stderr.
pub fn run(args: ExportSftArgs) -> Result<(), String> {
    check_points_per_side(args.grid.points_per_side)?;
    if !(0.0..=1.0).contains(&args.min_cover_iou) {
        return Err(format!(
            "--min-cover-iou has to be between 0 and 1, got {}",
            args.min_cover_iou
        ));
    }
    let samples = dataset::load_dir(&args.dataset_dir).map_err(|e| e.to_string())?;
    let model = args.model.load()?;
    let file = std::fs::File::create(&args.out)
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let (mut written, mut skipped, mut agreed) = (0usize, 0usize, 0usize);
    for sample in &samples {
        let image = read_image(&sample.image_path)?;
        let perception = Perception::of(&model, &image, args.grid)?;
        let (ids, cover_iou) = best_cover(&perception, &sample.ground_truth());
        if cover_iou < args.min_cover_iou {
            eprintln!(
                "{}: skipped, the twin covers the ground truth only to IoU {cover_iou:.3}",
                sample.name
            );
            skipped += 1;
            continue;
        }
        let count = if args.first_query {
            1
        } else {
            sample.queries().len()
        };
        for query in sample.queries().iter().take(count) {
            let (steps, same) = steps_for(&perception.twin, query, &ids);
            agreed += usize::from(same);
            let line = example(&perception.twin, query, &steps, &ids).to_string();
            writeln!(out, "{line}")
                .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
            written += 1;
        }
        eprintln!("{}: ids {ids:?}, cover IoU {cover_iou:.3}", sample.name);
    }
    out.flush()
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    eprintln!(
        "{written} examples from {} samples written to {} ({skipped} samples skipped; \
         {agreed} examples carry the embedded reasoner's steps)",
        samples.len() - skipped,
        args.out.display()
    );
    Ok(())
}

/// The twin objects whose union best covers the ground truth (greedy on
/// IoU, ignore pixels excluded), in id order, and that union's IoU. An empty
/// target gives no ids.
pub fn best_cover(perception: &Perception, truth: &GroundTruth) -> (Vec<u32>, f64) {
    let size = &perception.twin.image;
    let mut chosen: Vec<u32> = Vec::new();
    let mut union = Mask::empty(size.width, size.height);
    let mut best = iou(&union, truth);
    loop {
        let step = perception
            .twin
            .objects
            .iter()
            .filter(|o| !chosen.contains(&o.id))
            .filter_map(|o| {
                let mask = perception.masks.get(o.segment as usize)?;
                let mut candidate = union.clone();
                candidate.union_with(mask);
                Some((iou(&candidate, truth), o.id, candidate))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        match step {
            Some((score, id, candidate)) if score > best + 1e-9 => {
                best = score;
                chosen.push(id);
                union = candidate;
            }
            _ => break,
        }
    }
    chosen.sort_unstable();
    (chosen, best)
}

fn iou(predicted: &Mask, truth: &GroundTruth) -> f64 {
    ImageScore::new(predicted, &truth.target, &truth.ignore).map_or(0.0, |s| s.iou())
}

/// The steps of the example and whether they are the embedded reasoner's.
fn steps_for(twin: &DigitalTwin, query: &str, ids: &[u32]) -> (Vec<String>, bool) {
    let embedded = EmbeddedReasoner.answer(twin, query);
    let mut theirs = embedded.ids.clone();
    theirs.sort_unstable();
    if theirs == ids && !embedded.steps.is_empty() {
        return (embedded.steps, true);
    }
    if ids.is_empty() {
        return (vec!["No object fits the question.".to_string()], false);
    }
    let steps = ids
        .iter()
        .filter_map(|&id| twin.object(id))
        .map(|o| {
            let colour = o.colours.first().map_or("", |c| c.name.as_str());
            let shape = o.shape.word.map_or("object", |w| w.word());
            format!(
                "Object {} ({colour} {shape}, {}) fits the question.",
                o.id,
                o.position.word()
            )
            .replace("( ", "(")
        })
        .collect();
    (steps, false)
}

/// One chat-format example.
fn example(twin: &DigitalTwin, query: &str, steps: &[String], ids: &[u32]) -> serde_json::Value {
    let answer = json!({ "steps": steps, "ids": ids }).to_string();
    let messages: Vec<prompt::ChatMessage> = prompt::messages(&twin.compact(), query)
        .into_iter()
        .chain(std::iter::once(prompt::ChatMessage::new(
            "assistant",
            answer,
        )))
        .collect();
    json!({ "messages": messages })
}
