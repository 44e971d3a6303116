//! OAuth providers: none is configured, and every route says so.

use crate::common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::json;

#[tokio::test]
async fn no_provider_is_configured() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let list = app
        .get("/api/v2/providers")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::OK)
        .json();
    assert_eq!(list, json!({"total": 0, "providers": []}));
    app.get("/api/v2/providers")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    let res = app
        .get("/api/v2/providers/gmail?identifier=alice@gmail.com")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert!(
        res.error_message().contains("no OAuth provider"),
        "{}",
        res.error_message()
    );
    // An unknown parameter is ignored, as the original did (D18).
    app.get("/api/v2/providers/gmail?colour=red")
        .auth(&alice)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get("/api/v2/providers/gmail")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    let res = app
        .get("/api/v2/providers/twitter/callback?code=abc&state=xyz")
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert!(res.error_message().contains("no OAuth provider"));

    let res = app
        .get("/api/v2/test/oauth")
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert!(res.error_message().contains("no OAuth provider"));
}
