//! Hashes commands.

use crate::engine::table::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
