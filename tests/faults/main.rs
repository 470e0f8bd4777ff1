//! The fault catalogue: every fault and hostile input driftgate is expected to survive,
//! driven through the real binary in temp folders. Test names read as a catalogue
//! (`network::…`, `data_safety::…`, `hostile_input::…`, `secrets::…`), and
//! `docs/failures.md` lists the same entries with what the user sees. Nothing leaves
//! 127.0.0.1. Unix only: the catalogue sends signals and makes FIFOs and symlinks.

#![cfg(unix)]

#[path = "../providers/common.rs"]
#[allow(dead_code)]
mod common;

mod harness;

mod data_safety;
mod hostile_input;
mod network;
mod secrets;
