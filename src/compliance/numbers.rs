//! Which numbers may be dialed at all, whatever the hour: a country code the
//! ITU has assigned, a North American number whose area code and exchange
//! can exist, no high-cost range (toll fraud) unless allowed, an optional list
//! of countries, and never the service's own caller ID.

use crate::phone::E164;

/// ITU-T E.164 country codes in service (1 to 3 digits).
const ASSIGNED: &[u16] = &[
    1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54,
    55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98, 211,
    212, 213, 216, 218, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234,
    235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253,
    254, 255, 256, 257, 258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290, 291, 297, 298,
    299, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373, 374, 375, 376, 377,
    378, 379, 380, 381, 382, 383, 385, 386, 387, 389, 420, 421, 423, 500, 501, 502, 503, 504, 505,
    506, 507, 508, 509, 590, 591, 592, 593, 594, 595, 596, 597, 598, 599, 670, 672, 673, 674, 675,
    676, 677, 678, 679, 680, 681, 682, 683, 685, 686, 687, 688, 689, 690, 691, 692, 800, 808, 850,
    852, 853, 855, 856, 870, 878, 880, 881, 882, 883, 886, 888, 960, 961, 962, 963, 964, 965, 966,
    967, 968, 970, 971, 972, 973, 974, 975, 976, 977, 979, 992, 993, 994, 995, 996, 998,
];

/// Country codes billed at high or premium rates: international premium rate
/// (979), satellite and international networks (870, 881, 882, 883), shared
/// cost (808) and universal personal telecommunications (878).
const HIGH_COST_CODES: &[u16] = &[808, 870, 878, 881, 882, 883, 979];

/// What the operator allows beyond ordinary numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberPolicy {
    /// `ALLOW_PREMIUM_NUMBERS`: premium and other high-cost ranges.
    pub allow_premium: bool,
    /// `ALLOWED_COUNTRY_CODES`: when set, only these country codes.
    pub allowed_country_codes: Option<Vec<u16>>,
    /// The service's own numbers (caller IDs): never dialed.
    pub own_numbers: Vec<E164>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NotDialable {
    #[error("has no assigned country code")]
    UnassignedCountryCode,
    #[error("is not a possible North American number: {0}")]
    ImpossibleNanp(&'static str),
    #[error("is a premium-rate or high-cost number (set ALLOW_PREMIUM_NUMBERS=true to dial such numbers)")]
    HighCost,
    #[error("country code +{0} is not in ALLOWED_COUNTRY_CODES")]
    CountryNotAllowed(u16),
    #[error("is this service's own number")]
    OwnNumber,
}

/// The country code of an E.164 number (the ITU codes are prefix-free).
pub fn country_code(number: &E164) -> Option<u16> {
    let digits = &number.as_str()[1..];
    (1..=3)
        .filter_map(|n| digits.get(..n)?.parse::<u16>().ok())
        .find(|cc| ASSIGNED.contains(cc))
}

/// Whether `number` may be dialed under `policy`.
pub fn check(number: &E164, policy: &NumberPolicy) -> Result<(), NotDialable> {
    let cc = country_code(number).ok_or(NotDialable::UnassignedCountryCode)?;
    if policy.own_numbers.contains(number) {
        return Err(NotDialable::OwnNumber);
    }
    if let Some(allowed) = &policy.allowed_country_codes {
        if !allowed.contains(&cc) {
            return Err(NotDialable::CountryNotAllowed(cc));
        }
    }
    let high_cost = if cc == 1 {
        nanp(&number.as_str()[2..])?
    } else {
        HIGH_COST_CODES.contains(&cc)
    };
    if high_cost && !policy.allow_premium {
        return Err(NotDialable::HighCost);
    }
    Ok(())
}

/// Checks a +1 number's ten digits (NPA-NXX-XXXX); `true` when it is premium
/// rate (area code 900, or exchange 976 in any area code).
fn nanp(digits: &str) -> Result<bool, NotDialable> {
    if digits.len() != 10 {
        return Err(NotDialable::ImpossibleNanp(
            "it must have 10 digits after +1",
        ));
    }
    let b = digits.as_bytes();
    if matches!(b[0], b'0' | b'1') {
        return Err(NotDialable::ImpossibleNanp(
            "area codes never start with 0 or 1",
        ));
    }
    if b[1] == b'1' && b[2] == b'1' {
        return Err(NotDialable::ImpossibleNanp(
            "N11 codes (211 to 911) are not area codes",
        ));
    }
    Ok(&digits[..3] == "900" || &digits[3..6] == "976")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> E164 {
        E164::parse(s).expect("E.164")
    }

    #[test]
    fn refuses_nonsense_and_toll_fraud() {
        let p = NumberPolicy::default();
        assert_eq!(
            check(&n("+99912345678"), &p),
            Err(NotDialable::UnassignedCountryCode)
        );
        assert!(matches!(
            check(&n("+10005551234"), &p),
            Err(NotDialable::ImpossibleNanp(_))
        ));
        assert!(matches!(
            check(&n("+14115551234"), &p),
            Err(NotDialable::ImpossibleNanp(_))
        ));
        assert_eq!(check(&n("+19005551234"), &p), Err(NotDialable::HighCost));
        assert_eq!(check(&n("+12129761234"), &p), Err(NotDialable::HighCost));
        assert_eq!(check(&n("+979123456789"), &p), Err(NotDialable::HighCost));
        assert_eq!(check(&n("+8816123456789"), &p), Err(NotDialable::HighCost));
    }

    #[test]
    fn ordinary_numbers_pass_and_the_policy_applies() {
        let mut p = NumberPolicy::default();
        assert_eq!(check(&n("+15551234567"), &p), Ok(()));
        assert_eq!(check(&n("+442071838750"), &p), Ok(()));
        assert_eq!(check(&n("+33142685300"), &p), Ok(()));
        p.allow_premium = true;
        assert_eq!(check(&n("+19005551234"), &p), Ok(()));
        p.allowed_country_codes = Some(vec![1]);
        assert_eq!(
            check(&n("+442071838750"), &p),
            Err(NotDialable::CountryNotAllowed(44))
        );
        p.own_numbers = vec![n("+15550001111")];
        assert_eq!(check(&n("+15550001111"), &p), Err(NotDialable::OwnNumber));
    }

    #[test]
    fn country_codes_are_read_by_their_own_length() {
        assert_eq!(country_code(&n("+15551234567")), Some(1));
        assert_eq!(country_code(&n("+442071838750")), Some(44));
        assert_eq!(country_code(&n("+35312345678")), Some(353));
        assert_eq!(country_code(&n("+99912345678")), None);
    }
}
