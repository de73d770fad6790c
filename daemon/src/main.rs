use clap::Parser;

fn main() -> std::process::ExitCode {
    cancuoc::logging::init();
    cancuoc::cli::run(cancuoc::cli::Cli::parse())
}
