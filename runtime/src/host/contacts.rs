//! `caliopen:platform/contacts`: the contacts of the user whose message is being
//! processed, and nobody else's.

use caliopen_core::model::Contact as CoreContact;

use crate::wasm::bindings::contacts::{Contact, Host};
use crate::wasm::bindings::host_errors::HostError;
use crate::wasm::bindings::types::Pi;

use super::{HostState, host_error};

impl Host for HostState {
    fn lookup(&mut self, address: String) -> wasmtime::Result<Result<Option<Contact>, HostError>> {
        let _span =
            tracing::debug_span!("host.contacts.lookup", component = &*self.label.name).entered();
        if address.len() > 320 {
            return Ok(Err(HostError::InvalidArgument(
                "address is longer than 320 bytes".into(),
            )));
        }
        let user = match self.user() {
            Ok(u) => u,
            Err(e) => return Ok(Err(e)),
        };
        let found = self.block_on(user.contact_by_address(&address));
        Ok(found.map(|c| c.map(|c| to_wit(&c))).map_err(host_error))
    }

    fn get(&mut self, contact_id: String) -> wasmtime::Result<Result<Option<Contact>, HostError>> {
        let _span =
            tracing::debug_span!("host.contacts.get", component = &*self.label.name).entered();
        let Ok(id) = contact_id.parse::<uuid::Uuid>() else {
            return Ok(Err(HostError::InvalidArgument(format!(
                "`{contact_id}` is not a contact id"
            ))));
        };
        let user = match self.user() {
            Ok(u) => u,
            Err(e) => return Ok(Err(e)),
        };
        let found = self.block_on(user.contact(id));
        Ok(found.map(|c| c.map(|c| to_wit(&c))).map_err(host_error))
    }
}

fn to_wit(c: &CoreContact) -> Contact {
    Contact {
        contact_id: c.id.to_string(),
        title: c.title.clone(),
        emails: c.emails.iter().map(|e| e.address.clone()).collect(),
        tags: c.tags.clone(),
        has_public_key: !c.public_keys.is_empty(),
        pi: Some(Pi {
            technic: c.pi.technic,
            comportment: c.pi.comportment,
            context: c.pi.context,
        }),
    }
}
