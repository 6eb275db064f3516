//! Campaigns: many contacts dialed under pacing, concurrency, calling windows,
//! do-not-call and retry rules, with every bit of state in Redis so several
//! instances share one campaign and any of them may die at any point.

mod attempt;
mod cancel;
pub mod create;
pub mod dispatcher;
pub mod duration;
pub mod events;
pub mod model;
mod pacing;
mod recovery;
pub mod settle;
pub mod status;
pub mod timezones;
pub mod window;

use chrono_tz::Tz;

use model::Contact;

/// The zones to judge a contact's calling window by: its explicit zone, else
/// the zones of its number's prefix, else the configured default.
pub fn contact_zones(contact: &Contact, default: Tz) -> Vec<Tz> {
    if let Some(tz) = contact.tz.as_deref().and_then(|z| z.parse::<Tz>().ok()) {
        return vec![tz];
    }
    let zones = timezones::zones_for_number(&contact.to);
    if zones.is_empty() {
        vec![default]
    } else {
        zones
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America;

    fn contact(to: &str, tz: Option<&str>) -> Contact {
        Contact {
            to: to.into(),
            name: None,
            tz: tz.map(str::to_owned),
            vars: Default::default(),
        }
    }

    #[test]
    fn explicit_zone_then_prefix_then_default() {
        let default = America::Phoenix;
        assert_eq!(
            contact_zones(&contact("+12125550100", Some("America/Chicago")), default),
            [America::Chicago]
        );
        assert_eq!(
            contact_zones(&contact("+12125550100", None), default),
            [America::New_York]
        );
        assert_eq!(
            contact_zones(&contact("+15555550100", None), default),
            [default],
            "unknown area code"
        );
        assert_eq!(
            contact_zones(&contact("+99912345678", None), default),
            [default],
            "unknown prefix"
        );
        assert_eq!(
            contact_zones(&contact("+12083005555", None), default).len(),
            2,
            "multi-zone prefix"
        );
    }
}
