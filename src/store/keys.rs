//! Every Redis key name lives here. All keys of one call share the hash tag
//! `{<call id>}`, so they stay in one Redis Cluster slot and one script can
//! touch them all. Every key carries the tenant.

/// The two keys of one persisted machine's record: the hash (version, JSON,
/// remembered replies) and its timeline list. Same hash tag, so one script
/// writes both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordKeys {
    pub record: String,
    pub timeline: String,
}

#[derive(Debug, Clone)]
pub struct Keys {
    tenant: String,
    prefix: String,
}

/// Keys shared by every tenant sit under `cf-global:`, never `cf:`: no
/// tenant's `cf:<id>:` prefix can produce (or a scan of `cf:*` find) one of them.
const GLOBAL: &str = "cf-global";

/// Hash: E.164 number -> the id of the tenant that holds it. Tagged
/// `{numbers}` with every tenant's number set, so a claim is one script.
pub fn number_owners() -> String {
    format!("{GLOBAL}:{{numbers}}:owner")
}

/// Set: the numbers one tenant holds (same `{numbers}` tag as the owners).
pub fn tenant_numbers(tenant: &str) -> String {
    format!("{GLOBAL}:{{numbers}}:of:{tenant}")
}

/// Set: the id of every tenant.
pub fn tenant_index() -> String {
    format!("{GLOBAL}:tenants")
}

/// Hash: SHA-256 (hex) of an API token -> `<tenant id> <token id>`, so a
/// request's token is found in one `HGET` whichever tenant it is.
pub fn token_index() -> String {
    format!("{GLOBAL}:tokens")
}

/// String: the rate limiter's state for one client address (see `rate_limit.lua`).
pub fn ip_rate(ip: &str) -> String {
    format!("{GLOBAL}:rate:ip:{{{ip}}}")
}

/// String: the rate limiter's state for one token of a tenant (limits are
/// the deployment's business, not the tenant's data).
pub fn token_rate(tenant: &str, token_id: &str) -> String {
    format!("{GLOBAL}:rate:token:{{{tenant}:{token_id}}}")
}

/// String: the Twilio account's next dial slot (epoch ms). One account
/// carries every tenant's calls, so its `TWILIO_MAX_CPS` is shared by all.
pub fn account_pace() -> String {
    format!("{GLOBAL}:pace:account")
}

/// Sorted set: call id -> epoch ms at which the account's recent dials were
/// sent, whichever tenant dialed.
pub fn account_sent() -> String {
    format!("{GLOBAL}:pace:account:sent")
}

/// String: one console session (JSON: who logged in, the tenant shown, the
/// CSRF token), expiring with the session. The id is 256 random bits.
pub fn console_session(id: &str) -> String {
    format!("{GLOBAL}:console:session:{{{id}}}")
}

impl Keys {
    pub fn new(tenant: &str) -> Self {
        Self {
            tenant: tenant.to_string(),
            prefix: format!("cf:{tenant}"),
        }
    }

    /// The tenant whose keys these are.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Hash: `v` (version), `d` (the record as JSON) and `s:<callback key>` (the
    /// reply given to each callback handled, for its retries).
    pub fn call(&self, call_id: &str) -> String {
        format!("{}:call:{{{call_id}}}", self.prefix)
    }

    /// List of timeline entries (JSON), oldest first.
    pub fn timeline(&self, call_id: &str) -> String {
        format!("{}:call:{{{call_id}}}:timeline", self.prefix)
    }

    /// An outbound call's record keys.
    pub fn call_record(&self, call_id: &str) -> RecordKeys {
        RecordKeys {
            record: self.call(call_id),
            timeline: self.timeline(call_id),
        }
    }

    /// An inbound call's record keys: the same as an outbound call's, so the
    /// call log and `GET /api/calls/{id}` read calls of both directions alike.
    pub fn inbound_call_record(&self, call_id: &str) -> RecordKeys {
        self.call_record(call_id)
    }

    /// String (counter): the tenant's round-robin rotation of inbound calls,
    /// shared by every instance.
    pub fn ring_turn(&self) -> String {
        format!("{}:inbound:ring-turn", self.prefix)
    }

    /// String with a TTL: the missed-call text was sent to `caller` within
    /// the cooldown (`MISSED_CALL_SMS_COOLDOWN`).
    pub fn missed_text(&self, caller: &str) -> String {
        format!("{}:inbound:missed-text:{{{caller}}}", self.prefix)
    }

    /// String: Twilio CallSid -> our call id.
    pub fn call_sid(&self, call_sid: &str) -> String {
        format!("{}:sid:{{{call_sid}}}", self.prefix)
    }

    /// Sorted set, every member scored 0 so they sort by name: the tenant's
    /// call log, one `<created ms, 13 digits>:<direction>:<call id>` per call
    /// (see `call_log.rs`). Name order is time order.
    pub fn call_log(&self) -> String {
        format!("{}:calls", self.prefix)
    }

    /// Sorted set: call id -> when (ms, service clock) a scheduled single call
    /// is next due; while one instance handles it, the end of its lease.
    pub fn scheduled_calls(&self) -> String {
        format!("{}:scheduled", self.prefix)
    }

