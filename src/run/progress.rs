//! Live progress on stderr: a bar on an interactive terminal, plain lines in CI or when
//! stderr is not a terminal, nothing with `-q`. The runner never formats; the commands
//! feed this from their per-job callback.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// How progress is shown.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    label: String,
    total: u64,
    done: u64,
    failed: u64,
    next_line: u64,
}

impl Progress {
    /// Progress over `total` jobs; `quiet` hides it.
    #[must_use]
    pub fn new(label: &str, total: usize, quiet: bool) -> Self {
        let total = total as u64;
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = (!quiet && interactive).then(|| {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(label.to_string());
            bar
        });
        Self {
            plain: !quiet && !interactive,
            bar,
            label: label.to_string(),
            total,
            done: 0,
            failed: 0,
            next_line: 0,
        }
    }

    /// One job finished; `error` is its failure, if any.
    pub fn finished(&mut self, what: &str, error: Option<&str>) {
        self.done += 1;
        if error.is_some() {
            self.failed += 1;
        }
        if let Some(bar) = &self.bar {
            if let Some(e) = error {
                bar.println(format!("{what}: {e}"));
            }
            bar.set_message(if self.failed > 0 {
                format!("{} failed", self.failed)
            } else {
                String::new()
            });
            bar.inc(1);
        } else if self.plain {
            if let Some(e) = error {
                eprintln!("{what}: {e}");
            }
            // About ten lines per run, so CI logs stay short at any size.
            if self.done >= self.next_line || self.done == self.total {
                eprintln!(
                    "{}: {}/{} done, {} failed",
                    self.label, self.done, self.total, self.failed
                );
                self.next_line = self.done + (self.total / 10).max(5);
            }
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
