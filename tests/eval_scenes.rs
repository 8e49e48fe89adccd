//! The reasoning-segmentation target: `twinseg eval` on 100 generated scenes,
//! with the built-in test model and the embedded reasoner, scores gIoU and
//! cIoU of at least 0.9. The scenes and the command are the ones
//! `docs/evaluation.md` reports: the default 32×32 grid, run coarse to fine
//! with `--skip-covered` so that 100 images take minutes, not hours.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENES: &str = "100";
const SEED: &str = "0";

fn twinseg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinseg"))
        .args(args)
        .output()
        .expect("the twinseg binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("eval-scenes-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The `gIoU`, `cIoU` and `n` of eval's last stdout line.
fn final_figures(stdout: &str) -> (f64, f64, usize) {
    let last = stdout.lines().last().expect("a final line");
    let field = |key: &str| {
        last.split_whitespace()
            .find_map(|f| f.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            .unwrap_or_else(|| panic!("no {key} in {last:?}"))
    };
    (
        field("gIoU").parse().expect("gIoU is a number"),
        field("cIoU").parse().expect("cIoU is a number"),
        field("n").parse().expect("n is a count"),
    )
}

#[test]
fn eval_on_a_hundred_scenes_reaches_giou_and_ciou_of_0_9() {
    let dir = scratch("set");
    let path = dir.to_str().expect("utf-8 path");
    let out = twinseg(&["scenes", path, "--n", SCENES, "--seed", SEED]);
    assert!(
        out.status.success(),
        "scenes: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = twinseg(&["eval", path, "--points-per-side", "32", "--skip-covered"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "eval: {stderr}");
    let (giou, ciou, n) = final_figures(&stdout);
    let misses: Vec<&str> = stderr
        .lines()
        .filter(|line| {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix("IoU="))
                .and_then(|v| v.parse::<f64>().ok())
                .is_some_and(|iou| iou < 0.9)
        })
        .collect();
    assert_eq!(n, 100, "{stdout}");
    assert!(
        giou >= 0.9 && ciou >= 0.9,
        "gIoU {giou} cIoU {ciou}\n{stdout}\nqueries below 0.9:\n{}",
        misses.join("\n")
    );
}
