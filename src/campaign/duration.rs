//! Durations in the usual notation (`90s`, `30m`, `2h`, `1d`, `1h30m`): the
//! settings' parser, so a campaign and a setting read them alike.

pub use crate::config::duration::parse;
