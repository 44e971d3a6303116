//! `POST /v2/imports`: contacts from a vCard file, card by card.

use crate::common;

use axum::http::StatusCode;
use common::TestApp;

const CARDS: &str = "BEGIN:VCARD\r
VERSION:3.0\r
FN:Ada Lovelace\r
N:Lovelace;Ada;;;\r
EMAIL;TYPE=work:ada@example.org\r
TEL;TYPE=home:+44 20 7946 0000\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:4.0\r
FN:Grace Hopper\r
EMAIL:grace@example.org\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
NOTE:a card that names nobody\r
END:VCARD\r
";

#[tokio::test]
async fn a_vcard_file_makes_contacts() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    let res = app
        .post("/api/v2/imports")
        .auth(&alice)
        .multipart("file", "contacts.vcf", "text/vcard", CARDS.as_bytes())
        .send()
        .await
        .assert_status(StatusCode::OK);
    let report = res.json();
    assert_eq!(report["total"], 3, "{report}");
    assert_eq!(report["created"], 2, "{report}");
    assert_eq!(report["failed"], 1);
    assert_eq!(report["cards"][2]["status"], "failed");
    assert!(
        report["cards"][2]["reason"]
            .as_str()
            .unwrap()
            .contains("names nobody"),
        "{report}"
    );
    let ada_id = report["cards"][0]["contact_id"].as_str().unwrap();

    let ada = app
        .get(&format!("/api/v2/contacts/{ada_id}"))
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(ada["title"], "Ada Lovelace");
    assert_eq!(ada["emails"][0]["address"], "ada@example.org");
    let found = app
        .get("/api/v2/contacts?uri=email:grace@example.org")
        .auth(&alice)
        .send()
        .await
        .json();
    assert_eq!(found["total"], 1);

    // Not Bob's.
    app.get(&format!("/api/v2/contacts/{ada_id}"))
        .auth(&bob)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let bobs = app
        .get("/api/v2/contacts?uri=email:grace@example.org")
        .auth(&bob)
        .send()
        .await
        .json();
    assert_eq!(bobs["total"], 0);
}

#[tokio::test]
async fn bad_imports_are_typed() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;

    let only_broken = "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:nobody\r\nEND:VCARD\r\n";
    let res = app
        .post("/api/v2/imports")
        .auth(&alice)
        .multipart("file", "x.vcf", "text/vcard", only_broken.as_bytes())
        .send()
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.error_message().contains("card 1"), "{}", res.text());

    let res = app
        .post("/api/v2/imports")
        .auth(&alice)
        .multipart("file", "x.txt", "text/plain", b"just some text")
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(res.error_message().contains("file"), "{}", res.text());

    let res = app
        .post("/api/v2/imports")
        .auth(&alice)
        .multipart("upload", "x.vcf", "text/vcard", CARDS.as_bytes())
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert!(res.error_message().contains("`file`"), "{}", res.text());

    app.post("/api/v2/imports")
        .auth(&alice)
        .body(CARDS.as_bytes().to_vec(), "text/vcard")
        .send()
        .await
        .assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    app.post("/api/v2/imports")
        .multipart("file", "x.vcf", "text/vcard", CARDS.as_bytes())
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_mbox_is_refused_with_the_command_that_imports_mail() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let mbox = b"From bob@example.org Mon Jan  1 00:00:00 2001\nSubject: hi\n\nhello\n\n";
    let res = app
        .post("/api/v2/imports")
        .auth(&alice)
        .multipart("file", "mail.mbox", "application/mbox", mbox)
        .send()
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.json();
    assert!(body.to_string().contains("caliopen import"), "{body}");
}
