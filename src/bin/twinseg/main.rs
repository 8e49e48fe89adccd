//! `twinseg`: the command-line face of the library. Each subcommand lives in
//! its own module; `main` only parses, dispatches and turns errors into one
//! clear sentence on stderr with a non-zero exit code.

mod bench_twin;
mod model_args;
mod proposals;
mod scenes;
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
    /// Measure the size and token cost of the Digital Twin's renderings.
    BenchTwin(bench_twin::BenchTwinArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result: Result<(), String> = match cli.command {
        Command::Scenes(args) => scenes::run(args),
        Command::Proposals(args) => proposals::run(args),
        Command::Twin(args) => twin::run(args),
        Command::BenchTwin(args) => bench_twin::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
