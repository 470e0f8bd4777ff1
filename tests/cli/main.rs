//! The command line, end to end: each test runs the real binary in a scratch folder.

mod harness;

mod check;
mod compare;
mod init;
mod record;
mod run;
