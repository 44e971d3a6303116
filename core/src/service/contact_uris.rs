//! One address, one contact: every point of contact of a user's contacts (an
//! email address, a social identity, an instant messaging address, a phone
//! number) belongs to at most one of them, the user's own card included, as in
//! the original (`cas/contacts.go` `ControlURIsUniqueness` over `obj/contact.go`
//! `GetLookupKeys`). A point of contact is named by its URI `<type>:<value>`:
//! `email:<address>`, `<identity type>:<name>`, `<im protocol>:<address>`,
//! `phone:<number>`; values compare case-insensitively. Participants' contact
//! ids rely on it (an address leads to one contact).

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use crate::Core;
use crate::error::{CoreError, CoreResult};
use crate::model::Contact;
use crate::tables::CONTACTS;

/// The URIs of a contact's points of contact, in the order the contact lists
/// them (emails, social identities, IMs, phones); empty values left out.
pub fn contact_uris(c: &Contact) -> Vec<String> {
    let emails = c.emails.iter().map(|e| ("email", e.address.as_str()));
    let social = c
        .identities
        .iter()
        .map(|s| (s.kind.as_str(), s.name.as_str()));
    let ims = c
        .ims
        .iter()
        .map(|i| (i.protocol.as_str(), i.address.as_str()));
    let phones = c.phones.iter().map(|p| ("phone", p.number.as_str()));
    emails
        .chain(social)
        .chain(ims)
        .chain(phones)
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(kind, value)| format!("{}:{}", kind.trim(), value.trim()).to_lowercase())
        .collect()
}

impl Core {
    /// Refuses `contact` (new, or replacing `previous`) when one of the URIs it
    /// adds belongs to another contact of its user, with
    /// [`CoreError::UriTaken`] naming the first such URI and its contact. URIs the
    /// contact already had are not checked again. Caller holds the user's lock.
    pub(crate) async fn check_uris_free(
        &self,
        contact: &Contact,
        previous: Option<&Contact>,
    ) -> CoreResult<()> {
        let had: BTreeSet<String> = previous
            .map(contact_uris)
            .unwrap_or_default()
            .into_iter()
            .collect();
        let added: Vec<String> = contact_uris(contact)
            .into_iter()
            .filter(|u| !had.contains(u))
            .collect();
        if added.is_empty() {
            return Ok(());
        }
        let others: Vec<Contact> = self.scan_all(contact.user_id, CONTACTS).await?;
        let owners: BTreeMap<String, Uuid> = others
            .iter()
            .filter(|o| o.id != contact.id)
            .flat_map(|o| contact_uris(o).into_iter().map(move |u| (u, o.id)))
            .collect();
        match added
            .into_iter()
            .find_map(|u| owners.get(&u).map(|&id| (u, id)))
        {
            Some((uri, contact_id)) => Err(CoreError::UriTaken { uri, contact_id }),
            None => Ok(()),
        }
    }
}
