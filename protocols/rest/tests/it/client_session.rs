//! The original web client's session when a user reads a new mail and replies
//! in its discussion, request by request as the client makes them
//! (`src/frontend/web_application/src` of CaliOpen/Caliopen v0.27.1), each
//! answer checked for the fields the client reads, with the shapes of the
//! original server (sources cited at each step). Every answer is also checked
//! against the spec (with its client overrides) by the test client.

use crate::common;

use axum::http::StatusCode;
use common::{Session, TestApp};
use serde_json::{Map, Value, json};

/// What the client sends with every request
/// (`web/services/api-client/index.ts`, `web/store/middlewares/axios-middleware.ts`).
fn client_get<'a>(app: &'a TestApp, who: &Session, uri: &str) -> common::Call<'a> {
    app.get(uri)
        .auth(who)
        .header("x-caliopen-il", "-10;10")
        .header("x-caliopen-pi", "0;100")
}

/// The client's draft payload (`web/modules/draftMessage/models.ts`,
/// `mapDraftMessageFormDataToMessage`).
fn draft_payload(
    message_id: &str,
    discussion_id: &str,
    parent_id: &str,
    identity: &str,
    recipients: &Value,
    body: &str,
) -> Map<String, Value> {
    json!({
        "message_id": message_id,
        "discussion_id": discussion_id,
        "subject": "",
        "body": body,
        "parent_id": parent_id,
        "participants": recipients,
        "user_identities": [identity],
    })
    .as_object()
    .unwrap()
    .clone()
}

fn assert_keys(what: &str, v: &Value, keys: &[&str]) {
    for key in keys {
        assert!(v.get(key).is_some(), "{what}: `{key}` missing in {v}");
    }
}

/// Fields of a message the client reads (`web/modules/message/models/Message.ts`).
const MESSAGE_KEYS: &[&str] = &[
    "message_id",
    "discussion_id",
    "participants",
    "subject",
    "body",
    "body_is_plain",
    "date",
    "date_insert",
    "date_sort",
    "is_draft",
    "is_unread",
    "is_received",
    "is_answered",
    "tags",
    "user_identities",
    "privacy_features",
    "pi_message",
    "attachments",
    "excerpt",
    "importance_level",
    "protocol",
    "user_id",
];

