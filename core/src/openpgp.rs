//! A bounded reader of OpenPGP public keys (RFC 9580), enough to store a
//! contact's key as the original did: its fingerprint, its size in bits, its
//! user ids, and the key again as ASCII armor. No I/O and no cryptography beyond
//! the fingerprint's hash; whether the key is usable is for whoever encrypts or
//! verifies with it (the web client).
//!
//! Every input is hostile: the text is at most [`MAX_KEY_BYTES`], the armor at
//! most [`MAX_ARMOR_HEADERS`] header lines and its CRC-24 checked when present,
//! packets at most [`MAX_PACKETS`], each with an exact length (old and new
//! headers; no partial or indeterminate lengths, which keys never use) that must
//! fit in what is left. Reading never panics; a bad key is a [`KeyError`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Most bytes of key text (armored or binary) read.
pub const MAX_KEY_BYTES: usize = 64 * 1024;
/// Most packets in one key (primary key, user ids, signatures, subkeys).
pub const MAX_PACKETS: usize = 512;
/// Most armor header lines (`Version:`, `Comment:`, ...).
pub const MAX_ARMOR_HEADERS: usize = 16;
/// Most user ids kept.
pub const MAX_USER_IDS: usize = 64;

const BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const END: &str = "-----END PGP PUBLIC KEY BLOCK-----";

/// Why a text is not an OpenPGP public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("is longer than {MAX_KEY_BYTES} bytes")]
    TooLarge,
    #[error("is neither an armored nor a binary OpenPGP key")]
    NotOpenPgp,
    #[error("is a secret key, not a public key")]
    Secret,
    #[error("has malformed armor: {0}")]
    Armor(&'static str),
    #[error("has an armor checksum that does not match its content")]
    Checksum,
    #[error("has a malformed packet {index}: {reason}")]
    Packet { index: usize, reason: &'static str },
    #[error("holds more than {MAX_PACKETS} packets")]
    TooManyPackets,
    #[error("does not start with a public key packet")]
    NoPublicKey,
    #[error("holds more than one key")]
    SeveralKeys,
    #[error("is a version {0} key (versions 4 and 6 are read)")]
    Version(u8),
    #[error("has no user id")]
    NoUserId,
}

/// What a public key says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// The primary key's fingerprint, upper-case hex (40 digits for v4, 64 for v6).
    pub fingerprint: String,
    pub version: u8,
    /// The public-key algorithm id (1 RSA, 17 DSA, 22 EdDSA, ...).
    pub algorithm: u8,
    /// The key's size in bits (the modulus or prime for RSA, DSA, ElGamal; the
    /// curve's for elliptic curves), 0 when the algorithm is unknown.
    pub bits: u32,
    pub user_ids: Vec<String>,
    /// The key's packets as ASCII armor, with its CRC-24.
    pub armored: String,
}

/// Reads one public key (with its user ids, signatures and subkeys) from armored
/// text or binary packets.
pub fn read_public_key(data: &[u8]) -> Result<PublicKeyInfo, KeyError> {
    if data.len() > MAX_KEY_BYTES {
        return Err(KeyError::TooLarge);
    }
    // Armor may come with blank lines around it; binary packets are taken whole
    // (their last byte may well be a space or a newline).
    let trimmed = data.trim_ascii();
    let binary = if trimmed.starts_with(b"-----BEGIN ") {
        let text = std::str::from_utf8(trimmed).map_err(|_| KeyError::Armor("not UTF-8"))?;
        dearmor(text)?
    } else if data.first().is_some_and(|b| b & 0x80 != 0) {
        data.to_vec()
    } else {
        return Err(KeyError::NotOpenPgp);
    };
    let packets = packets(&binary)?;
    let Some(primary) = packets.first() else {
        return Err(KeyError::NoPublicKey);
    };
    match primary.tag {
        6 => {}
        5 | 7 => return Err(KeyError::Secret),
        _ => return Err(KeyError::NoPublicKey),
    }
    let key = primary_key(primary.body)?;
    let mut user_ids = Vec::new();
    for p in &packets[1..] {
        match p.tag {
            6 => return Err(KeyError::SeveralKeys),
            5 | 7 => return Err(KeyError::Secret),
            13 if user_ids.len() < MAX_USER_IDS => {
                user_ids.push(String::from_utf8_lossy(p.body).into_owned());
            }
            _ => {}
        }
    }
    if user_ids.is_empty() {
        return Err(KeyError::NoUserId);
    }
    Ok(PublicKeyInfo {
        fingerprint: key.fingerprint,
        version: key.version,
        algorithm: key.algorithm,
        bits: key.bits,
        user_ids,
        armored: armor(&binary),
    })
}

