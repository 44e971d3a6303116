//! Where imported mail goes: core directly (server stopped, a node without listeners
//! running in this process) or the running server's admin API.

use std::collections::HashSet;

use anyhow::{Context as _, anyhow};
use caliopen_core::Core;
use caliopen_core::CoreError;
use caliopen_core::delivery::{ImportOutcome, ImportedMail, Recipient};
use uuid::Uuid;

use crate::cli::Admin;

/// What became of one mail.
#[derive(Debug)]
pub enum Stored {
    /// Accepted (the delivery's id): stored once processed.
    Imported(Uuid),
    /// The user already had it.
    Present,
}

/// Why one mail was not stored.
#[derive(Debug)]
pub enum Failed {
    /// This mail only: refused with the reason.
    Refused(String),
    /// Nothing more can be imported now (the store or the server failed).
    Fatal(anyhow::Error),
}

/// The destination of an import.
#[derive(Debug, Clone)]
pub enum Sink {
    Local {
        core: Core,
        recipient: Recipient,
    },
    Remote {
        admin: Admin,
        agent: ureq::Agent,
        username: String,
    },
}

impl Sink {
    /// Stores one raw mail.
    pub async fn store(
        &self,
        raw: Vec<u8>,
        envelope_from: &str,
        flags: ImportedMail,
    ) -> Result<Stored, Failed> {
        match self {
            Self::Local { core, recipient } => {
                match core.import_mail(recipient, raw, envelope_from, flags).await {
                    Ok(ImportOutcome::Accepted(id)) => Ok(Stored::Imported(id)),
                    Ok(ImportOutcome::AlreadyPresent(_)) => Ok(Stored::Present),
                    Err(CoreError::Invalid { reason, .. }) => Err(Failed::Refused(reason)),
                    Err(e) => Err(Failed::Fatal(anyhow!(e).context("the store failed"))),
                }
            }
            Self::Remote {
                admin,
                agent,
                username,
            } => {
                let mut path = format!(
                    "/admin/users/{}/import?read={}&answered={}&flagged={}",
                    encode(username),
                    flags.read,
                    flags.answered,
                    flags.flagged
                );
                if let Some(date) = flags.source_date {
                    path.push_str(&format!("&date={}", encode(&date.to_rfc3339())));
                }
                if !envelope_from.is_empty() {
                    path.push_str(&format!("&from={}", encode(envelope_from)));
                }
                let (admin, agent) = (admin.clone(), agent.clone());
                let answer =
                    tokio::task::spawn_blocking(move || admin.post_bytes(&agent, &path, &raw))
                        .await
                        .map_err(|e| Failed::Fatal(anyhow!(e)))?
                        .map_err(Failed::Fatal)?;
                match answer {
                    Ok(v) if v["outcome"] == "present" => Ok(Stored::Present),
                    Ok(v) => Ok(Stored::Imported(
                        v["delivery"]
                            .as_str()
                            .and_then(|d| d.parse().ok())
                            .unwrap_or_default(),
                    )),
                    Err((400 | 413 | 422, reason)) => Err(Failed::Refused(reason)),
                    Err((404, _)) => Err(Failed::Fatal(anyhow!(
                        "the server has no user `{username}`"
                    ))),
                    Err((status, reason)) => Err(Failed::Fatal(anyhow!(
                        "the admin API answered {status}: {reason}"
                    ))),
                }
            }
        }
    }

    /// Deliveries waiting to be processed, and search updates waiting to be applied.
    pub async fn backlog(&self) -> anyhow::Result<(u64, u64)> {
        match self {
            Self::Local { core, .. } => {
                let s = core.pipeline_stats().await?;
                Ok((s.pending, s.index_backlog))
            }
            Self::Remote { admin, .. } => {
                let admin = admin.clone();
                let v = tokio::task::spawn_blocking(move || admin.get("/admin/pipeline")).await??;
                Ok((
                    v["pending"].as_u64().unwrap_or_default(),
                    v["index_backlog"].as_u64().unwrap_or_default(),
                ))
            }
        }
    }

    /// The ids of the quarantined deliveries.
    pub async fn quarantined(&self) -> anyhow::Result<HashSet<Uuid>> {
        match self {
            Self::Local { core, .. } => Ok(core
                .quarantined()
                .await?
                .into_iter()
                .map(|q| q.delivery.id)
                .collect()),
            Self::Remote { admin, .. } => {
                let admin = admin.clone();
                let v = tokio::task::spawn_blocking(move || admin.get("/admin/quarantine"))
                    .await?
                    .context("reading the quarantine")?;
                Ok(v["quarantine"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|q| q["delivery"]["id"].as_str()?.parse().ok())
                    .collect())
            }
        }
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
