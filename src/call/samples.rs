//! Every (state, event) pair the machine is documented and tested against:
//! `flows graph` and the TwiML snapshots walk these lists.

use super::{CallState, CallStatus, Disposition, Event, Intent};

pub fn sample_states() -> Vec<CallState> {
    vec![
        CallState::Queued,
        CallState::Dialing,
        CallState::Ringing,
        CallState::Identify { attempts: 0 },
        CallState::Identify { attempts: 1 },
        CallState::Consent { attempts: 0 },
        CallState::Consent { attempts: 1 },
        CallState::Gather { attempts: 0 },
        CallState::Gather { attempts: 1 },
        CallState::Ended {
            disposition: Disposition::Interested,
        },
    ]
}

pub fn sample_events() -> Vec<Event> {
    let mut events = vec![
        Event::Answered { machine: false },
        Event::Answered { machine: true },
        Event::Rejected,
    ];
    for intent in [
        Intent::Yes,
        Intent::No,
        Intent::OptOut,
        Intent::Unclear,
        Intent::Silence,
    ] {
        events.push(Event::Input(intent));
    }
    for status in [
        CallStatus::Initiated,
        CallStatus::Ringing,
        CallStatus::InProgress,
        CallStatus::Completed,
        CallStatus::Busy,
        CallStatus::NoAnswer,
        CallStatus::Failed,
        CallStatus::Canceled,
    ] {
        events.push(Event::Status(status));
    }
    events
}
