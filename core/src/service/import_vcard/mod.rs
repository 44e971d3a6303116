//! Importing contacts from a vCard file (`POST /v2/imports`).
//!
//! - [`parse`]: the syntax of vCard 2.1, 3.0 and 4.0, without I/O: cards, line
//!   unfolding, parameters, quoted-printable and charsets.
//! - [`map`]: what each property means for a contact.
//!
//! Every card becomes one contact through [`Core::create_contact`] (so it is
//! validated like any other), then gets its `KEY`s through
//! [`Core::add_public_key`]. One card that cannot be read or refused by
//! validation does not stop the others: the answer says, card by card, what was
//! created and why the rest failed. Cards are not matched against existing
//! contacts: importing a file twice creates its contacts twice.

pub mod map;
pub mod parse;

use uuid::Uuid;

use crate::Core;
use crate::error::{CoreError, CoreResult};

/// What became of one card of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardOutcome {
    Created {
        contact_id: Uuid,
        /// What was left out of the card, or could not be added (keys).
        warnings: Vec<String>,
    },
    Failed {
        reason: String,
    },
}

/// One card of the file and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedCard {
    /// Position in the file, from 1.
    pub index: usize,
    /// Line of its `BEGIN:VCARD`, from 1.
    pub line: usize,
    /// The display name read from it, when there is one.
    pub name: String,
    pub outcome: CardOutcome,
}

/// What an import did, card by card, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VcardImport {
    pub cards: Vec<ImportedCard>,
}

impl VcardImport {
    /// How many contacts were created.
    pub fn created(&self) -> usize {
        self.cards
            .iter()
            .filter(|c| matches!(c.outcome, CardOutcome::Created { .. }))
            .count()
    }

    /// How many cards made no contact.
    pub fn failed(&self) -> usize {
        self.cards.len() - self.created()
    }
}

impl Core {
    /// Creates a contact of `user_id` for every card of a vCard file (see the
    /// module docs). A file that holds no card at all, or is too large, is
    /// refused as `Invalid` on `file`; storage failures stop the import (the
    /// contacts created until then stay).
    #[tracing::instrument(skip(self, data), fields(size = data.len()))]
    pub async fn import_vcards(&self, user_id: Uuid, data: &[u8]) -> CoreResult<VcardImport> {
        self.user(user_id).await?;
        let cards = parse::parse(data).map_err(|reason| CoreError::invalid("file", reason))?;
        let mut report = VcardImport::default();
        for (i, card) in cards.into_iter().enumerate() {
            let (line, mapped) = match card {
                Ok(raw) => (raw.line, map::map_card(&raw)),
                Err(broken) => (broken.line, Err(broken.reason)),
            };
            let name = mapped
                .as_ref()
                .map(|m| m.contact.title.clone())
                .unwrap_or_default();
            let outcome = match mapped {
                Ok(m) => self.create_imported(user_id, m).await?,
                Err(reason) => CardOutcome::Failed { reason },
            };
            report.cards.push(ImportedCard {
                index: i + 1,
                line,
                name,
                outcome,
            });
        }
        tracing::info!(
            created = report.created(),
            failed = report.failed(),
            "vCard import"
        );
        Ok(report)
    }

    /// Creates one card's contact, then adds its keys; a refusal of the
    /// contact's content is the card's failure, any other error the import's.
    async fn create_imported(
        &self,
        user_id: Uuid,
        card: map::MappedCard,
    ) -> CoreResult<CardOutcome> {
        let mut warnings = card.warnings;
        let contact = match self.create_contact(user_id, card.contact).await {
            Ok(c) => c,
            Err(e @ (CoreError::Invalid { .. } | CoreError::UriTaken { .. })) => {
                return Ok(CardOutcome::Failed {
                    reason: e.to_string(),
                });
            }
            Err(e) => return Err(e),
        };
        for key in card.keys {
            let label = key.label.clone();
            match self.add_public_key(user_id, contact.id, key).await {
                Ok(_) => {}
                Err(e @ (CoreError::Invalid { .. } | CoreError::Conflict(_))) => {
                    warnings.push(format!("{label} was not added: {e}"));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(CardOutcome::Created {
            contact_id: contact.id,
            warnings,
        })
    }
}
