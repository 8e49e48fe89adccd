//! `twinseg bench`: what each stage costs on one image, as median and spread
//! over several runs, with the process's peak memory; and, given a Python
//! with onnxruntime (`scripts/bench.sh` makes one), the same encoder and
//! decoder on the same inputs in onnxruntime, as tract ÷ onnxruntime ratios.
//!
//! Figures only, never assertions; not part of the test suite. Build with
//! `--release` (the dev profile leaves twinseg itself unoptimised).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Args;
use image::RgbImage;
use twinseg::decoder::Prompt;
use twinseg::hierarchy::{self, HierarchySettings};
use twinseg::model::{use_threads, SamModel};
use twinseg::prepare::{prepare, Frame};
use twinseg::proposals::{self, Control, ProposalSet, ProposalSettings};
use twinseg::reason::{EmbeddedReasoner, Reasoner};
use twinseg::scenes;
use twinseg::twin::{self, TwinInput};

use crate::model_args::ModelArgs;

/// Arguments of `twinseg bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The image (default: generated scene 0).
    #[arg(long)]
    image: Option<PathBuf>,
    /// The question for the reasoning and whole-ask steps.
    #[arg(long, default_value = "the largest object")]
    query: String,
    /// Timed runs of each cheap step (after one warm-up).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Timed runs of the everything-mode and whole-ask steps.
    #[arg(long, default_value_t = 1)]
    everything_runs: usize,
    /// Prompt points along each side of the everything-mode grid.
    #[arg(long, default_value_t = 32)]
    points_per_side: u32,
    /// Prompts in the batch step.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// A Python with onnxruntime for the reference (see scripts/bench.sh).
    #[arg(long)]
    python: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

/// Durations of repeated runs of one step.
struct Timing {
    runs: Vec<Duration>,
}

impl Timing {
    fn median_ms(&self) -> f64 {
        median(self.runs.iter().map(|d| d.as_secs_f64() * 1000.0).collect())
    }

