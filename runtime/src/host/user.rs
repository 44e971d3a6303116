//! `caliopen:platform/user`: the addresses, tags and settings of the user whose
//! message is being processed.

use crate::wasm::bindings::host_errors::HostError;
use crate::wasm::bindings::user::{Host, Tag};

use super::{HostState, host_error};

impl Host for HostState {
    fn identities(&mut self) -> wasmtime::Result<Result<Vec<String>, HostError>> {
        Ok(self.user().map(|u| u.addresses().to_vec()))
    }

    fn tags(&mut self) -> wasmtime::Result<Result<Vec<Tag>, HostError>> {
        let _span = tracing::debug_span!("host.user.tags", component = &*self.label.name).entered();
        let user = match self.user() {
            Ok(u) => u,
            Err(e) => return Ok(Err(e)),
        };
        let tags = self.block_on(user.tags());
        Ok(tags
            .map(|tags| {
                tags.into_iter()
                    .map(|t| Tag {
                        name: t.name,
                        kind: match t.kind {
                            caliopen_core::model::TagKind::System => "system".into(),
                            caliopen_core::model::TagKind::User => "user".into(),
                        },
                        importance_level: t.importance_level,
                    })
                    .collect()
            })
            .map_err(host_error))
    }

    fn setting(&mut self, name: String) -> wasmtime::Result<Result<Option<String>, HostError>> {
        let user = match self.user() {
            Ok(u) => u,
            Err(e) => return Ok(Err(e)),
        };
        let value = self.block_on(user.setting(&name));
        Ok(value.map_err(host_error))
    }

    fn local_domain(&mut self) -> wasmtime::Result<String> {
        Ok(self
            .user
            .as_ref()
            .map(|u| u.local_domain().to_owned())
            .unwrap_or_default())
    }
}

impl crate::wasm::bindings::host_errors::Host for HostState {}
impl crate::wasm::bindings::types::Host for HostState {}
