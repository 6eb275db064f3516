//! A campaign's status and settings: moving it between statuses (compare and
//! set, see `scripts/set_status.lua`) and completing it once every contact is done.

use std::sync::LazyLock;

use redis::{AsyncCommands, Script};

use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// Where a campaign stands, as stored in its hash and shown by the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Running,
    Paused,
    Canceled,
    Completed,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Canceled => "canceled",
            Self::Completed => "completed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Running, Self::Paused, Self::Canceled, Self::Completed]
            .into_iter()
            .find(|s| s.as_str() == name)
    }

    /// Canceled and completed campaigns never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Canceled | Self::Completed)
    }
}

impl AsRef<str> for CampaignStatus {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a campaign did not change status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusRefused {
    #[error("no such campaign")]
    Missing,
    #[error("the campaign is {0}")]
    Is(CampaignStatus),
}

/// A status as stored; anything else is corruption.
pub(super) fn parse_status(stored: &str) -> Result<CampaignStatus, StoreError> {
    CampaignStatus::parse(stored)
        .ok_or_else(|| StoreError::Corrupt(format!("campaign status '{stored}'")))
}

static SET_STATUS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../scripts/set_status.lua")));

impl Store {
    /// Marks a running or paused campaign completed once every contact is done.
    /// True only for the one caller that made it so.
    pub async fn complete_if_done(
        &self,
        id: &str,
        shards: u32,
        now_rfc3339: &str,
    ) -> Result<bool, StoreError> {
        let total: Option<u64> = self.conn().hget(self.keys().campaign(id), "total").await?;
        let Some(total) = total else {
            return Ok(false);
        };
        let done = self.shard_sum(id, shards, "done").await?;
        if done < total {
            return Ok(false);
        }
        Ok(self
            .set_campaign_status(
                id,
                CampaignStatus::Completed,
                &[CampaignStatus::Running, CampaignStatus::Paused],
                Some(("completed_at", now_rfc3339)),
            )
            .await?
            .is_ok())
    }

    /// Moves a campaign to `to` if its status is one of `from`, stamping `stamp`
    /// (field, value) with it. The outer result is the store's; the inner one
    /// says why the campaign did not move.
    pub async fn set_campaign_status<S: AsRef<str>>(
        &self,
        id: &str,
        to: S,
        from: &[S],
        stamp: Option<(&str, &str)>,
    ) -> Result<Result<(), StatusRefused>, StoreError> {
        let mut inv = SET_STATUS.key(self.keys().campaign(id));
        let (field, value) = stamp.unwrap_or(("", ""));
        inv.arg(to.as_ref()).arg(field).arg(value);
        for f in from {
            inv.arg(f.as_ref());
        }
        let answer: String = inv.invoke_async(&mut self.conn()).await?;
        Ok(match answer.as_str() {
            "ok" => Ok(()),
            "missing" => Err(StatusRefused::Missing),
            other => Err(StatusRefused::Is(parse_status(other)?)),
        })
    }

    pub async fn campaign_status(&self, id: &str) -> Result<Option<CampaignStatus>, StoreError> {
        let status: Option<String> = self.conn().hget(self.keys().campaign(id), "status").await?;
        status.as_deref().map(parse_status).transpose()
    }

    /// The stored settings of a campaign (JSON), if it exists.
    pub async fn campaign_config(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn().hget(self.keys().campaign(id), "config").await?)
    }
}
