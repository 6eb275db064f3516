//! Every Redis key name lives here. All keys of one call share the hash tag
//! `{<call id>}`, so they stay in one Redis Cluster slot and one script can
//! touch them all. Every key carries the tenant.

#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(tenant: &str) -> Self {
        Self {
            prefix: format!("cf:{tenant}"),
        }
    }

    /// Hash: `v` (version) and `d` (the record as JSON).
    pub fn call(&self, call_id: &str) -> String {
        format!("{}:call:{{{call_id}}}", self.prefix)
    }

    /// List of timeline entries (JSON), oldest first.
    pub fn timeline(&self, call_id: &str) -> String {
        format!("{}:call:{{{call_id}}}:timeline", self.prefix)
    }

    /// Hash: callback idempotency key -> the reply we gave.
    pub fn seen(&self, call_id: &str) -> String {
        format!("{}:call:{{{call_id}}}:seen", self.prefix)
    }

    /// String: Twilio CallSid -> our call id.
    pub fn call_sid(&self, call_sid: &str) -> String {
        format!("{}:sid:{{{call_sid}}}", self.prefix)
    }

    /// Hash: E.164 number -> JSON entry. The tenant's do-not-call list.
    pub fn dnc(&self) -> String {
        format!("{}:dnc", self.prefix)
    }

    /// Hash: a campaign's config, status, counters and pace (`{<campaign id>}` tag).
    pub fn campaign(&self, id: &str) -> String {
        format!("{}:campaign:{{{id}}}", self.prefix)
    }

    /// Hash: contact index -> static contact JSON.
    pub fn campaign_contacts(&self, id: &str) -> String {
        format!("{}:campaign:{{{id}}}:contacts", self.prefix)
    }

    /// Hash: contact index -> contact state JSON (absent: fresh and pending).
    pub fn campaign_states(&self, id: &str) -> String {
        format!("{}:campaign:{{{id}}}:states", self.prefix)
    }

    /// Sorted set: waiting contact indexes by the epoch ms they may be dialed.
    pub fn campaign_due(&self, id: &str) -> String {
        format!("{}:campaign:{{{id}}}:due", self.prefix)
    }

    /// Sorted set: contacts claimed by a dispatcher, by lease expiry (epoch ms).
    pub fn campaign_leases(&self, id: &str) -> String {
        format!("{}:campaign:{{{id}}}:leases", self.prefix)
    }

    /// Sorted set: contacts with a call in progress, by when to stop counting it.
    pub fn campaign_active(&self, id: &str) -> String {
        format!("{}:campaign:{{{id}}}:active", self.prefix)
    }

    /// Set: campaigns the dispatchers look at (running or paused).
    pub fn campaigns_live(&self) -> String {
        format!("{}:campaigns:live", self.prefix)
    }

    /// String: the account-wide next dial slot (epoch ms).
    pub fn account_pace(&self) -> String {
        format!("{}:pace:account", self.prefix)
    }

    /// Sorted set of pending webhook deliveries by due time, and their payloads.
    pub fn outbox(&self) -> String {
        format!("{}:{{outbox}}", self.prefix)
    }

    pub fn outbox_items(&self) -> String {
        format!("{}:{{outbox}}:items", self.prefix)
    }

    /// String: the text of one flow version, for calls that outlive an edit.
    pub fn flow(&self, flow_id: &str, version: &str) -> String {
        format!("{}:flow:{flow_id}:{version}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_keys_share_one_hash_tag() {
        let k = Keys::new("default");
        assert_eq!(k.call("abc"), "cf:default:call:{abc}");
        assert_eq!(k.timeline("abc"), "cf:default:call:{abc}:timeline");
        assert_eq!(k.seen("abc"), "cf:default:call:{abc}:seen");
        assert_eq!(k.campaign_due("x"), "cf:default:campaign:{x}:due");
    }
}
