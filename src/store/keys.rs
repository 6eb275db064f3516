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
    }
}
