//! The `disco-dock` binary: a thin layer over the library (see cli.rs).

mod cli;

use clap::Parser;

fn main() {
    disco_dock::model::keep_freed_memory();
    let args = cli::with_default_subcommand(std::env::args().collect());
    let cli = cli::Cli::parse_from(args);
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level)).init();
    if let Err(e) = cli::run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
