//! Core's `PartReader` port, implemented by the active parser component's
//! `read-part` export: received attachments are read out of their raw mail in
//! the parser's sandbox (its manifest's memory, deadline and output cap), on a
//! blocking thread, never by native parsing in a request handler. Core bounds
//! how many run at once.

use std::sync::Arc;

use async_trait::async_trait;
use caliopen_core::service::attachments::{PartError, PartReader};

use crate::pipeline::Slots;
use crate::wasm::{InvokeError, WasmEngine};

#[derive(Debug, Clone)]
pub struct ParserPartReader {
    engine: Arc<WasmEngine>,
    slots: Arc<Slots>,
}

impl ParserPartReader {
    pub fn new(engine: Arc<WasmEngine>, slots: Arc<Slots>) -> Self {
        Self { engine, slots }
    }
}

#[async_trait]
impl PartReader for ParserPartReader {
    async fn read_part(&self, raw: Vec<u8>, part_index: u32) -> Result<Option<Vec<u8>>, PartError> {
        let parser = self
            .slots
            .snapshot()
            .parser
            .clone()
            .ok_or_else(|| PartError::Failed("no parser component is deployed".into()))?;
        let engine = self.engine.clone();
        let outcome =
            tokio::task::spawn_blocking(move || parser.read_part(&engine, &raw, part_index).0)
                .await
                .map_err(|e| PartError::Failed(format!("the reading task failed: {e}")))?;
        outcome.map_err(|e| match e {
            InvokeError::Component { kind, message } if kind == "unsupported" => {
                PartError::Unsupported(message)
            }
            other => {
                tracing::warn!(error = %other, kind = other.kind(), "reading an attachment failed");
                PartError::Failed(other.to_string())
            }
        })
    }
}
