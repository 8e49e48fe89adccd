//! `twinseg scenes OUT_DIR --n N --seed S`: writes a synthetic ReasonSeg-format
//! set of generated scenes with known answers, one sample per scene.

use std::path::PathBuf;

use clap::Args;
use twinseg::dataset;

/// Arguments of `twinseg scenes`.
#[derive(Args, Debug)]
pub struct ScenesArgs {
    /// Directory to write `scene_XXXXX_qY.jpg` / `.json` pairs into (created if needed).
    out_dir: PathBuf,
    /// How many samples (scenes) to write.
    #[arg(long, default_value_t = 100)]
    n: u64,
    /// Seed of the set; the same seed always writes the same files.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Writes the set and prints one line per sample, then a summary.
pub fn run(args: ScenesArgs) -> Result<(), String> {
    if args.n == 0 {
        return Err("--n must be at least 1, got 0".to_string());
    }
    let mut per_kind = std::collections::BTreeMap::new();
    for index in 0..args.n {
        let written = dataset::write_scene_sample(&args.out_dir, args.seed, index)
            .map_err(|e| e.to_string())?;
        println!(
            "{}  {:<12} {:?} -> ids {:?}",
            written.name, written.kind, written.query, written.targets
        );
        *per_kind.entry(written.kind).or_insert(0u64) += 1;
    }
    let kinds: Vec<String> = per_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "wrote {} samples ({} images + annotations) to {} (seed {}); query types: {}",
        args.n,
        args.n,
        args.out_dir.display(),
        args.seed,
        kinds.join(", ")
    );
    Ok(())
}
