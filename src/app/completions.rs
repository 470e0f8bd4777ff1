//! `driftgate completions`: the shell's completion script, generated from the clap
//! definition so that it never lags behind the commands.

use std::io::Write as _;

use clap::CommandFactory;

use crate::cli::Cli;

pub(super) fn completions(shell: clap_complete::Shell) {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    // Into a buffer first: clap_complete panics on a failed write, and a closed pipe
    // (`driftgate completions bash | head`) is the reader's choice, not an error.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    let _ = std::io::stdout().lock().write_all(&script);
}
