use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = driftgate::cli::Cli::parse();
    match driftgate::run(cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::from(err.exit_status().code())
        }
    }
}
