//! Durations in the usual notation: `90s`, `30m`, `2h`, `1d`, `1h30m` (campaign
//! windows and settings such as `MISSED_CALL_SMS_COOLDOWN`).

use std::time::Duration;

pub fn parse(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("is empty (use e.g. 90s, 30m, 2h)".into());
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => {
                return Err(format!(
                    "'{input}' has an unknown unit '{c}' (use s, m, h or d)"
                ))
            }
        };
        let n: u64 = number
            .parse()
            .map_err(|_| format!("'{input}' needs a number before '{c}'"))?;
        number.clear();
        total = total
            .checked_add(n.checked_mul(unit).ok_or("is too long")?)
            .ok_or("is too long")?;
    }
    if !number.is_empty() {
        return Err(format!(
            "'{input}' needs a unit after {number} (s, m, h or d)"
        ));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_notation() {
        assert_eq!(parse("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse(" 1s ").unwrap(), Duration::from_secs(1));
        for bad in ["", "10", "m", "5x", "1.5h", "-1s"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
