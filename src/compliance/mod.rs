//! Calling-time compliance for US numbers: which state an area code belongs to
//! (`data/us_area_codes.txt`), which time zones a number's prefix may be in
//! (`data/libphonenumber-timezones-map_data.txt`), the federal and state calling
//! rules (`rules/us.toml`), the decision whether a call may be placed at a given
//! instant, and if not, when, and which numbers may be dialed at all (`numbers`:
//! no nonsense, no toll fraud).
//!
//! Everything here is pure: the two data files are compiled in with `include_str!` and
//! parsed once; nothing reads the clock, the network or the store.

mod area_code;
mod decide;
mod gate;
mod number_zones;
mod numbers;
mod state_rules;
mod us_state;

pub use area_code::{area_code_table, state_for_number, AreaCodeError};
pub use decide::{
    decide, decide_all_zones, CampaignWindow, Decision, HoldReason, WindowError, SEARCH_DAYS,
};
pub use number_zones::{prefix_zones, PrefixZones};
pub use numbers::{check as check_number, country_code, NotDialable, NumberPolicy};
pub use state_rules::{DayHours, Holiday, Rule, Rules, RulesError};
pub use us_state::{UnknownState, UsState};

/// Checks both compiled-in data files, so a service can refuse to start with a clear
/// error instead of silently calling without state rules.
pub fn check_data() -> Result<(), DataError> {
    area_code_table()?;
    Rules::shipped()?;
    Ok(())
}

/// A compiled-in data file that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    #[error("data/us_area_codes.txt: {0}")]
    AreaCodes(#[from] AreaCodeError),
    #[error("rules/us.toml: {0}")]
    Rules(#[from] RulesError),
}