    fn spread_ms(&self) -> (f64, f64) {
        let ms = self.runs.iter().map(|d| d.as_secs_f64() * 1000.0);
        let min = ms.clone().fold(f64::INFINITY, f64::min);
        (min, ms.fold(0.0, f64::max))
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// Runs `step` once untimed, then `runs` times timed; returns the timing and the last result.
fn measure<T>(
    runs: usize,
    mut step: impl FnMut() -> Result<T, String>,
) -> Result<(Timing, T), String> {
    let mut last = step()?;
    let mut durations = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        last = step()?;
        durations.push(start.elapsed());
    }
    Ok((Timing { runs: durations }, last))
}

fn print_row(step: &str, timing: &Timing, note: &str) {
    let (min, max) = timing.spread_ms();
    println!(
        "{step:<34} {:>10.1} {:>10.1} {:>10.1} {:>5}  {note}",
        timing.median_ms(),
        min,
        max,
        timing.runs.len()
    );
}

/// Runs the benchmark and prints the table.
pub fn run(args: BenchArgs) -> Result<(), String> {
    let image = match &args.image {
        Some(path) => crate::twin::read_image(path)?,
        None => scenes::generate(0).image,
    };
    let load_start = Instant::now();
    let model = args.model.load()?;
    let load = load_start.elapsed();
    println!(
        "model: {} | image {}x{} | load + optimise {:.0} ms | masks per prompt {} | prompts per run {} | per grid batch {}",
        model_name(&args.model),
        image.width(),
        image.height(),
        load.as_secs_f64() * 1000.0,
        model.decoder().masks_per_prompt(),
        model.max_batch(),
        model.prompts_per_batch()
    );
    println!(
        "{:<34} {:>10} {:>10} {:>10} {:>5}",
        "step", "median ms", "min ms", "max ms", "runs"
    );
    let stages = run_stages(&args, &model, &image)?;
    println!("peak RSS {}", peak_rss());
    if let Some(python) = &args.python {
        compare_with_onnxruntime(&args, python, &image, &stages)?;
    }
    Ok(())
}

/// The tract figures the onnxruntime comparison needs: per thread count
/// (1, then `--threads`), the encoder's and one prompt's timings.
struct Stages {
    threads: Vec<(usize, Timing, Timing)>,
}

fn run_stages(args: &BenchArgs, model: &SamModel, image: &RgbImage) -> Result<Stages, String> {
    let err = |e: twinseg::model::ModelError| e.to_string();
    let (prepare_t, _) = measure(args.runs, || Ok(prepare(image)))?;
    print_row("image prepare", &prepare_t, "");
    let centre = centre_prompt(image);
    let prompts = batch_prompts(image, args.batch);
    let threads = args.model.threads();
    let counts: Vec<usize> = if threads == 1 {
        vec![1]
    } else {
        vec![1, threads]
    };
    let mut timed = Vec::new();
    for &n in &counts {
        use_threads(n).map_err(err)?;
        let (encoder, embedding) = measure(args.runs, || model.embed(image).map_err(err))?;
        print_row(&format!("encoder, {}", thread_count(n)), &encoder, "");
        let (decoder, _) = measure(args.runs, || {
            model.predict(&embedding, &centre).map_err(err)
        })?;
        print_row(
            &format!("decoder, one prompt, {}", thread_count(n)),
            &decoder,
            "",
        );
        let (batch, _) = measure(args.runs, || {
            model.predict_batch(&embedding, &prompts).map_err(err)
        })?;
        print_row(
            &format!("decoder, {} prompts, {}", prompts.len(), thread_count(n)),
            &batch,
            &format!("{:.1} ms/prompt", batch.median_ms() / prompts.len() as f64),
        );
        timed.push((n, encoder, decoder));
    }
    let embedding = model.embed(image).map_err(err)?;
    let settings = ProposalSettings {
        points_per_side: args.points_per_side,
        ..ProposalSettings::default()
    };
    let (everything, set) = measure(args.everything_runs, || {
        proposals::run(model, &embedding, &settings, |_| Control::Continue)
            .map_err(|e| e.to_string())
    })?;
    print_row(
        &format!(
            "everything mode {0}x{0}, {1}",
            args.points_per_side,
            thread_count(threads)
        ),
        &everything,
        &format!(
            "{} prompts, {} proposals",
            set.prompted,
            set.proposals.len()
        ),
    );
    let skipping = ProposalSettings {
        skip_covered: true,
        ..settings.clone()
    };
    for &n in counts.iter().rev() {
        use_threads(n).map_err(err)?;
        let (fewer, fewer_set) = measure(args.everything_runs, || {
            proposals::run(model, &embedding, &skipping, |_| Control::Continue)
                .map_err(|e| e.to_string())
        })?;
        let recalls = recall(&set, &fewer_set, &[0.9, 0.5]);
        print_row(
            &format!(
                "everything mode {0}x{0}, skip covered, {1}",
                args.points_per_side,
                thread_count(n)
            ),
            &fewer,
            &format!(
                "{} prompts, {} proposals, recall of the full grid's {:.3} at mask IoU >= 0.9, {:.3} at >= 0.5",
                fewer_set.prompted,
                fewer_set.proposals.len(),
                recalls[0],
                recalls[1]
            ),
        );
    }
    use_threads(threads).map_err(err)?;
    let (build, twin) = measure(args.runs, || Ok(twin_of(image, &set)))?;
    print_row(
        "hierarchy + DT build",
        &build,
        &format!("{} objects", twin.objects.len()),
    );
    let (reason, answer) = measure(args.runs, || {
        EmbeddedReasoner
            .reason(&twin, &args.query)
            .map_err(|e| e.to_string())
    })?;
    print_row(
        "embedded reasoning",
        &reason,
        &format!("ids {:?}", answer.ids),
    );
    let (ask, _) = measure(args.everything_runs, || {
        whole_ask(args, model, image, &skipping)
    })?;
    print_row(
        &format!("whole ask, skip covered, {}", thread_count(threads)),
        &ask,
        "",
    );
    Ok(Stages { threads: timed })
}

/// Up to `count` point prompts spread over the image on a square grid.
fn batch_prompts(image: &RgbImage, count: usize) -> Vec<Prompt> {
    let count = count.max(1);
    proposals::point_grid((count as f64).sqrt().ceil() as u32, whole(image))
        .into_iter()
        .take(count)
        .map(|[x, y]| Prompt::point(x, y))
        .collect()
}

fn thread_count(n: usize) -> String {
    if n == 1 {
        "1 thread".to_string()
    } else {
        format!("{n} threads")
    }
}

/// Share of the reference run's proposals that the other run also found,
/// for each of `min_ious` (some proposal with at least that mask IoU); 1 when
/// there are none. At 0.9 a proposal counts only if found with nearly the
/// same outline; at 0.5, also if found with a looser or tighter one, as a
/// different prompt into the same object gives. Each pair is compared once.
fn recall(reference: &ProposalSet, other: &ProposalSet, min_ious: &[f64]) -> Vec<f64> {
    if reference.proposals.is_empty() {
        return vec![1.0; min_ious.len()];
    }
    let best: Vec<f64> = reference
        .proposals
        .iter()
        .map(|p| {
            other
                .proposals
                .iter()
                .map(|q| q.mask.iou(&p.mask))
                .fold(0.0, f64::max)
        })
        .collect();
    min_ious
        .iter()
        .map(|&min_iou| {
            let found = best.iter().filter(|&&iou| iou >= min_iou).count();
            found as f64 / best.len() as f64
        })
        .collect()
}

fn whole(image: &RgbImage) -> twinseg::mask::PixelBox {
    twinseg::mask::PixelBox {
        x0: 0,
        y0: 0,
        x1: image.width(),
        y1: image.height(),
    }
}

fn centre_prompt(image: &RgbImage) -> Prompt {
    Prompt::point(image.width() as f32 / 2.0, image.height() as f32 / 2.0)
}

fn twin_of(image: &RgbImage, set: &ProposalSet) -> twinseg::twin::DigitalTwin {
    let segments = hierarchy::build(set.proposals.clone(), &HierarchySettings::default());
    twin::build(image, &TwinInput::from_segments(&segments))
}

fn whole_ask(
    args: &BenchArgs,
    model: &SamModel,
    image: &RgbImage,
    settings: &ProposalSettings,
) -> Result<u64, String> {
    let embedding = model.embed(image).map_err(|e| e.to_string())?;
    let set = proposals::run(model, &embedding, settings, |_| Control::Continue)
        .map_err(|e| e.to_string())?;
    let segments = hierarchy::build(set.proposals, &HierarchySettings::default());
    let twin = twin::build(image, &TwinInput::from_segments(&segments));
    let answer = EmbeddedReasoner
        .reason(&twin, &args.query)
        .map_err(|e| e.to_string())?;
    let masks: Vec<_> = segments.into_iter().map(|s| s.mask).collect();
    let mask = twinseg::compose::compose(&twin, &masks, &answer.ids).map_err(|e| e.to_string())?;
    Ok(mask.area())
}

fn model_name(model: &ModelArgs) -> String {
    match (&model.encoder, &model.decoder) {
        (Some(e), Some(d)) => format!("{e} + {d}"),
        _ => "built-in test model".to_string(),
    }
}

/// The process's peak resident memory (Linux), or why it is unknown.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or("unknown (no /proc)".to_string(), |kb| {
            format!("{:.0} MiB", kb / 1024.0)
        })
}

