//! `twinseg`: the command-line face of the library. Each subcommand lives in
//! its own module; `main` only parses, dispatches and turns errors into one
//! clear sentence on stderr with a non-zero exit code.

mod ask;
mod bench;
mod bench_twin;
mod eval;
mod export_sft;
mod grid_args;
mod model_args;
mod proposals;
mod reasoner_args;
mod scenes;
mod segment;
mod twin;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "twinseg",
    version,
    about = "Reasoning segmentation with SAM and a Digital Twin"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a synthetic ReasonSeg-format set of generated scenes with known answers.
    Scenes(scenes::ScenesArgs),
    /// Find all objects: the prompt grid, the object / part tree, COCO-style JSON.
    Proposals(proposals::ProposalsArgs),
    /// Write the Digital Twin of an image (full JSON, or the compact form sent to LLMs).
    Twin(twin::TwinArgs),
    /// Time every stage (prepare, encoder, decoder, everything mode, DT, reasoning, ask), with an onnxruntime reference.
    Bench(bench::BenchArgs),
    /// Measure the size and token cost of the Digital Twin's renderings.
    BenchTwin(bench_twin::BenchTwinArgs),
    /// Segment one object from point and box prompts into a mask PNG.
    Segment(segment::SegmentArgs),
    /// Answer a question about an image with a mask (steps and ids on stdout).
    Ask(ask::AskArgs),
    /// Score the whole pipeline on a ReasonSeg-format dataset (gIoU, cIoU).
    Eval(eval::EvalArgs),
    /// Write chat-format fine-tuning examples (Digital Twin + query -> steps and ids).
    ExportSft(export_sft::ExportSftArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result: Result<(), String> = match cli.command {
        Command::Scenes(args) => scenes::run(args),
        Command::Proposals(args) => proposals::run(args),
        Command::Twin(args) => twin::run(args),
        Command::Bench(args) => bench::run(args),
        Command::BenchTwin(args) => bench_twin::run(args),
        Command::Segment(args) => segment::run(args),
        Command::Ask(args) => match ask::run(args) {
            Ok(ask::Answered::Nothing) => {
                return std::process::ExitCode::from(ask::NOTHING_EXIT_CODE)
            }
            other => other.map(|_| ()),
        },
        Command::Eval(args) => eval::run(args),
        Command::ExportSft(args) => export_sft::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
