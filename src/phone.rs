//! Phone numbers: strict E.164 parsing and masking for logs and API output.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A number in E.164 form: `+`, a country code not starting with 0, 8 to 15 digits in all.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum E164Error {
    #[error("must start with '+' followed by the country code (E.164, e.g. +15551234567)")]
    MissingPlus,
    #[error("must contain only digits after '+'")]
    NotDigits,
    #[error("must have 8 to 15 digits after '+'")]
    Length,
    #[error("country code cannot start with 0")]
    LeadingZero,
}

impl E164 {
    pub fn parse(input: &str) -> Result<Self, E164Error> {
        let digits = input.strip_prefix('+').ok_or(E164Error::MissingPlus)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E164Error::NotDigits);
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(E164Error::Length);
        }
        if digits.starts_with('0') {
            return Err(E164Error::LeadingZero);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but the last four digits hidden: `+1***-***-4567`.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks any phone-like string to its last four digits. North American numbers
/// keep their familiar shape (`+1***-***-4567`); others become `+44******1234`.
pub fn mask(number: &str) -> String {
    let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() <= 4 {
        return "*".repeat(digits.len());
    }
    let last4 = &digits[digits.len() - 4..];
    if digits.len() == 11 && digits.starts_with('1') {
        return format!("+1***-***-{last4}");
    }
    let cc_len = if digits.len() > 10 { 2 } else { 1 };
    let hidden = digits.len() - 4 - cc_len;
    format!("+{}{}{}", &digits[..cc_len], "*".repeat(hidden), last4)
}

/// Masks every phone-number-like run (7 to 15 digits, with or without `+`)
/// inside free text, such as an error message Twilio wrote, before it is
/// logged or returned.
pub fn mask_in_text(text: &str) -> String {
    static NUMBER: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\+?\d{7,15}").expect("static pattern"));
    NUMBER
        .replace_all(text, |m: &regex::Captures| mask(&m[0]))
        .into_owned()
}

impl TryFrom<String> for E164 {
    type Error = E164Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        E164::parse(&value)
    }
}

impl From<E164> for String {
    fn from(value: E164) -> Self {
        value.0
    }
}

/// Debug never shows the full number, so a stray `{:?}` cannot leak it into logs.
impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E164({})", self.masked())
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_numbers() {
        assert_eq!(
            E164::parse("+15551234567").unwrap().as_str(),
            "+15551234567"
        );
        assert!(E164::parse("+442071838750").is_ok());
    }

    #[test]
    fn rejects_invalid_numbers() {
        assert_eq!(E164::parse("5551234567"), Err(E164Error::MissingPlus));
        assert_eq!(E164::parse("+1 555 123 4567"), Err(E164Error::NotDigits));
        assert_eq!(E164::parse("+1555"), Err(E164Error::Length));
        assert_eq!(E164::parse("+1234567890123456"), Err(E164Error::Length));
        assert_eq!(E164::parse("+0555123456"), Err(E164Error::LeadingZero));
        assert_eq!(E164::parse(""), Err(E164Error::MissingPlus));
        assert_eq!(E164::parse("+"), Err(E164Error::Length));
    }

    #[test]
    fn masks_to_last_four_digits() {
        assert_eq!(mask("+15551234567"), "+1***-***-4567");
        assert_eq!(mask("+442071838750"), "+44******8750");
        assert_eq!(
            E164::parse("+15551234567").unwrap().to_string(),
            "+1***-***-4567"
        );
        assert_eq!(
            format!("{:?}", E164::parse("+15551234567").unwrap()),
            "E164(+1***-***-4567)"
        );
        assert_eq!(mask("123"), "***");
    }

    #[test]
    fn numbers_inside_text_are_masked() {
        let text = "The 'To' number +15551234567 is not a valid phone number. Call 4155550123.";
        let masked = mask_in_text(text);
        assert!(
            !masked.contains("5551234567") && !masked.contains("4155550123"),
            "{masked}"
        );
        assert!(masked.contains("+1***-***-4567"), "{masked}");
    }
}
