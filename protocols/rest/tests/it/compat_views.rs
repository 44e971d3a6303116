//! What message and discussion answers are computed from, checked against the
//! original (docs/api-compatibility.md D7, D14, D20, D21): the date a received
//! mail is ordered by, participants' contacts resolved when answering, the range
//! headers, and a discussion's importance level.

use crate::common;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use common::{Session, TestApp};
use serde_json::{Value, json};

/// Delivers a mail from `from` to `to` with extra header lines `headers`.
async fn mail(
    app: &TestApp,
    to: &Session,
    from: &str,
    subject: &str,
    headers: &str,
) -> caliopen_core::model::Message {
    let user = app.core.user(to.user_id).await.unwrap();
    let raw = format!(
        "From: {from}\nTo: {}\nSubject: {subject}\nMessage-ID: <{}@example.org>\n{headers}\nHello.\n",
        user.local_identity,
        subject.replace(' ', "-"),
    );
    app.deliver(to, &raw).await
}

async fn discussions(app: &TestApp, who: &Session, il: &str) -> Value {
    app.get("/api/v2/discussions?limit=50")
        .auth(who)
        .header("x-caliopen-pi", "0;100")
        .header("x-caliopen-il", il)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json()
}

fn date(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .unwrap_or_else(|| panic!("not an RFC 3339 date: {v}"))
        .to_utc()
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    date(&Value::from(rfc3339))
}

/// D7. The discussion list is ordered and dated by the last message's
/// `date_sort` (`idx/discussions.go`: `DateUpdate` and `LastMessageDate` are
/// the newest message's `date_sort`; `fac/discussions.go` sorts by it), and a
/// received mail's `date_sort` is the date it carries, as the original's parser
/// read it (`caliopen_main/message/parsers/mail.py` `date`: no or an unparsable
/// `Date` → the reception time). Hostile: a `Date` in the future is bounded by
/// the reception, so it cannot pin its discussion to the top.
#[tokio::test]
async fn compat_d07_received_mail_is_ordered_by_its_date() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let alice = app.user("alice").await;
    let a = mail(
        &app,
        &alice,
        "carol@example.org",
        "Dated 2019",
        "Date: Wed, 01 May 2019 10:00:00 +0000\n",
    )
    .await;
    let b = mail(
        &app,
        &alice,
        "dave@example.org",
        "Dated 2018",
        "Date: Mon, 01 Jan 2018 10:00:00 +0000\n",
    )
    .await;
    let list = discussions(&app, &alice, "-10;10").await;
    let ids: Vec<&str> = list["discussions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["discussion_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.discussion_id.as_str(), b.discussion_id.as_str()]);
    let (da, db) = (&list["discussions"][0], &list["discussions"][1]);
    assert_eq!(date(&da["date_update"]), at("2019-05-01T10:00:00Z"));
    assert_eq!(date(&db["date_update"]), at("2018-01-01T10:00:00Z"));
    assert_eq!(da["date_update"], da["last_message_date"]);
    let m = app
        .get(&format!("/api/v2/messages/{}", b.id))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(date(&m["date_sort"]), at("2018-01-01T10:00:00Z"));

    let before = Utc::now();
    let future = mail(
        &app,
        &alice,
        "erin@example.org",
        "Dated 2999",
        "Date: Tue, 01 Jan 2999 10:00:00 +0000\n",
    )
    .await;
    let garbage = mail(
        &app,
        &alice,
        "frank@example.org",
        "Dated garbage",
        &format!("Date: {}\n", "x".repeat(2000)),
    )
    .await;
    let after = Utc::now();
    for m in [&future, &garbage] {
        let sort = m.date_sort;
        assert!(before <= sort && sort <= after, "{}: {sort}", m.subject);
    }
    // The message keeps the date it carries; only the order is bounded.
    assert_eq!(future.date.format("%Y").to_string(), "2999");
    let list = discussions(&app, &alice, "-10;10").await;
    let first = &list["discussions"][0];
    assert_eq!(first["discussion_id"], garbage.discussion_id);
    assert!(date(&first["date_update"]) <= after);
    assert_eq!(
        list["discussions"][1]["discussion_id"],
        future.discussion_id
    );
}

/// The participant of address `address` in `participants`.
fn participant<'a>(participants: &'a Value, address: &str) -> &'a Value {
    participants
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["address"] == address))
        .unwrap_or_else(|| panic!("no participant {address} in {participants}"))
}

