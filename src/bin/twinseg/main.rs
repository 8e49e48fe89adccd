//! `twinseg`: the command-line face of the library. Each subcommand lives in
//! its own module; `main` only parses, dispatches and turns errors into one
//! clear sentence on stderr with a non-zero exit code.

mod scenes;

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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result: Result<(), String> = match cli.command {
        Command::Scenes(args) => scenes::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
