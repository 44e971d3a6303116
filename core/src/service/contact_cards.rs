//! Participants as answers show them: `contact_ids` and `label` resolved
//! against the user's contacts when answering, not when the mail arrived, so a
//! contact created or changed since is linked (the original:
//! `obj/message.go` `MessagesParticipantsDetails`,
//! `DiscussionsParticipantsDetails`, over `obj/contact.go`
//! `ContactsForParticipants`): `contact_ids` is `[the contact that owns the
//! address]` or `[]`, and `label` that contact's title when it has one, else the
//! label the mail gave.
//!
//! An answer resolves through one [`ContactCards`], which looks each distinct
//! address up once (the contact that owns it, then its title) however many of
//! the answer's messages or discussions it appears in. An address belongs to at
//! most one contact ([`super::contact_uris`]). Only email addresses have a
//! contact index; participants of other protocols keep what was stored.

use std::collections::HashMap;

use uuid::Uuid;

use crate::Core;
use crate::error::{CoreError, CoreResult};
use crate::model::{Message, Participant};

/// The contacts of the addresses one answer shows, each looked up once.
#[derive(Debug)]
pub struct ContactCards {
    user_id: Uuid,
    /// Lower-cased address → (contact, its title), or none.
    known: HashMap<String, Option<(Uuid, String)>>,
}

impl ContactCards {
    /// The user whose contacts these are.
    pub fn user_id(&self) -> Uuid {
        self.user_id
    }
}

impl Core {
    /// An empty [`ContactCards`] for one answer to `user_id`.
    pub fn contact_cards(&self, user_id: Uuid) -> ContactCards {
        ContactCards {
            user_id,
            known: HashMap::new(),
        }
    }

    /// Sets `participants`' `contact_ids` and `label` from the user's contacts
    /// as they are now (see the module docs).
    pub async fn resolve_participants(
        &self,
        cards: &mut ContactCards,
        participants: &mut [Participant],
    ) -> CoreResult<()> {
        for p in participants.iter_mut().filter(|p| p.protocol == "email") {
            let address = p.address.trim().to_lowercase();
            let card = match cards.known.get(&address) {
                Some(card) => card,
                None => {
                    let card = self.card(cards.user_id, &address).await?;
                    cards.known.entry(address).or_insert(card)
                }
            };
            match card {
                Some((id, title)) => {
                    p.contact_ids = vec![*id];
                    if !title.is_empty() {
                        p.label.clone_from(title);
                    }
                }
                None => p.contact_ids.clear(),
            }
        }
        Ok(())
    }

    /// `message` with its participants resolved (see the module docs).
    pub async fn resolved(&self, mut message: Message) -> CoreResult<Message> {
        let mut cards = self.contact_cards(message.user_id);
        self.resolve_participants(&mut cards, &mut message.participants)
            .await?;
        Ok(message)
    }

    /// The contact owning `address` (lower-cased) and its title.
    async fn card(&self, user_id: Uuid, address: &str) -> CoreResult<Option<(Uuid, String)>> {
        for id in self.contact_ids_by_address(user_id, address).await? {
            match self.contact(user_id, id).await {
                Ok(contact) => return Ok(Some((id, contact.title))),
                Err(CoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }
}