/// D14. Participants' `contact_ids` and `label` are looked up when answering
/// (`obj/message.go` `MessagesParticipantsDetails` for `GET /v2/messages` and
/// `GET /v2/messages/{id}`, `DiscussionsParticipantsDetails` for both
/// discussion operations, over `obj/contact.go` `ContactsForParticipants`:
/// `contact_ids` = `[the contact of the address]` or `[]`, `label` = the
/// contact's title when not empty). Hostile: the mail writes the address in
/// capitals; a contact removed again unlinks it.
#[tokio::test]
async fn compat_d14_participants_are_linked_to_contacts_when_answering() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let alice = app.user("alice").await;
    let m = mail(&app, &alice, "Xavier <X@Y.Example>", "Hello there", "").await;
    let d = m.discussion_id.clone();
    let uris = [
        format!("/api/v2/messages/{}", m.id),
        format!("/api/v2/messages?discussion_id={d}"),
        format!("/api/v2/discussions/{d}"),
        "/api/v2/discussions".to_owned(),
    ];
    let participants = |answer: Value| -> Value {
        for list in ["messages", "discussions"] {
            if let Some(first) = answer.get(list) {
                return first[0]["participants"].clone();
            }
        }
        answer["participants"].clone()
    };
    let read_all = || async {
        let mut out = Vec::new();
        for uri in &uris {
            let answer = app
                .get(uri)
                .auth(&alice)
                .send()
                .await
                .assert_status(StatusCode::OK)
                .json();
            out.push(participant(&participants(answer), "x@y.example").clone());
        }
        out
    };
    for p in read_all().await {
        assert_eq!(p["contact_ids"], json!([]), "{p}");
        assert_eq!(p["label"], "Xavier", "{p}");
    }

    let contact = app
        .post("/api/v2/contacts")
        .auth(&alice)
        .json(&json!({
            "given_name": "X",
            "family_name": "Y",
            "emails": [{"address": "x@y.example"}],
        }))
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json()["contact_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let title = app
        .get(&format!("/api/v2/contacts/{contact}"))
        .auth(&alice)
        .send()
        .await
        .json()["title"]
        .clone();
    assert_eq!(title, "X Y");
    for p in read_all().await {
        assert_eq!(p["contact_ids"], json!([contact]), "{p}");
        assert_eq!(p["label"], "X Y", "{p}");
    }

    app.delete(&format!("/api/v2/contacts/{contact}"))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    for p in read_all().await {
        assert_eq!(p["contact_ids"], json!([]), "{p}");
        assert_eq!(p["label"], "Xavier", "{p}");
    }
}

/// Delivers a mail from `from` with importance `level` and `Date` `date`.
async fn leveled(
    app: &TestApp,
    to: &Session,
    from: &str,
    subject: &str,
    level: i8,
    date: &str,
) -> caliopen_core::model::Message {
    let headers = format!("X-Importance: {level}\nDate: {date}\n");
    mail(app, to, from, subject, &headers).await
}

