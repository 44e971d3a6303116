//! What message and discussion answers are computed from, checked against the
//! original (docs/api-compatibility.md D7, D14, D20, D21): the date a received
//! mail is ordered by, participants' contacts resolved when answering, the range
//! headers, and a discussion's importance level.

use crate::common;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use common::{Session, TestApp};
use serde_json::Value;

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