/// The mail address of a user id (`Name <address>`, or a bare address),
/// lower-case.
pub fn user_id_email(user_id: &str) -> Option<String> {
    let address = match (user_id.rfind('<'), user_id.rfind('>')) {
        (Some(open), Some(close)) if open < close => &user_id[open + 1..close],
        _ => user_id,
    };
    let address = address.trim();
    (address.contains('@') && !address.contains(char::is_whitespace))
        .then(|| address.to_lowercase())
}

/// `bytes` as an armored public key block (RFC 9580 §6.2): 64 base64
/// characters a line, then the CRC-24.
pub fn armor(bytes: &[u8]) -> String {
    let body = STANDARD.encode(bytes);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 128);
    out.push_str(BEGIN);
    out.push_str("\n\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push('=');
    out.push_str(&STANDARD.encode(&crc24(bytes).to_be_bytes()[1..]));
    out.push('\n');
    out.push_str(END);
    out.push('\n');
    out
}

/// The CRC-24 of the armor checksum (RFC 9580 §6.1).
fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00B7_04CE;
    for &b in data {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4CFB;
            }
        }
    }
    crc & 0x00FF_FFFF
}

/// The binary content of an armored public key block.
fn dearmor(text: &str) -> Result<Vec<u8>, KeyError> {
    let mut lines = text.lines().map(str::trim_end);
    match lines.next() {
        Some(BEGIN) => {}
        Some(l) if l.contains("PRIVATE KEY BLOCK") => return Err(KeyError::Secret),
        _ => {
            return Err(KeyError::Armor(
                "the first line is not a public key block's",
            ));
        }
    }
    let mut body = String::new();
    let mut headers = 0;
    let mut in_headers = true;
    let mut checksum = None;
    let mut ended = false;
    for line in lines {
        if line == END {
            ended = true;
            break;
        }
        if checksum.is_some() {
            return Err(KeyError::Armor("text after the checksum"));
        }
        if in_headers {
            if line.is_empty() {
                in_headers = false;
                continue;
            }
            if line.contains(": ") {
                headers += 1;
                if headers > MAX_ARMOR_HEADERS {
                    return Err(KeyError::Armor("too many header lines"));
                }
                continue;
            }
            // No blank line after the BEGIN line: the body starts at once.
            in_headers = false;
        }
        if let Some(crc) = line.strip_prefix('=') {
            checksum = Some(crc.to_owned());
            continue;
        }
        if !line
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        {
            return Err(KeyError::Armor("a body line that is not base64"));
        }
        body.push_str(line);
    }
    if !ended {
        return Err(KeyError::Armor("no END line"));
    }
    let bytes = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| KeyError::Armor("a body that is not base64"))?;
    if let Some(crc) = checksum {
        let given = STANDARD
            .decode(crc.as_bytes())
            .ok()
            .filter(|c| c.len() == 3)
            .ok_or(KeyError::Armor("a malformed checksum"))?;
        if given[..] != crc24(&bytes).to_be_bytes()[1..] {
            return Err(KeyError::Checksum);
        }
    }
    Ok(bytes)
}