/// Reply in a discussion, tag a message by name, read new-mail notifications.
#[tokio::test]
async fn web_client_reply_session() {
    let app = TestApp::new().await;
    app.render_outbound_mail();
    let _delivery = app.start_delivery();
    let alice = app.user("alice").await;
    let received = app
        .deliver(
            &alice,
            "From: Bob <bob@example.org>\nTo: alice@caliopen.local\nSubject: hello\n\nAre you there?\n",
        )
        .await;

    // 1. The notification poller (`notification.worker.js`) sees new mail:
    // `new_message`, `body.size` (go.emails/inbound.go, Notifications/batch.go).
    let notes = client_get(&app, &alice, "/api/v2/notifications")
        .send()
        .await;
    let notes = notes.assert_status(StatusCode::OK).json();
    let fresh: Vec<&Value> = notes["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "new_message")
        .collect();
    assert_eq!(fresh.len(), 1, "{notes}");
    assert_eq!(fresh[0]["body"]["size"], 1);
    let last_notif = fresh[0]["notif_id"].as_str().unwrap().to_owned();

    // 2. The timeline (`web/store/modules/discussion.ts`; shape: go/ops/discussions).
    let list = client_get(&app, &alice, "/api/v2/discussions?limit=20&offset=0")
        .send()
        .await;
    let list = list.assert_status(StatusCode::OK).json();
    assert_eq!(list["total"], 1, "{list}");
    let discussion = &list["discussions"][0];
    assert_keys(
        "discussion",
        discussion,
        &[
            "discussion_id",
            "participants",
            "last_message_id",
            "last_message_subject",
            "excerpt",
            "importance_level",
            "total_count",
            "unread_count",
            "date_update",
        ],
    );
    let d = discussion["discussion_id"].as_str().unwrap().to_owned();
    assert_eq!(discussion["last_message_id"], received.id.to_string());
    assert_eq!(discussion["date_update"], discussion["last_message_date"]);
    assert_eq!(discussion["unread_count"], 1);
    assert_eq!(discussion["last_message_subject"], "hello");

    // 3. Opening it: the discussion's messages (`store/modules/message.js`).
    let uri = format!("/api/v2/messages?discussion_id={d}&limit=20&offset=0");
    let messages = client_get(&app, &alice, &uri)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(messages["total"], 1);
    let parent = &messages["messages"][0];
    assert_keys("message", parent, MESSAGE_KEYS);
    assert_eq!(parent["is_received"], true);
    let parent_id = parent["message_id"].as_str().unwrap().to_owned();
    // Read (`modules/message/actions/setMessageRead.js` ignores the answer).
    let read = app
        .post(&format!("/api/v2/messages/{parent_id}/actions"))
        .auth(&alice);
    let read = read.json(&json!({"actions": ["set_read"]})).send().await;
    assert!(read.status.is_success(), "{}", read.text());

    // 4. Looking up a draft of this discussion (`getDraft.ts`): none, not a 404.
    let uri = format!("/api/v2/messages?discussion_id={d}&is_draft=true&limit=1");
    let none = client_get(&app, &alice, &uri)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(none, json!({"total": 0, "messages": []}));

    // 5. Writing the reply: a client id (`uuidv4()`), which is first looked up
    // (404 = new draft), then created and read back (`saveDraft.ts`,
    // `createMessage.js`; original: `create_draft`).
    let locals = client_get(&app, &alice, "/api/v2/identities/locals")
        .send()
        .await
        .json();
    let identity = locals["local_identities"][0]["identity_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = "5d3c8a36-2f7e-4c1b-9a55-0b7e2f1c4d21";
    let by_id = format!("/api/v2/messages/{m}");
    client_get(&app, &alice, &by_id)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let recipients =
        json!([{"type": "To", "protocol": "email", "address": "bob@example.org", "label": "Bob"}]);
    let draft = draft_payload(m, &d, &parent_id, &identity, &recipients, "Yes");
    let created = app
        .post("/api/v1/messages")
        .auth(&alice)
        .json(&Value::Object(draft.clone()))
        .send()
        .await;
    assert_eq!(
        created.assert_status(StatusCode::OK).json(),
        json!({"location": by_id})
    );
    let stored = client_get(&app, &alice, &by_id)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_keys("draft", &stored, MESSAGE_KEYS);
    assert_eq!(stored["message_id"], m);
    assert_eq!(stored["is_draft"], true);
    assert_eq!(stored["discussion_id"], d.as_str());
    assert_eq!(stored["parent_id"], parent_id.as_str());
    assert_eq!(stored["subject"], "Re: hello");

    // The discussion now has a draft, found as the client looks for it.
    let found = client_get(&app, &alice, &uri).send().await.json();
    assert_eq!(found["total"], 1);
    assert_eq!(found["messages"][0]["message_id"], m);

    // 6. Autosave: the client re-reads the draft, then patches the difference
    // between its form and that answer (`calcSyncDraft`, `updateMessage`).
    let synced: Vec<Value> = stored["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] != "From")
        .cloned()
        .collect();
    let edited = draft_payload(
        m,
        &d,
        &parent_id,
        &identity,
        &json!(synced),
        "Yes, I am here.",
    );
    let patch = common::web_client_patch(&Value::Object(edited), &stored);
    assert!(
        patch.get("body").is_some() && patch["current_state"].get("is_draft").is_some(),
        "{patch}"
    );
    app.patch(&format!("/api/v1/messages/{m}"))
        .auth(&alice)
        .json(&patch)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let saved = client_get(&app, &alice, &by_id).send().await.json();
    assert_eq!(saved["body"], "Yes, I am here.");
    assert_eq!(saved["subject"], "Re: hello");
    assert_eq!(
        found_drafts(&app, &alice, &d).await,
        1,
        "autosave made no other draft"
    );

    // 7. Send (`sendDraft.ts`), then the client reads it again.
    let sent = app
        .post(&format!("/api/v2/messages/{m}/actions"))
        .auth(&alice);
    let sent = sent.json(&json!({"actions": ["send"]})).send().await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
    let after = client_get(&app, &alice, &by_id)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(after["is_draft"], false);
    assert_eq!(after["discussion_id"], d.as_str());
    assert_eq!(found_drafts(&app, &alice, &d).await, 0);
    let uri = format!("/api/v2/messages?discussion_id={d}&is_draft=false&limit=1");
    let last = client_get(&app, &alice, &uri).send().await.json();
    assert_eq!(
        last["messages"][0]["message_id"], m,
        "the newest by date_sort"
    );

    // 8. Tagging the received message by name (`web/modules/message/query.ts`:
    // tag names, `current_state.tags` = the message's tags; original
    // go/ops/tags/tags.go `PatchResourceWithTags`).
    let created = app
        .post("/api/v2/tags")
        .auth(&alice)
        .json(&json!({"label": "Follow up"}))
        .send()
        .await;
    created.assert_status(StatusCode::OK);
    let tags = client_get(&app, &alice, "/api/v2/tags").send().await.json();
    let tag = tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "Follow up")
        .expect("the new tag");
    let name = tag["name"]
        .as_str()
        .expect("tags carry their name")
        .to_owned();
    let message = client_get(&app, &alice, &format!("/api/v2/messages/{parent_id}"))
        .send()
        .await
        .json();
    let mut wanted: Vec<Value> = message["tags"].as_array().unwrap().clone();
    wanted.push(json!(name));
    app.patch(&format!("/api/v2/messages/{parent_id}/tags"))
        .auth(&alice)
        .json(&json!({"tags": wanted, "current_state": {"tags": message["tags"]}}))
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let tagged = client_get(&app, &alice, &format!("/api/v2/messages/{parent_id}"))
        .send()
        .await
        .json();
    assert!(
        tagged["tags"].as_array().unwrap().contains(&json!(name)),
        "{tagged}"
    );
    let one = client_get(&app, &alice, &format!("/api/v2/tags/{name}"))
        .send()
        .await;
    assert_eq!(
        one.assert_status(StatusCode::OK).json()["label"],
        "Follow up"
    );

    // 9. New mail while the session is open: the poller asks from its last
    // notification and gets only the new one.
    let next = app
        .deliver(
            &alice,
            "From: Bob <bob@example.org>\nTo: alice@caliopen.local\nSubject: again\n\nThanks!\n",
        )
        .await;
    let uri = format!("/api/v2/notifications?from={last_notif}");
    let notes = client_get(&app, &alice, &uri)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(notes["total"], 1, "{notes}");
    let n = &notes["notifications"][0];
    assert_eq!(n["type"], "new_message");
    assert_eq!(n["body"]["size"], 1);
    assert_eq!(
        n["body"]["elements"][0]["body"]["message_id"],
        next.id.to_string()
    );
    assert_eq!(
        n["body"]["elements"][0]["body"]["discussion_id"],
        next.discussion_id.as_str()
    );
}

async fn found_drafts(app: &TestApp, who: &Session, discussion: &str) -> u64 {
    let uri = format!("/api/v2/messages?discussion_id={discussion}&is_draft=true");
    client_get(app, who, &uri).send().await.json()["total"]
        .as_u64()
        .unwrap()
}
