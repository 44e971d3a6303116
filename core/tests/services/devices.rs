//! Devices: patch, validation by token, revocation.

use caliopen_core::CoreError;
use caliopen_core::model::device::DeviceStatus;
use caliopen_core::service::auth::DeviceInfo;
use serde_json::json;

use crate::harness::{Node, assert_invalid, assert_not_found, patch};

fn on(device_id: &str) -> DeviceInfo {
    DeviceInfo {
        device_id: device_id.into(),
        ..DeviceInfo::default()
    }
}

#[tokio::test]
async fn devices_are_patched_validated_and_revoked() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    let first = node
        .core
        .login("alice", "password-of-alice", on("laptop-1"))
        .await
        .unwrap();
    assert_eq!(first.device.status, DeviceStatus::Verified);
    let second = node
        .core
        .login("alice", "password-of-alice", on("phone-2"))
        .await
        .unwrap();
    assert_eq!(second.device.status, DeviceStatus::Unverified);
    assert_eq!(node.core.list_devices(alice.id).await.unwrap().len(), 2);

    let rename = patch(json!({"name": "My phone", "type": "smartphone",
        "current_state": {"name": "device phone-2", "type": "other"}}));
    let phone = node
        .core
        .patch_device(alice.id, "phone-2", &rename)
        .await
        .unwrap();
    assert_eq!(
        (phone.name.as_str(), phone.kind.as_str()),
        ("My phone", "smartphone")
    );
    assert!(matches!(
        node.core.patch_device(alice.id, "phone-2", &rename).await,
        Err(CoreError::Conflict(_))
    ));
    let bad_type = patch(json!({"type": "toaster", "current_state": {"type": "smartphone"}}));
    assert_invalid(
        node.core.patch_device(alice.id, "phone-2", &bad_type).await,
        "type",
    );
    let no_name = patch(json!({"name": " ", "current_state": {"name": "My phone"}}));
    assert_invalid(
        node.core.patch_device(alice.id, "phone-2", &no_name).await,
        "name",
    );
    let status = patch(json!({"status": "verified", "current_state": {"status": "unverified"}}));
    assert_invalid(
        node.core.patch_device(alice.id, "phone-2", &status).await,
        "status",
    );

    let validation = node
        .core
        .request_device_validation(alice.id, "phone-2")
        .await
        .unwrap();
    assert!(validation.token.len() >= 40);
    let validated = node
        .core
        .validate_device(alice.id, &validation.token)
        .await
        .unwrap();
    assert_eq!(validated.status, DeviceStatus::Verified);
    assert_not_found(node.core.validate_device(alice.id, &validation.token).await);
    assert_not_found(node.core.validate_device(alice.id, "made-up").await);
    assert!(matches!(
        node.core
            .request_device_validation(alice.id, "phone-2")
            .await,
        Err(CoreError::Conflict(_))
    ));

    let auth = node
        .core
        .authenticate(alice.id, &second.tokens.access_token, "phone-2")
        .await;
    assert!(auth.is_ok());
    node.core.revoke_device(alice.id, "phone-2").await.unwrap();
    assert!(matches!(
        node.core
            .authenticate(alice.id, &second.tokens.access_token, "phone-2")
            .await,
        Err(CoreError::Unauthenticated(_))
    ));
    assert!(
        node.core
            .authenticate(alice.id, &first.tokens.access_token, "laptop-1")
            .await
            .is_ok()
    );
    assert_eq!(node.core.list_devices(alice.id).await.unwrap().len(), 1);
    assert_not_found(node.core.live_device(alice.id, "phone-2").await);
    assert_not_found(node.core.patch_device(alice.id, "phone-2", &rename).await);
    // Logging in again from a revoked device registers it anew, unverified (the
    // original deleted the record: `fac/devices.go` `DeleteDevice`, then
    // `py/user/user.py` `AuthenticationAPI` created it again).
    let again = node
        .core
        .login("alice", "password-of-alice", on("phone-2"))
        .await
        .unwrap();
    assert_eq!(again.device.status, DeviceStatus::Unverified);
    assert_eq!(node.core.list_devices(alice.id).await.unwrap().len(), 2);
}

/// A login names its device (`py/user/user.py` `AuthenticationAPI`: "No device
/// informations"); a device id is bounded.
#[tokio::test]
async fn a_login_needs_a_device() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    assert_invalid(
        node.core
            .login("alice", "password-of-alice", DeviceInfo::default())
            .await,
        "device",
    );
    assert_invalid(
        node.core
            .login("alice", "password-of-alice", on(&"d".repeat(129)))
            .await,
        "device.device_id",
    );
    assert!(node.core.list_devices(alice.id).await.unwrap().is_empty());
}

/// A new request replaces the device's previous token, which the mail to the
/// recovery address carries (`fac/devices.go` `RequestDeviceValidation`).
#[tokio::test]
async fn a_new_validation_token_replaces_the_previous_one() {
    let node = Node::new().await;
    let alice = node.user("alice").await;
    for device in ["laptop", "phone"] {
        node.core
            .login("alice", "password-of-alice", on(device))
            .await
            .unwrap();
    }
    let first = node
        .core
        .request_device_validation(alice.id, "phone")
        .await
        .unwrap();
    let second = node
        .core
        .request_device_validation(alice.id, "phone")
        .await
        .unwrap();
    let queue = node.core.outbound_queue().await.unwrap();
    let mailed: Vec<String> = {
        let mut out = Vec::new();
        for job in queue
            .iter()
            .filter(|j| j.recipients == [alice.recovery_email.clone()])
        {
            out.push(String::from_utf8(node.core.outbound_raw(job).await.unwrap()).unwrap());
        }
        out
    };
    assert_eq!(mailed.len(), 2, "{mailed:?}");
    assert!(mailed[0].contains(&first.token) && mailed[1].contains(&second.token));
    assert_not_found(node.core.validate_device(alice.id, &first.token).await);
    let device = node
        .core
        .validate_device(alice.id, &second.token)
        .await
        .unwrap();
    assert_eq!(device.status, DeviceStatus::Verified);
}
