//! Single-call request fields that campaign contacts do not share (yet).

use serde::Deserialize;

use crate::compliance::UsState;

/// A US state or DC by its two-letter postal code (`FL`, `tx`); the callee's
/// state when the area code does not tell it (or tells it wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct StateCode(pub UsState);

impl TryFrom<String> for StateCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
            .map(StateCode)
            .map_err(|e: crate::compliance::UnknownState| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postal_codes_of_states_only() {
        let code = |s: &str| StateCode::try_from(s.to_string());
        assert_eq!(code(" fl "), Ok(StateCode(UsState::FL)));
        assert_eq!(code("DC"), Ok(StateCode(UsState::DC)));
        assert!(code("PR").is_err());
        assert!(code("Florida").is_err());
    }
}
