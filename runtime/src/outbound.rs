//! Core's [`OutboundRenderer`] port, implemented with the `outbound` export of the
//! broker component active in the `broker:email` slot.

use std::sync::Arc;

use async_trait::async_trait;
use caliopen_core::context::UserContext;
use caliopen_core::delivery::ProcessingError;
use caliopen_core::model::Participant;
use caliopen_core::outbound::{OutboundDraft, OutboundRenderer};

use crate::convert::wit_role;
use crate::pipeline::Slots;
use crate::wasm::WasmEngine;
use crate::wasm::bindings::types as wit;

/// Renders drafts with the active broker.
#[derive(Debug)]
pub struct BrokerRenderer {
    engine: Arc<WasmEngine>,
    slots: Arc<Slots>,
}

impl BrokerRenderer {
    pub fn new(engine: Arc<WasmEngine>, slots: Arc<Slots>) -> Self {
        Self { engine, slots }
    }
}

#[async_trait]
impl OutboundRenderer for BrokerRenderer {
    async fn render(
        &self,
        user: UserContext,
        draft: OutboundDraft,
    ) -> Result<Vec<u8>, ProcessingError> {
        let chain = self.slots.snapshot();
        let engine = self.engine.clone();
        let broker = chain
            .broker
            .clone()
            .ok_or_else(|| ProcessingError::Transient {
                stage: "broker:email".into(),
                reason: "no component is deployed in slot `broker:email`".into(),
            })?;
        let draft = wit_draft(draft);
        let stage = format!("{} ({})", broker.manifest.slot, broker.manifest);
        let outcome =
            tokio::task::spawn_blocking(move || broker.outbound(&engine, Some(user), &draft).0)
                .await
                .map_err(|e| ProcessingError::Transient {
                    stage: stage.clone(),
                    reason: format!("rendering task failed: {e}"),
                })?;
        outcome.map_err(|e| ProcessingError::Permanent {
            stage,
            reason: e.to_string(),
        })
    }
}

fn wit_participant(p: Participant) -> wit::Participant {
    wit::Participant {
        role: wit_role(p.role),
        protocol: p.protocol,
        address: p.address,
        label: p.label,
    }
}

/// Core's draft as the broker's WIT `draft`.
pub fn wit_draft(d: OutboundDraft) -> wit::Draft {
    wit::Draft {
        from: wit_participant(d.from),
        participants: d.participants.into_iter().map(wit_participant).collect(),
        subject: d.subject,
        body_plain: d.body_plain,
        body_html: d.body_html,
        message_id: d.message_id,
        parent: d.parent.map(|r| wit::ExternalReferences {
            message_id: r.message_id,
            parent_id: r.parent_id,
            ancestors_ids: r.ancestors_ids,
        }),
        date: d.date.timestamp_millis(),
        attachments: d
            .attachments
            .into_iter()
            .map(|a| wit::OutboundAttachment {
                file_name: a.file_name,
                content_type: a.content_type,
                content: a.content,
            })
            .collect(),
    }
}
