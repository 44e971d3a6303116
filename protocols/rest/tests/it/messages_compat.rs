//! Messages and drafts as the original Caliopen answered them (the D-items of
//! docs/api-compatibility.md): a client's draft id, the list filters, fields a
//! draft does not take, draft attachments' `temp_id`, the client's privacy
//! features, list order. Expected shapes and statuses come from the original's
//! source, cited in each test.

use crate::common;

use axum::http::StatusCode;
use common::{Session, TestApp};
use serde_json::{Value, json};

/// `POST /api/v1/messages` with `body`, the user's identity added.
async fn post_draft(app: &TestApp, who: &Session, mut body: Value) -> common::TestResponse {
    body["user_identities"] = json!([app.local_identity(who).await]);
    app.post("/api/v1/messages")
        .auth(who)
        .json(&body)
        .send()
        .await
}

async fn list(app: &TestApp, who: &Session, query: &str) -> Value {
    app.get(&format!("/api/v2/messages?{query}"))
        .auth(who)
        .header("x-caliopen-il", "-10;10")
        .header("x-caliopen-pi", "0;100")
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json()
}

fn ids(list: &Value) -> Vec<String> {
    list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_owned())
        .collect()
}

const TO_BOB: &str = "bob@example.org";

fn to_bob() -> Value {
    json!([{"type": "To", "protocol": "email", "address": TO_BOB}])
}

/// D1: the draft's id is the `message_id` the client chose
/// (`caliopen_main/message/objects/message.py` `create_draft`,
/// `parameters/draft.py` `validate_uuid`: not a UUID or already used → 422
/// `message_id not unique`; ids are per user).
#[tokio::test]
async fn compat_d01_draft_keeps_client_message_id() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let m = "3b241101-e2bb-4255-8caf-4136c566a962";
    let body = json!({"message_id": m, "participants": to_bob(), "subject": "s", "body": "b"});

    let res = post_draft(&app, &alice, body.clone()).await;
    let res = res.assert_status(StatusCode::OK);
    assert_eq!(
        res.json(),
        json!({"location": format!("/api/v2/messages/{m}")})
    );
    let read = app
        .get(&format!("/api/v2/messages/{m}"))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(read["message_id"], m);
    assert_eq!(read["is_draft"], true);
    assert_eq!(read["subject"], "s");
    // The Message-ID the world sees is not the client's id.
    let msgid = read["external_references"]["message_id"].as_str().unwrap();
    assert!(!msgid.contains(m), "{msgid}");

    // The same id again: 422, nothing created.
    let res = post_draft(&app, &alice, body.clone()).await;
    let res = res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.error_message().contains("message_id not unique"),
        "{}",
        res.text()
    );
    assert_eq!(list(&app, &alice, "is_draft=true").await["total"], 1);

    // Not a UUID: 422. Absent or empty: an id of the server's making.
    for bad in [json!("not-a-uuid"), json!("3b241101-e2bb-4255-8caf")] {
        let mut body = body.clone();
        body["message_id"] = bad;
        post_draft(&app, &alice, body)
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
    for absent in [json!(null), json!("")] {
        let mut body = body.clone();
        body["message_id"] = absent;
        let res = post_draft(&app, &alice, body).await;
        let id = TestApp::location_id(&res.assert_status(StatusCode::OK));
        assert_ne!(id, m);
    }
    // Another user may use the same id; each reads their own.
    post_draft(&app, &bob, body)
        .await
        .assert_status(StatusCode::OK);
    let bobs = app
        .get(&format!("/api/v2/messages/{m}"))
        .auth(&bob)
        .send()
        .await;
    assert_eq!(
        bobs.assert_status(StatusCode::OK).json()["user_id"],
        bob.user_id.to_string()
    );
    let alices = app
        .get(&format!("/api/v2/messages/{m}"))
        .auth(&alice)
        .send()
        .await;
    assert_eq!(alices.json()["user_id"], alice.user_id.to_string());
}