/// Feeds the same prepared image and prompt to onnxruntime and prints the ratios.
fn compare_with_onnxruntime(
    args: &BenchArgs,
    python: &Path,
    image: &RgbImage,
    stages: &Stages,
) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("twinseg-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = write_and_run_onnxruntime(args, python, image, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let report = result?;
    let field = |name: &str| -> Option<f64> {
        report
            .get(name)
            .and_then(serde_json::Value::as_array)
            .map(|v| median(v.iter().filter_map(serde_json::Value::as_f64).collect()))
    };
    let version = report
        .get("version")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("?");
    println!("onnxruntime {version}, same model files and inputs (median ms; ratio = tract time ÷ onnxruntime time)");
    let (Some(single), Some(multi)) = (stages.threads.first(), stages.threads.last()) else {
        return Ok(());
    };
    for (label, key) in [("encoder", "encoder"), ("decoder, one prompt", "decoder")] {
        for ((n, encoder, decoder), ort_threads) in
            [(single, "1_thread"), (multi, "default_threads")]
        {
            let tract = if key == "encoder" { encoder } else { decoder };
            if let Some(ort) = field(&format!("{key}_{ort_threads}")) {
                println!(
                    "{label:<22} tract {:<10} {:>9.1}  onnxruntime {:<16} {:>9.1}  ratio {:.2}",
                    thread_count(*n),
                    tract.median_ms(),
                    ort_threads.replace('_', " "),
                    ort,
                    tract.median_ms() / ort
                );
            }
        }
    }
    Ok(())
}

fn write_and_run_onnxruntime(
    args: &BenchArgs,
    python: &Path,
    image: &RgbImage,
    dir: &Path,
) -> Result<serde_json::Value, String> {
    let write = |name: &str, bytes: &[u8]| -> Result<PathBuf, String> {
        let path = dir.join(name);
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    };
    let (encoder, decoder) = match (&args.model.encoder, &args.model.decoder) {
        (Some(e), Some(d)) if !e.contains("://") && !d.contains("://") => {
            (PathBuf::from(e), PathBuf::from(d))
        }
        (Some(_), Some(_)) => {
            return Err("the onnxruntime reference needs model files, not URLs".to_string())
        }
        _ => {
            let (e, d) = SamModel::builtin_bytes();
            (write("encoder.onnx", e)?, write("decoder.onnx", d)?)
        }
    };
    let prepared = prepare(image);
    let floats = |values: &[f32]| {
        values
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>()
    };
    let image_path = write("image.f32", &floats(&prepared.data))?;
    let frame = Frame::new(image.width(), image.height());
    let (x, y) = frame.to_model(image.width() as f32 / 2.0, image.height() as f32 / 2.0);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/ort_bench.py");
    let output = Command::new(python)
        .arg(&script)
        .args(["--encoder", &encoder.display().to_string()])
        .args(["--decoder", &decoder.display().to_string()])
        .args(["--image", &image_path.display().to_string()])
        .args(["--point", &format!("{x},{y}")])
        .args([
            "--orig-size",
            &format!("{},{}", image.height(), image.width()),
        ])
        .args(["--runs", &args.runs.max(1).to_string()])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(format!(
            "the onnxruntime reference failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("the onnxruntime reference printed no JSON: {e}"))
}
