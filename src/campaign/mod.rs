//! Campaigns: many contacts dialed under pacing, concurrency, calling windows,
//! do-not-call and retry rules, with every bit of state in Redis so several
//! instances share one campaign and any of them may die at any point.

mod attempt;
mod cancel;
pub mod create;
pub mod dispatcher;
pub mod dry_run;
pub mod duration;
pub mod events;
pub mod gauges;
pub mod model;
mod pacing;
mod recovery;
pub mod settle;
pub mod status;
pub mod timezones;
pub mod window;

use chrono_tz::Tz;

use model::Contact;

/// The zones a campaign window alone would judge a contact by: its explicit
/// zone, else the zones of its number's area code, else the configured default.
/// The dial gate reads numbers more strictly (see [`gate_target`]): a bare
/// multi-zone country code means every zone it lists.
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

/// What the dial gate needs to know of a contact: its number, its explicit zone
/// and state (validated when the campaign was created), the campaign's window.
pub fn gate_target<'a>(
    contact: &'a Contact,
    window: Option<&'a crate::compliance::CampaignWindow>,
) -> crate::app::dial_gate::DialTarget<'a> {
    crate::app::dial_gate::DialTarget {
        to: &contact.to,
        timezone: contact.tz.as_deref().and_then(|z| z.parse().ok()),
        state: contact.state.as_deref().and_then(|s| s.parse().ok()),
        window,
    }
}

/// A campaign's window as the compliance rules take it: `None` when the
/// campaign set none (federal hours apply anyway).
pub fn compliance_window(
    config: &model::CampaignConfig,
) -> Option<crate::compliance::CampaignWindow> {
    let spec = config.window.as_ref()?;
    let w = spec.window();
    let days: Vec<chrono::Weekday> = (0..7u8)
        .filter(|d| w.days[*d as usize])
        .filter_map(|d| chrono::Weekday::try_from(d).ok())
        .collect();
    // A stored window was validated at creation: non-empty, with at least one day.
    crate::compliance::CampaignWindow::new(w.start, w.end, &days).ok()
}

/// Whether the process is stopping: `stop` set, or its sender gone.
pub(crate) fn stopping(stop: &tokio::sync::watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
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
            state: None,
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