/// D2: every parameter but `discussion_id`, `limit`, `offset`, `msg_id`,
/// `range[]` is an equality filter on the message field of that name
/// (`go/ops/messages/messages.go`, `obj/search.go` `FilterQuery`); a name no
/// message has matches nothing; never a 400 for it. The web client asks
/// `discussion_id=D&is_draft=true&limit=1` (`store/modules/message.js`
/// `requestDraft`), and `is_received`, `is_draft` for its timeline filters.
#[tokio::test]
async fn compat_d02_message_list_filters() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let alice = app.user("alice").await;
    let received = app
        .deliver(
            &alice,
            "From: Bob <bob@example.org>\nTo: alice@caliopen.local\nSubject: hello\n\nHi\n",
        )
        .await;
    let d = received.discussion_id.clone();
    // A reply draft lands in the discussion of the received mail.
    let res = post_draft(
        &app,
        &alice,
        json!({"parent_id": received.id.to_string(), "body": "answer"}),
    )
    .await;
    let draft = TestApp::location_id(&res.assert_status(StatusCode::OK));
    let other = post_draft(
        &app,
        &alice,
        json!({"participants": [{"type": "To", "address": "carol@example.org"}], "body": "x"}),
    )
    .await;
    let other = TestApp::location_id(&other.assert_status(StatusCode::OK));

    let l = list(
        &app,
        &alice,
        &format!("discussion_id={d}&is_draft=true&limit=1"),
    )
    .await;
    assert_eq!(l["total"], 1, "{l}");
    assert_eq!(ids(&l), [draft.as_str()]);
    let l = list(
        &app,
        &alice,
        &format!("discussion_id={d}&is_draft=false&limit=1"),
    )
    .await;
    assert_eq!(ids(&l), [received.id.to_string()]);
    assert_eq!(l["total"], 1);

    let l = list(&app, &alice, "is_received=true").await;
    assert_eq!(ids(&l), [received.id.to_string()]);
    let l = list(&app, &alice, "is_draft=true").await;
    assert_eq!(l["total"], 2);
    let mut drafts = ids(&l);
    drafts.sort();
    let mut expected = vec![draft.clone(), other.clone()];
    expected.sort();
    assert_eq!(drafts, expected);
    // Sent: neither received nor draft; none yet.
    let l = list(&app, &alice, "is_received=false&is_draft=false").await;
    assert_eq!(l, json!({"total": 0, "messages": []}));
    let l = list(&app, &alice, "is_unread=true").await;
    assert_eq!(ids(&l), [received.id.to_string()]);
    let l = list(&app, &alice, "is_answered=false&limit=1&offset=2").await;
    assert_eq!(l["total"], 3);
    assert_eq!(ids(&l).len(), 1);

    // No draft in a discussion: an empty list, not a 404.
    let l = list(
        &app,
        &alice,
        "discussion_id=0123456789abcdef&is_draft=true&limit=1",
    )
    .await;
    assert_eq!(l, json!({"total": 0, "messages": []}));
    // A parameter naming no message field matches nothing; never a 400.
    let l = list(&app, &alice, "colour=red").await;
    assert_eq!(l, json!({"total": 0, "messages": []}));
    // `range[]` may repeat; with `msg_id` only.
    list(
        &app,
        &alice,
        &format!("msg_id={draft}&range[]=before&range[]=after"),
    )
    .await;
    for query in [
        format!("msg_id={draft}"),
        "range[]=before".to_owned(),
        "is_draft=maybe".to_owned(),
        "limit=x".to_owned(),
        (0..70)
            .map(|i| format!("p{i}=1"))
            .collect::<Vec<_>>()
            .join("&"),
    ] {
        app.get(&format!("/api/v2/messages?{query}"))
            .auth(&alice)
            .send()
            .await
            .assert_status(StatusCode::BAD_REQUEST);
    }
}