    /// Hash: E.164 number -> JSON entry. The tenant's do-not-call list.
    pub fn dnc(&self) -> String {
        format!("{}:dnc", self.prefix)
    }

    /// Sorted set: records (their hash's key) whose transition may owe a
    /// do-not-call write not yet made, by when that was first expected (epoch
    /// ms, Redis's clock). Tagged with the do-not-call hash's own name, so it
    /// shares that hash's Cluster slot and one script updates both.
    pub fn pending_effects(&self) -> String {
        format!("{}:effects:{{{}}}", self.prefix, self.dnc())
    }

    /// String: the call in progress to one number (its call id), with a
    /// lease (TTL) so a call whose end is never heard of frees the number.
    /// Tagged by the number like [`Keys::dial_attempts`], so the dial cap's
    /// script claims it in the same step.
    pub fn number_busy(&self, number: &str) -> String {
        format!("{}:busy:{{{number}}}", self.prefix)
    }

    /// Hash: a campaign's config, status, counters and pace (`{<campaign id>}` tag).
    pub fn campaign(&self, id: &str) -> String {
        format!("{}:campaign:{{{id}}}", self.prefix)
    }

    /// Hash: one shard's counters (`attempts`, `retries`, `done`, `errors`, `disp:<name>`).
    /// Shard 0's are kept in the campaign hash itself.
    pub fn campaign_shard(&self, id: &str, shard: u32) -> String {
        format!("{}:campaign:{}", self.prefix, shard_tag(id, shard))
    }

    /// Hash: contact index -> static contact JSON (the contacts of one shard).
    pub fn campaign_contacts(&self, id: &str, shard: u32) -> String {
        format!("{}:campaign:{}:contacts", self.prefix, shard_tag(id, shard))
    }

    /// Hash: contact index -> contact state JSON (absent: fresh and pending).
    pub fn campaign_states(&self, id: &str, shard: u32) -> String {
        format!("{}:campaign:{}:states", self.prefix, shard_tag(id, shard))
    }

    /// Set: indexes of one shard's contacts held because their stored state
    /// cannot be read (each counted once in the shard's `errors`).
    pub fn campaign_unreadable(&self, id: &str, shard: u32) -> String {
        format!(
            "{}:campaign:{}:unreadable",
            self.prefix,
            shard_tag(id, shard)
        )
    }

    /// Sorted set: every unfinished contact of one shard, by the epoch ms at which
    /// a dispatcher next takes it up (to dial it, or to check on an attempt it holds).
    pub fn campaign_due(&self, id: &str, shard: u32) -> String {
        format!("{}:campaign:{}:due", self.prefix, shard_tag(id, shard))
    }

    /// Set: the contacts of one shard waiting for a retry (settled with a
    /// disposition that earns another attempt, not dialed again yet).
    pub fn campaign_retrying(&self, id: &str, shard: u32) -> String {
        format!("{}:campaign:{}:retrying", self.prefix, shard_tag(id, shard))
    }

    /// Sorted set: contacts claimed by a dispatcher, by lease expiry (epoch ms).
    /// Campaign-wide (at most `max_concurrent` members): it counts dials in flight.
    pub fn campaign_leases(&self, id: &str) -> String {
        format!("{}:campaign:{{{id}}}:leases", self.prefix)
    }

    /// Sorted set: `<index>:<call id>` of calls in progress, by when to stop counting them.
    pub fn campaign_active(&self, id: &str) -> String {
        format!("{}:campaign:{{{id}}}:active", self.prefix)
    }

    /// Sorted set: call id -> epoch ms at which the campaign's recent dials
    /// were sent (the pace's last check, see `scripts/sent.lua`).
    pub fn campaign_sent(&self, id: &str) -> String {
        format!("{}:campaign:{{{id}}}:sent", self.prefix)
    }

    /// Set: campaigns the dispatchers look at (running or paused).
    pub fn campaigns_live(&self) -> String {
        format!("{}:campaigns:live", self.prefix)
    }

    /// String: this tenant's next dial slot (epoch ms), for its `max_cps` share.
    pub fn tenant_pace(&self) -> String {
        format!("{}:pace:tenant", self.prefix)
    }

    /// Sorted set: campaign id -> when it was created (epoch ms, service
    /// clock): every campaign of the tenant, finished ones too, for listing.
    pub fn campaign_index(&self) -> String {
        format!("{}:campaigns:all", self.prefix)
    }

    /// Sorted set: one number's recent dials (unique members, scored by the service
    /// clock's epoch ms), for the per-number cap. Tagged by the number, so the cap
    /// script touches one slot whichever campaign or call dials.
    pub fn dial_attempts(&self, number: &str) -> String {
        format!("{}:dials:{{{number}}}", self.prefix)
    }

    /// Sorted set: call id -> epoch ms at which this tenant's recent dials were sent.
    pub fn tenant_sent(&self) -> String {
        format!("{}:pace:tenant:sent", self.prefix)
    }

