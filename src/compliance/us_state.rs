//! The 50 US states and DC, by their two-letter postal code.

use std::fmt;
use std::str::FromStr;

macro_rules! states {
    ($($code:ident => $name:literal),* $(,)?) => {
        /// A US state or DC. Territories are deliberately absent: no state calling
        /// rule applies to them.
        // Postal codes are the names everyone audits these rules by.
        #[allow(clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum UsState { $(#[doc = $name] $code),* }

        impl UsState {
            pub const ALL: &'static [UsState] = &[$(UsState::$code),*];

            /// The two-letter postal code, e.g. `FL`.
            pub fn code(self) -> &'static str {
                match self { $(UsState::$code => stringify!($code)),* }
            }

            /// The full name, e.g. `Florida`.
            pub fn name(self) -> &'static str {
                match self { $(UsState::$code => $name),* }
            }
        }
    };
}

states! {
    AL => "Alabama", AK => "Alaska", AZ => "Arizona", AR => "Arkansas",
    CA => "California", CO => "Colorado", CT => "Connecticut", DE => "Delaware",
    DC => "District of Columbia", FL => "Florida", GA => "Georgia", HI => "Hawaii",
    ID => "Idaho", IL => "Illinois", IN => "Indiana", IA => "Iowa", KS => "Kansas",
    KY => "Kentucky", LA => "Louisiana", ME => "Maine", MD => "Maryland",
    MA => "Massachusetts", MI => "Michigan", MN => "Minnesota", MS => "Mississippi",
    MO => "Missouri", MT => "Montana", NE => "Nebraska", NV => "Nevada",
    NH => "New Hampshire", NJ => "New Jersey", NM => "New Mexico", NY => "New York",
    NC => "North Carolina", ND => "North Dakota", OH => "Ohio", OK => "Oklahoma",
    OR => "Oregon", PA => "Pennsylvania", RI => "Rhode Island", SC => "South Carolina",
    SD => "South Dakota", TN => "Tennessee", TX => "Texas", UT => "Utah",
    VT => "Vermont", VA => "Virginia", WA => "Washington", WV => "West Virginia",
    WI => "Wisconsin", WY => "Wyoming",
}

/// A string that is not the postal code of a US state or DC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not the two-letter code of a US state or DC")]
pub struct UnknownState(pub String);

impl FromStr for UsState {
    type Err = UnknownState;

    /// Parses a postal code, ignoring case and surrounding spaces (contact data is messy).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim();
        UsState::ALL
            .iter()
            .copied()
            .find(|st| st.code().eq_ignore_ascii_case(code))
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

impl fmt::Display for UsState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_states_and_dc_round_trip() {
        assert_eq!(UsState::ALL.len(), 51);
        for st in UsState::ALL {
            assert_eq!(st.code().parse::<UsState>(), Ok(*st));
        }
        assert_eq!(" fl ".parse::<UsState>(), Ok(UsState::FL));
        assert!("PR".parse::<UsState>().is_err());
    }
}