/// D6: a draft drops the keys it does not take, in a creation and in both
/// halves of a patch (`caliopen_main/message/objects/message.py`,
/// `create_draft` / `patch_draft` with `apiV1.strict_patch` false); `message_id`
/// and `parent_id` never cause an error. D5's rule on the draft path: a
/// changed field missing from `current_state` was empty for the client
/// (`web/services/api-patch/index.js` leaves falsy values out).
#[tokio::test]
async fn compat_d06_draft_drops_fields_it_does_not_take() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let res = post_draft(
        &app,
        &alice,
        json!({
            "participants": [{"type": "To", "protocol": "email", "address": TO_BOB, "participant_id": "p1"}],
            "subject": "a",
            "body": "",
            "discussion_id": "stale",
            "attachments": [{"file_name": "x"}],
            "tags": ["important"],
            "date": "2001-01-01T00:00:00Z",
            "colour": 12,
        }),
    )
    .await;
    let id = TestApp::location_id(&res.assert_status(StatusCode::OK));
    let path = format!("/api/v1/messages/{id}");
    let read = || async {
        app.get(&format!("/api/v2/messages/{id}"))
            .auth(&alice)
            .send()
            .await
            .assert_status(StatusCode::OK)
            .json()
    };
    let before = read().await;
    assert_eq!(before["tags"], json!([]));
    assert_eq!(before["attachments"], json!([]));
    assert_ne!(before["discussion_id"], "stale");

    app.patch(&path)
        .auth(&alice)
        .json(&json!({
            "subject": "b",
            "discussion_id": "stale",
            "date": "2001-01-01T00:00:00Z",
            "message_id": id,
            "current_state": {"subject": "a", "discussion_id": "other", "excerpt": "x"},
        }))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let after = read().await;
    assert_eq!(after["subject"], "b");
    assert_eq!(after["discussion_id"], before["discussion_id"]);

    // The body was empty: the client leaves it out of `current_state`.
    app.patch(&path)
        .auth(&alice)
        .json(&json!({"body": "now some text", "current_state": {}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(read().await["body"], "now some text");
    // It is not empty any more: the same patch is a conflict.
    app.patch(&path)
        .auth(&alice)
        .json(&json!({"body": "other text", "current_state": {}}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    assert_eq!(read().await["body"], "now some text");
}

/// D10: a draft's attachments carry `temp_id`, by which the web client's
/// composer downloads and deletes them (`web/store/modules/message.js`
/// `deleteAttachment`); received ones do not (`obj/attachment.go`,
/// `fac/attachment.go`).
#[tokio::test]
async fn compat_d10_draft_attachments_carry_temp_id() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let res = post_draft(
        &app,
        &alice,
        json!({"participants": to_bob(), "body": "see attached"}),
    )
    .await;
    let id = TestApp::location_id(&res.assert_status(StatusCode::OK));
    let location = format!("/api/v2/messages/{id}");
    let res = app
        .post(&format!("{location}/attachments"))
        .auth(&alice)
        .multipart("attachment", "notes.txt", "text/plain", b"some notes")
        .send()
        .await;
    let temp_id = res.json()["temp_id"].as_str().unwrap().to_owned();
    let m = app.get(&location).auth(&alice).send().await.json();
    let a = &m["attachments"][0];
    assert_eq!(a["temp_id"], temp_id.as_str());
    assert_eq!(a["file_name"], "notes.txt");
    assert_eq!(a["content_type"], "text/plain");
    assert_eq!(a["size"], 10);
    assert_eq!(a["is_inline"], false);
    let url = format!("{location}/attachments/{temp_id}");
    let got = app.get(&url).auth(&alice).unchecked().send().await;
    assert_eq!(got.assert_status(StatusCode::OK).bytes, b"some notes");
    let gone = app.delete(&url).auth(&alice).send().await;
    assert!(gone.status.is_success(), "{}", gone.text());
    app.get(&format!("{location}/attachments/99"))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

/// D15: a draft's `privacy_features` are kept as the client set them, values
/// as strings (`caliopen_main/message/objects/message.py` keeps
/// `privacy_features` in drafts; the web client's encryption middleware sets
/// `message_encrypted: "True"`, `message_encryption_method: "pgp"`), in a
/// creation and in a patch; empty values dropped.
#[tokio::test]
async fn compat_d15_draft_privacy_features_are_kept() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let res = post_draft(
        &app,
        &alice,
        json!({
            "participants": to_bob(),
            "body": "-----BEGIN PGP MESSAGE-----",
            "privacy_features": {"message_encrypted": "True", "message_encryption_method": "pgp", "empty": ""},
        }),
    )
    .await;
    let id = TestApp::location_id(&res.assert_status(StatusCode::OK));
    let location = format!("/api/v2/messages/{id}");
    let m = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(
        m["privacy_features"],
        json!({"message_encrypted": "True", "message_encryption_method": "pgp"})
    );
    assert_eq!(m["pi_message"]["content"], 50);

    app.patch(&format!("/api/v1/messages/{id}"))
        .auth(&alice)
        .json(&json!({
            "privacy_features": {"message_encrypted": false, "message_encryption_method": null},
            "current_state": {"privacy_features": m["privacy_features"]},
        }))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let m = app.get(&location).auth(&alice).send().await.json();
    assert_eq!(m["privacy_features"], json!({"message_encrypted": "False"}));
}

/// D19: lists are ordered by `date_sort`, newest first (`idx/messages.go`,
/// `Sort("date_sort", false)`), whatever ids clients chose: a discussion's,
/// every filtered list and the unfiltered one (core's by-date index), paged by
/// `offset`/`limit`; a draft saved again moves to its new `date_sort`
/// (`caliopen_main/message/objects/message.py` `patch_draft` sets the dates
/// anew), a deleted one leaves the list.
#[tokio::test]
async fn compat_d19_lists_follow_date_sort_not_ids() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let high = "ffffffff-ffff-4fff-bfff-ffffffffffff";
    let low = "00000000-0000-4000-8000-000000000000";
    for id in [high, low] {
        post_draft(
            &app,
            &alice,
            json!({"message_id": id, "participants": to_bob(), "body": id}),
        )
        .await
        .assert_status(StatusCode::OK);
    }
    let d = app
        .get(&format!("/api/v2/messages/{low}"))
        .auth(&alice)
        .send()
        .await
        .json()["discussion_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let in_discussion = list(&app, &alice, &format!("discussion_id={d}")).await;
    assert_eq!(ids(&in_discussion), [low, high]);
    let all = list(&app, &alice, "is_answered=false").await;
    assert_eq!(ids(&all), [low, high]);
    let drafts = list(&app, &alice, "is_draft=true&limit=1").await;
    assert_eq!(ids(&drafts), [low]);

    let unfiltered = list(&app, &alice, "").await;
    assert_eq!(ids(&unfiltered), [low, high]);
    assert_eq!(unfiltered["total"], 2);
    let second = list(&app, &alice, "offset=1&limit=1").await;
    assert_eq!(ids(&second), [high]);
    assert_eq!(second["total"], 2);
    assert_eq!(
        ids(&list(&app, &alice, "offset=2&limit=1").await),
        Vec::<String>::new()
    );

    app.patch(&format!("/api/v1/messages/{high}"))
        .auth(&alice)
        .json(&json!({"body": "saved again", "current_state": {"body": high}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(ids(&list(&app, &alice, "").await), [high, low]);
    assert_eq!(ids(&list(&app, &alice, "offset=1").await), [low]);

    app.delete(&format!("/api/v1/messages/{high}"))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let left = list(&app, &alice, "").await;
    assert_eq!(ids(&left), [low]);
    assert_eq!(left["total"], 1);
}
