//! `rest_json`: request bodies of the REST API, through the extractor its routes use.
//!
//! Input layout: byte 0 picks the body type (modulo the number of types), the rest is the
//! body. The bytes go through `JsonBody<T>::from_request` exactly as a request would, with a
//! JSON content type. Beyond "no panic": a refusal is a 4xx naming its reason (never a 5xx);
//! a body that is accepted serialises back to JSON that is accepted again as the same value.

use std::fmt::Debug;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use caliopen_core::model::Contact;
use caliopen_core::service::drafts::{DraftParticipant, NewDraft};
use caliopen_rest::routes::messages::JsonBody;
use caliopen_rest::routes::users::Actions;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One body, typed by its first byte.
pub fn rest_json(data: &[u8]) {
    let [kind, body @ ..] = data else { return };
    match kind % 4 {
        // POST /api/v2/messages (and PATCH, merged into one).
        0 => round_trip::<NewDraft>(body),
        // POST /api/v2/contacts.
        1 => round_trip::<Contact>(body),
        // POST /api/v2/messages/{id}/participants.
        2 => round_trip::<Vec<DraftParticipant>>(body),
        // POST .../actions on messages, users and devices.
        _ => {
            let _ = extract::<Actions>(body);
        }
    }
}

fn round_trip<T>(body: &[u8])
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let Some(value) = extract::<T>(body) else {
        return;
    };
    let printed = serde_json::to_vec(&value).expect("an accepted body serialises");
    let again = extract::<T>(&printed).unwrap_or_else(|| {
        panic!(
            "{value:?} printed as {} is refused",
            String::from_utf8_lossy(&printed)
        )
    });
    assert_eq!(again, value, "{}", String::from_utf8_lossy(&printed));
}

/// The value the route would get, or `None` after checking the refusal.
fn extract<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    let request = Request::builder()
        .method("POST")
        .uri("/api/v2/fuzz")
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()))
        .expect("a request");
    // The body is in memory: the extractor completes on its first poll.
    let future = pin!(JsonBody::<T>::from_request(request, &()));
    let Poll::Ready(result) = future.poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("extracting an in-memory body did not complete at once");
    };
    match result {
        Ok(JsonBody(value)) => Some(value),
        Err(error) => {
            assert!(
                error.status.is_client_error(),
                "{} answered {}: {}",
                String::from_utf8_lossy(body),
                error.status,
                error.message
            );
            assert!(
                !error.name.is_empty() && !error.message.is_empty(),
                "{error:?}"
            );
            None
        }
    }
}
