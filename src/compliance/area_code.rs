//! NANP area code -> US state, from `data/us_area_codes.txt` (derived from
//! libphonenumber's geocoding data by `scripts/derive-area-codes.py`).

use std::collections::HashMap;
use std::sync::LazyLock;

use super::us_state::{UnknownState, UsState};

static TABLE: LazyLock<Result<HashMap<u16, UsState>, AreaCodeError>> =
    LazyLock::new(|| parse_table(include_str!("../../data/us_area_codes.txt")));

/// A malformed line in the area-code table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaCodeError {
    #[error("line {line}: expected `NPA|ST`, got `{text}`")]
    Malformed { line: usize, text: String },
    #[error("line {line}: {source}")]
    State { line: usize, source: UnknownState },
    #[error("line {line}: area code {npa} is listed twice")]
    Duplicate { line: usize, npa: u16 },
}

/// The parsed table, or why the compiled-in file is broken.
pub fn area_code_table() -> Result<&'static HashMap<u16, UsState>, AreaCodeError> {
    TABLE.as_ref().map_err(Clone::clone)
}

/// The US state of a `+1` number's area code. `None` for other countries, malformed
/// numbers, Canadian, Caribbean and territory area codes, area codes newer than the
/// source data, and if the table failed to parse (`check_data` reports that).
pub fn state_for_number(e164: &str) -> Option<UsState> {
    let national = e164.strip_prefix("+1")?;
    if national.len() != 10 || !national.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let npa: u16 = national[..3].parse().ok()?;
    area_code_table().ok()?.get(&npa).copied()
}

fn parse_table(text: &str) -> Result<HashMap<u16, UsState>, AreaCodeError> {
    let mut table = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let entry = raw.trim();
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        let malformed = || AreaCodeError::Malformed {
            line,
            text: entry.to_owned(),
        };
        let (npa, st) = entry.split_once('|').ok_or_else(malformed)?;
        if npa.len() != 3 {
            return Err(malformed());
        }
        let npa: u16 = npa.parse().map_err(|_| malformed())?;
        let state = st
            .parse()
            .map_err(|source| AreaCodeError::State { line, source })?;
        if table.insert(npa, state).is_some() {
            return Err(AreaCodeError::Duplicate { line, npa });
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_parses_and_maps_known_area_codes() {
        let table = area_code_table().expect("shipped table parses");
        assert!(table.len() > 300, "only {} area codes", table.len());
        assert_eq!(state_for_number("+13055550123"), Some(UsState::FL));
        assert_eq!(state_for_number("+12025550123"), Some(UsState::DC));
        assert_eq!(state_for_number("+12035550123"), Some(UsState::CT));
        assert_eq!(state_for_number("+14055550123"), Some(UsState::OK));
        assert_eq!(state_for_number("+18085550123"), Some(UsState::HI));
    }

    #[test]
    fn non_us_and_malformed_numbers_have_no_state() {
        assert_eq!(state_for_number("+14165550123"), None, "Toronto");
        assert_eq!(state_for_number("+17875550123"), None, "Puerto Rico");
        assert_eq!(state_for_number("+16715550123"), None, "Guam");
        assert_eq!(state_for_number("+442079460000"), None);
        assert_eq!(state_for_number("+1305555012"), None, "too short");
        assert_eq!(state_for_number("13055550123"), None, "no plus");
    }

    #[test]
    fn malformed_table_is_a_typed_error() {
        assert!(matches!(
            parse_table("305|FL\n305|FL\n"),
            Err(AreaCodeError::Duplicate { line: 2, npa: 305 })
        ));
        assert!(matches!(
            parse_table("305 FL"),
            Err(AreaCodeError::Malformed { line: 1, .. })
        ));
        assert!(matches!(
            parse_table("787|PR"),
            Err(AreaCodeError::State { line: 1, .. })
        ));
    }
}
