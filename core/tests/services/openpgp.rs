//! The OpenPGP public key reader (`caliopen_core::openpgp`) against real keys
//! made by GnuPG in the test (`gpg --batch --quick-gen-key`): the fingerprint
//! and size GnuPG reports, armored or binary; and hostile input (every
//! truncation, flipped bytes, lengths past the end, too many packets, oversized
//! text, bad checksums, secret keys, random bytes) refused without a panic.

use caliopen_core::openpgp::{KeyError, MAX_KEY_BYTES, MAX_PACKETS, armor, read_public_key};

use crate::gpg::gpg_key;

#[test]
fn gpg_keys_read_as_gpg_sees_them() {
    for (uid, algo) in [
        ("Bob Doe <Bob@Example.org>", "ed25519"),
        ("rsa@example.org", "rsa2048"),
    ] {
        let key = gpg_key(uid, algo);
        let read = read_public_key(key.armored.as_bytes()).unwrap();
        assert_eq!(read.fingerprint, key.fingerprint, "{algo}");
        assert_eq!(read.fingerprint.len(), 40);
        assert_eq!(read.version, 4);
        assert_eq!(read.bits, key.bits, "{algo}");
        assert_eq!(read.user_ids, vec![uid.to_owned()]);
        assert!(
            read.armored
                .starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----\n")
        );
        // The binary form and our own armor read the same.
        assert_eq!(read_public_key(&key.binary).unwrap(), read);
        assert_eq!(read_public_key(read.armored.as_bytes()).unwrap(), read);
    }
    assert_eq!(gpg_key("r <r@example.org>", "rsa2048").bits, 2048);
}

#[test]
fn every_truncation_is_refused_or_reads_the_same_key() {
    let key = gpg_key("t <t@example.org>", "ed25519");
    let whole = read_public_key(&key.binary).unwrap();
    let mut refused = 0;
    for len in 0..key.binary.len() {
        match read_public_key(&key.binary[..len]) {
            Ok(read) => assert_eq!(read.fingerprint, whole.fingerprint, "cut at {len}"),
            Err(_) => refused += 1,
        }
    }
    // Only cuts between whole packets after the user id can read.
    assert!(refused > key.binary.len() * 9 / 10, "{refused}");
    let armored = key.armored.as_bytes();
    for len in (0..armored.len()).step_by(7) {
        assert!(
            read_public_key(&armored[..len]).is_err(),
            "armor cut at {len}"
        );
    }
}

#[test]
fn flipped_and_random_bytes_never_panic() {
    let key = gpg_key("f <f@example.org>", "ed25519");
    for i in 0..key.binary.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut bytes = key.binary.clone();
            bytes[i] ^= flip;
            let _ = read_public_key(&bytes);
        }
    }
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..2_000 {
        let len = round % 300;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8 | if round % 2 == 0 { 0x80 } else { 0 }
            })
            .collect();
        let _ = read_public_key(&bytes);
        let _ = read_public_key(armor(&bytes).as_bytes());
    }
}

#[test]
fn hostile_packets_and_armor_are_refused() {
    let key = gpg_key("h <h@example.org>", "ed25519");
    // A packet whose length runs past the end (new format, 4-byte length).
    let mut long = key.binary.clone();
    long.extend_from_slice(&[0xcd, 0xff, 0x7f, 0xff, 0xff, 0xff, b'x']);
    assert!(matches!(
        read_public_key(&long),
        Err(KeyError::Packet { .. })
    ));
    // Partial and indeterminate lengths have no place in a key.
    let mut partial = key.binary.clone();
    partial.extend_from_slice(&[0xcd, 0xe1, b'x', b'y']);
    assert!(matches!(
        read_public_key(&partial),
        Err(KeyError::Packet { .. })
    ));
    let mut indeterminate = key.binary.clone();
    indeterminate.extend_from_slice(&[0xb7, b'x']);
    assert!(matches!(
        read_public_key(&indeterminate),
        Err(KeyError::Packet { .. })
    ));
    // Many empty packets (old format, tag 12 trust, length 0).
    let mut many = key.binary.clone();
    for _ in 0..MAX_PACKETS {
        many.extend_from_slice(&[0xb0, 0x00]);
    }
    assert_eq!(read_public_key(&many), Err(KeyError::TooManyPackets));
    // Oversized text.
    let mut huge = key.armored.clone().into_bytes();
    huge.resize(MAX_KEY_BYTES + 1, b'\n');
    assert_eq!(read_public_key(&huge), Err(KeyError::TooLarge));
    // Two keys in one block.
    let mut two = key.binary.clone();
    two.extend_from_slice(&gpg_key("i <i@example.org>", "ed25519").binary);
    assert_eq!(read_public_key(&two), Err(KeyError::SeveralKeys));
    // A checksum that does not match.
    let bad_crc = armor(&key.binary).replace("\n=", "\n=AAAA\n#");
    assert!(read_public_key(bad_crc.as_bytes()).is_err());
    let mut crc = armor(&key.binary);
    let at = crc.rfind("\n=").unwrap() + 2;
    let flipped = if crc.as_bytes()[at] == b'A' { "B" } else { "A" };
    crc.replace_range(at..at + 1, flipped);
    assert_eq!(read_public_key(crc.as_bytes()), Err(KeyError::Checksum));
    // Not a key at all, or a secret one.
    for text in [
        "",
        "hello",
        "-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\n",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n%%%%\n-----END PGP PUBLIC KEY BLOCK-----\n",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ==\n",
    ] {
        assert!(read_public_key(text.as_bytes()).is_err(), "{text}");
    }
    assert_eq!(
        read_public_key(
            b"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nAAAA\n-----END PGP PRIVATE KEY BLOCK-----\n"
        ),
        Err(KeyError::Secret)
    );
    let mut secret = key.binary.clone();
    secret[0] = 0x94 | (secret[0] & 0x03); // old format, tag 5 (secret key), same length
    assert_eq!(read_public_key(&secret), Err(KeyError::Secret));
}
