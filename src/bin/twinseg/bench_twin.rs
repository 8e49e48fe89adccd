//! `twinseg bench-twin`: what a Digital Twin costs to build and to send.
//!
//! For generated scenes (twins built from their ground-truth masks) and for
//! any `--image` given (twins built through the model with the whole
//! perception pipeline), prints bytes and estimated tokens per object of
//! every rendering, relation counts and build times.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use twinseg::scenes;
use twinseg::twin::render::compact_with;
use twinseg::twin::{self, DigitalTwin, RelationKind, TwinInput};

use crate::grid_args::GridArgs;
use crate::model_args::ModelArgs;

/// Arguments of `twinseg bench-twin`.
#[derive(Args, Debug)]
pub struct BenchTwinArgs {
    /// Generated scenes to measure (0: none).
    #[arg(long, default_value_t = 30)]
    scenes: u64,
    /// Seed of the generated scenes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Images to run through the model and measure too (repeatable).
    #[arg(long)]
    image: Vec<PathBuf>,
    #[command(flatten)]
    grid: GridArgs,
    #[command(flatten)]
    model: ModelArgs,
}

/// One way of writing a twin down.
struct Rendering {
    name: &'static str,
    render: fn(&DigitalTwin) -> String,
}

const RENDERINGS: &[Rendering] = &[
    Rendering {
        name: "full JSON (pretty)",
        render: |t| t.to_json(),
    },
    Rendering {
        name: "full JSON (minified)",
        render: |t| serde_json::to_string(t).unwrap_or_default(),
    },
    Rendering {
        name: "JSON, no relations",
        render: |t| {
            let mut bare = t.clone();
            bare.relations.clear();
            serde_json::to_string(&bare).unwrap_or_default()
        },
    },
    Rendering {
        name: "compact, no relations",
        render: |t| compact_with(t, &[]),
    },
    Rendering {
        name: "compact (sent: +touching)",
        render: |t| t.compact(),
    },
    Rendering {
        name: "compact, all relations",
        render: |t| {
            compact_with(
                t,
                &[
                    RelationKind::Touching,
                    RelationKind::LeftOf,
                    RelationKind::Above,
                ],
            )
        },
    },
];

/// Twins of one source and how long they took.
struct Sample {
    source: String,
    twins: Vec<DigitalTwin>,
    build: Duration,
    perception: Duration,
}

/// Runs the benchmark and prints one table per source.
pub fn run(args: BenchTwinArgs) -> Result<(), String> {
    let mut samples = Vec::new();
    if args.scenes > 0 {
        samples.push(scene_sample(args.seed, args.scenes));
    }
    if !args.image.is_empty() {
        let model = args.model.load()?;
        for path in &args.image {
            samples.push(image_sample(&model, path, args.grid)?);
        }
    }
    if samples.is_empty() {
        return Err("nothing to measure: give --scenes N (N > 0) or --image PATH".to_string());
    }
    for sample in &samples {
        print_sample(sample);
    }
    Ok(())
}

fn scene_sample(seed: u64, count: u64) -> Sample {
    let mut twins = Vec::new();
    let mut build = Duration::ZERO;
    for index in 0..count {
        let scene = scenes::generate(scenes::scene_seed(seed, index));
        let inputs: Vec<TwinInput> = scene
            .objects
            .iter()
            .map(|o| TwinInput {
                mask: o.mask.clone(),
                parent: o.parent,
                predicted_iou: 1.0,
                stability_score: 1.0,
                label: None,
            })
            .collect();
        let start = Instant::now();
        twins.push(twin::build(&scene.image, &inputs));
        build += start.elapsed();
    }
    Sample {
        source: format!("{count} generated scenes (seed {seed}), ground-truth masks"),
        twins,
        build,
        perception: Duration::ZERO,
    }
}

fn image_sample(
    model: &twinseg::model::SamModel,
    path: &std::path::Path,
    grid: GridArgs,
) -> Result<Sample, String> {
    let image = crate::twin::read_image(path)?;
    let start = Instant::now();
    let segments = crate::twin::segments_of(model, &image, grid)?;
    let perception = start.elapsed();
    let start = Instant::now();
    let twin = twin::build(&image, &TwinInput::from_segments(&segments));
    Ok(Sample {
        source: format!(
            "{} ({}x{}), model proposals",
            path.display(),
            image.width(),
            image.height()
        ),
        twins: vec![twin],
        build: start.elapsed(),
        perception,
    })
}

fn print_sample(sample: &Sample) {
    let n_twins = sample.twins.len().max(1);
    let objects: usize = sample.twins.iter().map(|t| t.objects.len()).sum();
    let count = |kind| {
        sample
            .twins
            .iter()
            .flat_map(|t| &t.relations)
            .filter(|r| r.kind == kind)
            .count()
    };
    println!("== {}", sample.source);
    println!(
        "twins {} | objects {objects} ({:.1}/twin) | relations per twin: touching {:.1}, left-of {:.1}, above {:.1}",
        sample.twins.len(),
        objects as f64 / n_twins as f64,
        count(RelationKind::Touching) as f64 / n_twins as f64,
        count(RelationKind::LeftOf) as f64 / n_twins as f64,
        count(RelationKind::Above) as f64 / n_twins as f64,
    );
    if !sample.perception.is_zero() {
        println!(
            "perception (embed + proposals + hierarchy) {:.0} ms",
            ms(sample.perception)
        );
    }
    println!(
        "twin build {:.1} ms/twin",
        ms(sample.build) / n_twins as f64
    );
    println!(
        "{:<26} {:>10} {:>10} {:>11} {:>11}",
        "rendering", "bytes/obj", "tokens/obj", "tokens/twin", "chars/4/obj"
    );
    for r in RENDERINGS {
        let texts: Vec<String> = sample.twins.iter().map(|t| (r.render)(t)).collect();
        let bytes: usize = texts.iter().map(String::len).sum();
        let tokens: usize = texts.iter().map(|t| twin::estimate_tokens(t)).sum();
        println!(
            "{:<26} {:>10} {:>10} {:>11.1} {:>11}",
            r.name,
            per_object(bytes as f64, objects),
            per_object(tokens as f64, objects),
            tokens as f64 / n_twins as f64,
            per_object(bytes as f64 / 4.0, objects),
        );
    }
    println!();
}

/// `total` per object to one decimal, or "-" when there are none (a twin's
/// header alone is not a cost per object).
fn per_object(total: f64, objects: usize) -> String {
    if objects == 0 {
        "-".to_string()
    } else {
        format!("{:.1}", total / objects as f64)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
