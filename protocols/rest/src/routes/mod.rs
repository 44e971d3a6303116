//! One module per resource of the API.

pub mod attachments;
pub mod authentications;
pub mod contacts;
pub mod devices;
pub mod discussions;
pub mod docs;
pub mod identities;
pub mod imports;
pub mod messages;
pub mod notifications;
pub mod participants;
pub mod passwords;
pub mod providers;
pub mod raws;
pub mod search;
pub mod settings;
pub mod tags;
pub mod users;

use axum::Router;

use crate::state::AppState;

/// Every operation, under `/api`.
pub fn api() -> Router<AppState> {
    Router::new()
        .merge(authentications::routes())
        .merge(messages::routes())
        .merge(attachments::routes())
        .merge(contacts::routes())
        .merge(discussions::routes())
        .merge(imports::routes())
        .merge(participants::routes())
        .merge(raws::routes())
        .merge(search::routes())
        .merge(tags::routes())
        .merge(devices::routes())
        .merge(docs::routes())
        .merge(identities::routes())
        .merge(notifications::routes())
        .merge(passwords::routes())
        .merge(providers::routes())
        .merge(settings::routes())
        .merge(users::routes())
}