/// One packet: its tag and body.
struct Packet<'a> {
    tag: u8,
    body: &'a [u8],
}

/// Splits `data` into packets (RFC 9580 §4.2), every length checked.
fn packets(data: &[u8]) -> Result<Vec<Packet<'_>>, KeyError> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some((&first, after)) = rest.split_first() {
        let index = out.len();
        if index >= MAX_PACKETS {
            return Err(KeyError::TooManyPackets);
        }
        let bad = |reason| KeyError::Packet { index, reason };
        if first & 0x80 == 0 {
            return Err(bad("its header's high bit is clear"));
        }
        let (tag, len, after) = if first & 0x40 != 0 {
            let (len, after) = new_length(after).ok_or(bad("its length is truncated"))?;
            (
                first & 0x3f,
                len.ok_or(bad("a partial length in a key"))?,
                after,
            )
        } else {
            let size = match first & 0x03 {
                0 => 1,
                1 => 2,
                2 => 4,
                _ => return Err(bad("an indeterminate length in a key")),
            };
            let (len, after) = be_number(after, size).ok_or(bad("its length is truncated"))?;
            ((first >> 2) & 0x0f, len, after)
        };
        if tag == 0 {
            return Err(bad("tag 0 is reserved"));
        }
        let len = usize::try_from(len).map_err(|_| bad("its length is too large"))?;
        if len > after.len() {
            return Err(bad("it is longer than what follows"));
        }
        let (body, next) = after.split_at(len);
        out.push(Packet { tag, body });
        rest = next;
    }
    Ok(out)
}

/// A new-format length: `Some(len)`, or `None` for a partial length.
fn new_length(data: &[u8]) -> Option<(Option<u32>, &[u8])> {
    let (&o1, rest) = data.split_first()?;
    match o1 {
        0..=191 => Some((Some(u32::from(o1)), rest)),
        192..=223 => {
            let (&o2, rest) = rest.split_first()?;
            Some((
                Some(((u32::from(o1) - 192) << 8) + u32::from(o2) + 192),
                rest,
            ))
        }
        255 => {
            let (len, rest) = be_number(rest, 4)?;
            Some((Some(len), rest))
        }
        _ => Some((None, rest)),
    }
}

/// A big-endian number of `size` bytes (at most 4).
fn be_number(data: &[u8], size: usize) -> Option<(u32, &[u8])> {
    let bytes = data.get(..size)?;
    let n = bytes.iter().fold(0u32, |n, &b| (n << 8) | u32::from(b));
    Some((n, &data[size..]))
}

struct PrimaryKey {
    fingerprint: String,
    version: u8,
    algorithm: u8,
    bits: u32,
}

/// The fingerprint and size of a public key packet's body (RFC 9580 §5.5.2).
fn primary_key(body: &[u8]) -> Result<PrimaryKey, KeyError> {
    let bad = |reason| KeyError::Packet { index: 0, reason };
    let (&version, rest) = body.split_first().ok_or(bad("the key is empty"))?;
    let fingerprint = match version {
        4 => {
            let len = u16::try_from(body.len()).map_err(|_| bad("a v4 key over 64 KiB"))?;
            let mut hash = Sha1::new();
            hash.update([0x99]);
            hash.update(len.to_be_bytes());
            hash.update(body);
            hex::encode_upper(hash.finalize())
        }
        6 => {
            let len = u32::try_from(body.len()).map_err(|_| bad("a key over 4 GiB"))?;
            let mut hash = Sha256::new();
            hash.update([0x9b]);
            hash.update(len.to_be_bytes());
            hash.update(body);
            hex::encode_upper(hash.finalize())
        }
        v => return Err(KeyError::Version(v)),
    };
    // Creation time (4), algorithm (1); v6 then has the material's length (4).
    let header = if version == 6 { 9 } else { 5 };
    let fields = rest.get(..header).ok_or(bad("the key is truncated"))?;
    let algorithm = fields[4];
    let material = &rest[header..];
    let bits = key_bits(algorithm, material).ok_or(bad("the key material is truncated"))?;
    Ok(PrimaryKey {
        fingerprint,
        version,
        algorithm,
        bits,
    })
}