    /// Sorted set of pending webhook deliveries by due time, and their payloads.
    pub fn outbox(&self) -> String {
        format!("{}:{{outbox}}", self.prefix)
    }

    pub fn outbox_items(&self) -> String {
        format!("{}:{{outbox}}:items", self.prefix)
    }

    /// Hash: one text callflow sends (a notification): `d` (its JSON as
    /// created), `status`, `rank` (how far the status has come, see
    /// `scripts/notification_status.lua`), `error_code`, `error_message`,
    /// `message_sid`, `updated_at` and `<status>_at`. Expires with the call
    /// log's retention.
    pub fn notification(&self, id: &str) -> String {
        format!("{}:notification:{{{id}}}", self.prefix)
    }

    /// Sorted set, every member scored 0 so they sort by name: the tenant's
    /// notification log, one `<created ms, 13 digits>:<type>:<notification id>`
    /// per text (the call log's member format, see `call_log.rs`).
    pub fn notifications(&self) -> String {
        format!("{}:notifications", self.prefix)
    }

    /// String: an incoming text already handled (by its `MessageSid`), kept a
    /// day, so a retry of Twilio's webhook changes nothing and answers nothing.
    pub fn sms_seen(&self, message_sid: &str) -> String {
        format!("{}:sms:seen:{{{message_sid}}}", self.prefix)
    }

    /// String: the tenant's auto-reply went to this number; expires after the
    /// auto-reply cooldown.
    pub fn sms_auto_replied(&self, number: &str) -> String {
        format!("{}:sms:replied:{{{number}}}", self.prefix)
    }

    /// String: what became of one `Idempotency-Key` (JSON: pending, or the first
    /// answer), by the SHA-256 of the key, so a key's characters never touch the
    /// hash tag. Kept 24 hours.
    pub fn idempotency(&self, key_digest: &str) -> String {
        format!("{}:idem:{{{key_digest}}}", self.prefix)
    }

    /// String: the tenant's record (JSON).
    pub fn tenant_record(&self) -> String {
        format!("{}:tenant", self.prefix)
    }

    /// Hash: token id -> JSON (its SHA-256 and when it was issued): the
    /// tenant's API tokens, for revocation and listing.
    pub fn tenant_tokens(&self) -> String {
        format!("{}:tokens", self.prefix)
    }

    /// String: the secret that signs the tenant's events (`whsec_...`).
    pub fn events_secret(&self) -> String {
        format!("{}:events_secret", self.prefix)
    }

    /// String: the text of one flow version, for calls that outlive an edit.
    pub fn flow(&self, flow_id: &str, version: &str) -> String {
        format!("{}:flow:{flow_id}:{version}", self.prefix)
    }
}

/// The shard a contact lives in.
pub fn shard_of(idx: u32, shards: u32) -> u32 {
    idx % shards.max(1)
}

/// Shard 0 shares the campaign's own tag, so a campaign of one shard is one slot;
/// shard `n` is tagged `{<campaign id>:n}` and may live on another node.
fn shard_tag(id: &str, shard: u32) -> String {
    if shard == 0 {
        format!("{{{id}}}")
    } else {
        format!("{{{id}:{shard}}}")
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
        assert_eq!(k.campaign_due("x", 0), "cf:default:campaign:{x}:due");
        assert_eq!(k.campaign_shard("x", 0), k.campaign("x"));
        assert_eq!(k.idempotency("ab12"), "cf:default:idem:{ab12}");
        assert_eq!(k.call_log(), "cf:default:calls");
    }

    #[test]
    fn keys_one_script_touches_share_a_cluster_slot() {
        use redis::cluster_routing::{Route, SlotAddr};
        let k = Keys::new("default");
        let slot = |key: &str| Route::with_key(key.as_bytes(), SlotAddr::Master);
        assert_eq!(slot(&k.pending_effects()), slot(&k.dnc()));
        assert_eq!(
            slot(&k.number_busy("+15550001234")),
            slot(&k.dial_attempts("+15550001234"))
        );
    }

    #[test]
    fn large_campaigns_spread_over_shard_tags() {
        let k = Keys::new("default");
        assert_eq!(k.campaign_due("x", 3), "cf:default:campaign:{x:3}:due");
        assert_eq!(
            k.campaign_states("x", 3),
            "cf:default:campaign:{x:3}:states"
        );
        assert_eq!(k.campaign_shard("x", 3), "cf:default:campaign:{x:3}");
        assert_eq!(shard_of(7, 3), 1);
        assert_eq!(shard_of(7, 0), 0);
    }

    #[test]
    fn global_keys_never_fall_under_a_tenant_prefix() {
        assert_eq!(number_owners(), "cf-global:{numbers}:owner");
        assert_eq!(tenant_numbers("acme"), "cf-global:{numbers}:of:acme");
        for key in [
            tenant_index(),
            token_index(),
            ip_rate("::1"),
            token_rate("a", "t"),
            console_session("s"),
        ] {
            assert!(
                key.starts_with("cf-global:") && !key.starts_with("cf:"),
                "{key}"
            );
        }
    }
}
