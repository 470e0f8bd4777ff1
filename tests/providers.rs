//! Wire tests of the hosted providers against loopback emulators: one module per
//! platform checks method, path, auth header and body shape, answers with documented
//! responses, and drives the failure classes through the executor. `cli` drives the
//! real binary end to end. Nothing leaves 127.0.0.1.

#[path = "providers/common.rs"]
mod common;

#[path = "providers/ark.rs"]
mod ark;
#[path = "providers/atlascloud.rs"]
mod atlascloud;
#[path = "providers/cli.rs"]
mod cli;
#[path = "providers/fal.rs"]
mod fal;
#[path = "providers/openai.rs"]
mod openai;
#[path = "providers/openrouter.rs"]
mod openrouter;
#[path = "providers/replicate.rs"]
mod replicate;
#[path = "providers/wavespeed.rs"]
mod wavespeed;