/// D20. The range headers are never refused (`go.server/operations/helpers.go`
/// `GetImportanceLevel`, `GetPrivacyIndex`: a bad end is its default bound,
/// `min > max` → `min = max`), and `X-Caliopen-IL` narrows the discussion list
/// to the messages in range (`fac/discussions.go` `GetDiscussionsList` → the
/// index query with the IL range, `idx/discussions.go`): a discussion with none
/// is not listed, and its counts, last message and date come from those in range.
#[tokio::test]
async fn compat_d20_range_headers_never_refused_and_il_narrows_discussions() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let alice = app.user("alice").await;
    let carol = "carol@example.org";
    let a_high = leveled(
        &app,
        &alice,
        carol,
        "A high",
        5,
        "Wed, 1 Jan 2020 10:00:00 +0000",
    )
    .await;
    let a_low = leveled(
        &app,
        &alice,
        carol,
        "A low",
        -5,
        "Fri, 1 Jan 2021 10:00:00 +0000",
    )
    .await;
    let b = leveled(
        &app,
        &alice,
        "dave@example.org",
        "B",
        -5,
        "Mon, 1 Jun 2020 10:00:00 +0000",
    )
    .await;
    let c = leveled(
        &app,
        &alice,
        "erin@example.org",
        "C",
        0,
        "Sun, 1 Mar 2020 10:00:00 +0000",
    )
    .await;
    let ids = |list: &Value| -> Vec<String> {
        list["discussions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["discussion_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (a, b, c) = (
        a_high.discussion_id.as_str(),
        b.discussion_id.as_str(),
        c.discussion_id.as_str(),
    );

    let all = discussions(&app, &alice, "-10;10").await;
    assert_eq!(ids(&all), [a, b, c]);
    assert_eq!(all["discussions"][0]["total_count"], 2);
    assert_eq!(
        all["discussions"][0]["last_message_id"],
        a_low.id.to_string()
    );

    let high = discussions(&app, &alice, "0;10").await;
    assert_eq!(high["total"], 2, "{high}");
    // C (2020-03) is now newer than A's newest message in range (2020-01).
    assert_eq!(ids(&high), [c, a]);
    let d = &high["discussions"][1];
    assert_eq!(d["total_count"], 1);
    assert_eq!(d["unread_count"], 1);
    assert_eq!(d["importance_level"], 5);
    assert_eq!(d["last_message_id"], a_high.id.to_string());
    assert_eq!(d["last_message_subject"], "A high");
    assert_eq!(date(&d["date_update"]), at("2020-01-01T10:00:00Z"));
    assert_eq!(d["date_update"], d["last_message_date"]);

    let low = discussions(&app, &alice, "-10;-1").await;
    assert_eq!(ids(&low), [a, b]);
    assert_eq!(low["discussions"][0]["importance_level"], -5);
    // min > max → min = max: 2;2, where no message is.
    assert_eq!(discussions(&app, &alice, "5;2").await["total"], 0);
    // A bad max is 10: 5;10, where only A's first message is.
    assert_eq!(ids(&discussions(&app, &alice, "5;-20").await), [a]);

    // Hostile values: the default bound for each bad end, never a 400.
    let ten_kb = format!("1;{}", "9".repeat(10_000));
    for value in [
        "garbage",
        "x;y",
        ";",
        "-99999999999999999999999;99999999999999999999999",
        "1;2;3",
        " 0 ; 10 ",
        ten_kb.as_str(),
    ] {
        let list = discussions(&app, &alice, value).await;
        assert_eq!(ids(&list), [a, b, c], "{value}");
        for uri in [
            "/api/v2/messages",
            "/api/v2/contacts",
            "/api/v2/search?term=A",
        ] {
            app.get(uri)
                .auth(&alice)
                .header("x-caliopen-il", value)
                .header("x-caliopen-pi", value)
                .send()
                .await
                .assert_status(StatusCode::OK);
        }
    }
    let all_messages = app
        .get("/api/v2/messages")
        .auth(&alice)
        .header("x-caliopen-il", "x;-1")
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(all_messages["total"], 2, "-10;-1: {all_messages}");
}

/// D21. A discussion's importance level is the mean of its messages' levels at
/// or above their 90th percentile (nearest rank), truncated
/// (`src/backend/main/go.main/helpers/discussion.go` `ComputeDiscussionIL`,
/// from `idx/discussions.go`), not their maximum: with levels 0 ×8, 3 and 4,
/// the 9th of 10 is 3, and the mean of 3 and 4 is 3.5 → 3. Deleting a message
/// recomputes it from those that remain. Hostile: a qualifier's level beyond
/// the bounds counts as 10.
#[tokio::test]
async fn compat_d21_discussion_importance_is_the_top_decile_mean() {
    let app = TestApp::new().await;
    let _delivery = app.start_delivery();
    let alice = app.user("alice").await;
    let carol = "carol@example.org";
    let mut four = None;
    for (i, level) in [0, 0, 0, 0, 0, 0, 0, 0, 3, 4].into_iter().enumerate() {
        let date = format!("Wed, 1 Jan 2020 10:00:{i:02} +0000");
        four = Some(leveled(&app, &alice, carol, &format!("M{i}"), level, &date).await);
    }
    let four = four.unwrap();
    let uri = format!("/api/v2/discussions/{}", four.discussion_id);
    let read = || async {
        app.get(&uri)
            .auth(&alice)
            .send()
            .await
            .assert_status(StatusCode::OK)
            .json()
    };
    assert_eq!(read().await["importance_level"], 3);
    assert_eq!(
        discussions(&app, &alice, "-10;10").await["discussions"][0]["importance_level"],
        3
    );
    // Without the 4: 0 ×8 and 3 → the 9th of 9 is 3 → 3.
    app.delete(&format!("/api/v1/messages/{}", four.id))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(read().await["importance_level"], 3);
    // 0 ×8, 3 and 120 (counted as 10): the 9th of 10 is 3 → (3 + 10) / 2 = 6.5 → 6.
    leveled(
        &app,
        &alice,
        carol,
        "Loud",
        120,
        "Wed, 1 Jan 2020 11:00:00 +0000",
    )
    .await;
    assert_eq!(read().await["importance_level"], 6);
}
