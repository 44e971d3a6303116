//! Component deployments, as records: which component versions exist, which one is
//! active in each slot, and what happened to each slot. Core stores the bytes as a
//! blob and the manifest as text; it knows nothing of WebAssembly. Keeping this in
//! the records store means a restart, and every node of a cluster, runs the same
//! versions.

use caliopen_storage_traits::{Batch, BlobId, Scan, Scope};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::blob_refs::add_ref;
use crate::codec::{Key, decode, encode};
use crate::error::{CoreError, CoreResult};
use crate::limits;
use crate::tables::{COMPONENTS, SLOTS};
use crate::{Core, now};

/// One deployed version of a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentRecord {
    pub name: String,
    pub version: String,
    pub slot: String,
    /// The manifest as deployed (TOML).
    pub manifest: String,
    /// SHA-256 of the component bytes (hex); the bytes are the blob of that id.
    pub digest: String,
    pub deployed_at: DateTime<Utc>,
}

/// What happened to a slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotEvent {
    pub at: DateTime<Utc>,
    /// `deploy`, `rollback`, `activate`, `shadow`, `unshadow`.
    pub action: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A slot: its active version, its shadow candidate, and its history (newest last).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotState {
    pub slot: String,
    /// `name@version`.
    pub active: Option<String>,
    pub shadow: Option<String>,
    pub history: Vec<SlotEvent>,
}

/// Most events kept per slot.
const HISTORY: usize = 200;

impl Core {
    /// Stores a component version: the bytes first, then its record. Versions are
    /// immutable: the same name and version with other bytes is a conflict.
    pub async fn store_component(&self, wasm: &[u8], record: &ComponentRecord) -> CoreResult<()> {
        if let Some(existing) = self.component_record(&record.name, &record.version).await? {
            if existing.digest != record.digest {
                return Err(CoreError::Conflict(format!(
                    "{}@{} is already deployed with other bytes; give the new build a new version",
                    record.name, record.version
                )));
            }
            return Ok(());
        }
        if BlobId::of(wasm).to_string() != record.digest {
            return Err(CoreError::invalid(
                "digest",
                "does not match the component bytes",
            ));
        }
        let mut batch = Batch::new();
        batch.put(
            COMPONENTS,
            Scope::Global,
            component_key(&record.name, &record.version)?,
            encode(record),
        );
        let stores = self.stores();
        stores
            .blobs
            .put_then_write(
                wasm,
                stores.records.as_ref(),
                Box::new(move |blob| {
                    // A stored version is never deleted: its bytes always count.
                    add_ref(&mut batch, blob);
                    batch
                }),
            )
            .await?;
        Ok(())
    }

    /// A stored component version, if any.
    pub async fn component_record(
        &self,
        name: &str,
        version: &str,
    ) -> CoreResult<Option<ComponentRecord>> {
        match self
            .stores()
            .records
            .get(COMPONENTS, Scope::Global, &component_key(name, version)?)
            .await?
        {
            Some(bytes) => decode(COMPONENTS.name, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The bytes of a stored component version.
    pub async fn component_bytes(&self, record: &ComponentRecord) -> CoreResult<Vec<u8>> {
        let id: BlobId = record.digest.parse()?;
        self.stores()
            .blobs
            .get(&id)
            .await?
            .ok_or_else(|| CoreError::not_found("component bytes", &record.digest))
    }

    /// Every stored component version, by name then version.
    pub async fn component_records(&self) -> CoreResult<Vec<ComponentRecord>> {
        let page = self
            .stores()
            .records
            .scan(COMPONENTS, Scope::Global, Scan::all(100_000))
            .await?;
        page.items
            .iter()
            .map(|(_, v)| decode(COMPONENTS.name, v))
            .collect()
    }

    /// The state of one slot (empty when never used).
    pub async fn slot(&self, slot: &str) -> CoreResult<SlotState> {
        limits::check("slot", slot, limits::MAX_SLOT_BYTES)?;
        match self
            .stores()
            .records
            .get(SLOTS, Scope::Global, slot.as_bytes())
            .await?
        {
            Some(bytes) => decode(SLOTS.name, &bytes),
            None => Ok(SlotState {
                slot: slot.to_owned(),
                ..SlotState::default()
            }),
        }
    }

    /// Every slot that was ever used.
    pub async fn slots(&self) -> CoreResult<Vec<SlotState>> {
        let page = self
            .stores()
            .records
            .scan(SLOTS, Scope::Global, Scan::all(10_000))
            .await?;
        page.items
            .iter()
            .map(|(_, v)| decode(SLOTS.name, v))
            .collect()
    }

    /// Records a change of a slot's active (or shadow) version.
    pub async fn record_slot_change(
        &self,
        slot: &str,
        action: &str,
        active: Option<String>,
        shadow: Option<String>,
    ) -> CoreResult<SlotState> {
        let mut state = self.slot(slot).await?;
        let (from, to) = if action.contains("shadow") {
            (state.shadow.clone(), shadow.clone())
        } else {
            (state.active.clone(), active.clone())
        };
        state.history.push(SlotEvent {
            at: now(),
            action: action.to_owned(),
            from,
            to,
        });
        if state.history.len() > HISTORY {
            let excess = state.history.len() - HISTORY;
            state.history.drain(..excess);
        }
        state.active = active;
        state.shadow = shadow;
        let mut batch = Batch::new();
        batch.put(
            SLOTS,
            Scope::Global,
            slot.as_bytes().to_vec(),
            encode(&state),
        );
        self.stores().records.write(batch).await?;
        Ok(state)
    }
}

/// The key of a component version; a name or version over its limit is refused.
fn component_key(name: &str, version: &str) -> CoreResult<Vec<u8>> {
    limits::check("name", name, limits::MAX_COMPONENT_NAME_BYTES)?;
    limits::check("version", version, limits::MAX_COMPONENT_VERSION_BYTES)?;
    Ok(Key::new().str(name).str(version).build())
}