/// The size of a key from its algorithm and material.
fn key_bits(algorithm: u8, material: &[u8]) -> Option<u32> {
    match algorithm {
        // RSA (n), ElGamal (p), DSA (p): the first MPI.
        1..=3 | 16 | 17 => mpi_bits(material),
        // ECDH, ECDSA, EdDSA (legacy): the curve's OID, then the point.
        18 | 19 | 22 => {
            let (&len, rest) = material.split_first()?;
            let oid = rest.get(..usize::from(len))?;
            match curve_bits(oid) {
                Some(bits) => Some(bits),
                None => mpi_bits(&rest[usize::from(len)..]),
            }
        }
        25 | 27 => Some(255), // X25519, Ed25519
        26 | 28 => Some(448), // X448, Ed448
        _ => Some(0),
    }
}

/// The bit count of the MPI at the start of `data`, checked against its bytes.
fn mpi_bits(data: &[u8]) -> Option<u32> {
    let bits = u16::from_be_bytes([*data.first()?, *data.get(1)?]);
    let bytes = usize::from(bits).div_ceil(8);
    (data.len() >= 2 + bytes).then_some(u32::from(bits))
}

/// The size of a named curve by its OID (RFC 9580 §9.2).
fn curve_bits(oid: &[u8]) -> Option<u32> {
    const CURVES: &[(&[u8], u32)] = &[
        (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07], 256), // NIST P-256
        (&[0x2b, 0x81, 0x04, 0x00, 0x22], 384),                   // NIST P-384
        (&[0x2b, 0x81, 0x04, 0x00, 0x23], 521),                   // NIST P-521
        (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07], 256), // brainpoolP256r1
        (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b], 384), // brainpoolP384r1
        (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d], 512), // brainpoolP512r1
        (&[0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01], 255), // Ed25519 (legacy)
        (
            &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01],
            255,
        ), // Curve25519 (legacy)
        (&[0x2b, 0x65, 0x71], 448),                               // Ed448
        (&[0x2b, 0x65, 0x6f], 448),                               // X448
    ];
    CURVES
        .iter()
        .find(|(known, _)| *known == oid)
        .map(|(_, bits)| *bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc24_of_the_rfc_reference_input() {
        // CRC-24/OpenPGP check value for "123456789".
        assert_eq!(crc24(b"123456789"), 0x21CF02);
    }

    #[test]
    fn lengths_old_and_new() {
        assert_eq!(new_length(&[100]).unwrap().0, Some(100));
        assert_eq!(new_length(&[0xc5, 0xfb]).unwrap().0, Some(1723));
        assert_eq!(new_length(&[0xff, 0, 0, 0x10, 0]).unwrap().0, Some(4096));
        assert_eq!(new_length(&[0xe1]).unwrap().0, None);
        assert!(new_length(&[0xc5]).is_none());
        assert!(new_length(&[0xff, 0, 0]).is_none());
        // Old format, tag 6, two-byte length 3, then 3 bytes: one packet.
        let p = packets(&[0x99, 0, 3, 4, 0, 0]).unwrap();
        assert_eq!((p[0].tag, p[0].body.len()), (6, 3));
        assert!(matches!(
            packets(&[0x9b, 1]),
            Err(KeyError::Packet { index: 0, .. })
        ));
    }

    #[test]
    fn user_id_addresses() {
        assert_eq!(
            user_id_email("Alice Doe <Alice@Example.org>").as_deref(),
            Some("alice@example.org")
        );
        assert_eq!(
            user_id_email("bob@example.org").as_deref(),
            Some("bob@example.org")
        );
        assert_eq!(user_id_email("no address"), None);
        assert_eq!(user_id_email("x <>"), None);
    }
}
