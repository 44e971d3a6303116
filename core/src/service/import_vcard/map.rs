//! What a card's properties mean for a Caliopen contact.
//!
//! | vCard | contact |
//! |---|---|
//! | `FN` | `title` (the display name) |
//! | `N` | `family_name`, `given_name`, `additional_name`, `name_prefix`, `name_suffix` |
//! | `EMAIL` | `emails` (an invalid address is dropped with a warning) |
//! | `TEL` | `phones` (`tel:` URIs of 4.0 keep their URI) |
//! | `ADR`, `LABEL` | `addresses`; a `LABEL` joins the `ADR` of its group, else stands alone |
//! | `ORG`, `TITLE`, `ROLE` | `organizations` (`TITLE` without `ORG`: `infos.title`) |
//! | `IMPP`, `X-JABBER`, `X-SKYPE`, ... | `ims` |
//! | `X-SOCIALPROFILE` | `identities` |
//! | `CATEGORIES` | `groups` |
//! | `NOTE`, `NICKNAME`, `BDAY`, `ANNIVERSARY`, `URL` | `infos` |
//! | `PHOTO` (a URI) | `avatar` |
//! | `KEY` | public keys, added once the contact exists |
//!
//! `TYPE` values give each item its `type` (`home`, `work`, `mobile`, ...), `PREF`
//! its `is_primary`. Values are unescaped (`\n`, `\,`, `\;`, `\\`) and structured
//! values split on their unescaped `;`. Anything else (`UID`, `REV`, `PRODID`,
//! most `X-` extensions) is left out.

use std::collections::BTreeMap;

use base64::Engine as _;

use super::parse::{Property, RawCard};
use crate::model::Contact;
use crate::model::contact::{ContactEmail, Im, Organization, Phone, PostalAddress, SocialIdentity};
use crate::service::contact_keys::NewPublicKey;
use crate::service::validate;

/// A card read into a contact, with the keys to add and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedCard {
    pub contact: Contact,
    pub keys: Vec<NewPublicKey>,
    pub warnings: Vec<String>,
}

/// Instant messaging extensions of 2.1 / 3.0 exporters, and their protocol.
const IM_EXTENSIONS: &[(&str, &str)] = &[
    ("X-JABBER", "xmpp"),
    ("X-GOOGLE-TALK", "xmpp"),
    ("X-GTALK", "xmpp"),
    ("X-SKYPE", "skype"),
    ("X-SKYPE-USERNAME", "skype"),
    ("X-AIM", "aim"),
    ("X-ICQ", "icq"),
    ("X-MSN", "msn"),
    ("X-YAHOO", "ymsgr"),
    ("X-MATRIX", "matrix"),
];

/// Reads a card; `Err` says why it cannot make a contact.
pub fn map_card(card: &RawCard) -> Result<MappedCard, String> {
    let mut out = MappedCard {
        contact: Contact::default(),
        keys: Vec::new(),
        warnings: card.warnings.clone(),
    };
    if !matches!(card.version.as_str(), "" | "2.1" | "3.0" | "4.0") {
        out.warnings.push(format!(
            "VERSION {} is not 2.1, 3.0 or 4.0; read as 4.0",
            card.version
        ));
    }
    let mut labels: Vec<&Property> = Vec::new();
    let mut adr_groups: Vec<(Option<String>, Vec<String>)> = Vec::new();
    let mut titles: Vec<String> = Vec::new();
    let mut roles: Vec<String> = Vec::new();
    for p in &card.properties {
        match p.name.as_str() {
            "FN" if out.contact.title.is_empty() => out.contact.title = text(&p.value),
            "N" => names(&mut out.contact, &p.value),
            "EMAIL" => email(&mut out, p),
            "TEL" => out.contact.phones.push(phone(p)),
            "ADR" => {
                adr_groups.push((p.group.clone(), p.types()));
                out.contact.addresses.push(address(p));
            }
            "LABEL" => labels.push(p),
            "ORG" => out.contact.organizations.push(organization(p)),
            "TITLE" => titles.push(text(&p.value)),
            "ROLE" => roles.push(text(&p.value)),
            "IMPP" => out.contact.ims.push(impp(p)),
            "X-SOCIALPROFILE" => out.contact.identities.push(social(p)),
            "CATEGORIES" => out.contact.groups.extend(list(&p.value)),
            "NOTE" => add_info(&mut out.contact.infos, "note", &text(&p.value)),
            "NICKNAME" => add_info(
                &mut out.contact.infos,
                "nickname",
                &list(&p.value).join(", "),
            ),
            "BDAY" => add_info(&mut out.contact.infos, "birthday", &text(&p.value)),
            "ANNIVERSARY" => add_info(&mut out.contact.infos, "anniversary", &text(&p.value)),
            "URL" => add_info(&mut out.contact.infos, "url", &text(&p.value)),
            "PHOTO" => photo(&mut out, p),
            "KEY" => key(&mut out, p),
            name => {
                if let Some((_, protocol)) = IM_EXTENSIONS.iter().find(|(n, _)| *n == name) {
                    out.contact.ims.push(Im {
                        address: text(&p.value),
                        protocol: (*protocol).into(),
                        kind: kind(p, &[]),
                        is_primary: p.is_pref(),
                        ..Im::default()
                    });
                }
            }
        }
    }
    for label in labels {
        attach_label(&mut out.contact, &adr_groups, label);
    }
    let c = &mut out.contact;
    c.organizations.retain(|o| !o.name.is_empty());
    organization_titles(c, &titles, &roles);
    c.groups.sort();
    c.groups.dedup();
    c.ims.retain(|im| !im.address.is_empty());
    c.phones.retain(|p| !p.number.is_empty());
    c.addresses.retain(|a| {
        [
            &a.street,
            &a.city,
            &a.region,
            &a.postal_code,
            &a.country,
            &a.label,
        ]
        .iter()
        .any(|s| !s.is_empty())
    });
    if out.contact.title.trim().is_empty() {
        out.contact.title = fallback_title(&out.contact);
    }
    if out.contact.title.trim().is_empty() {
        return Err("the card names nobody: it has no FN, N, ORG, EMAIL, TEL or IMPP".into());
    }
    Ok(out)
}

/// A display name when `FN` gave none: the name parts, else an organization,
/// address, phone or account.
fn fallback_title(c: &Contact) -> String {
    let names: Vec<&str> = [c.given_name.as_str(), c.family_name.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    if !names.is_empty() {
        return names.join(" ");
    }
    c.organizations
        .first()
        .map(|o| o.name.clone())
        .or_else(|| c.emails.first().map(|e| e.address.clone()))
        .or_else(|| c.phones.first().map(|p| p.number.clone()))
        .or_else(|| c.ims.first().map(|i| i.address.clone()))
        .unwrap_or_default()
}

fn names(c: &mut Contact, value: &str) {
    let parts = components(value);
    let part = |i: usize| {
        parts
            .get(i)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    c.family_name = part(0);
    c.given_name = part(1);
    c.additional_name = part(2);
    c.name_prefix = part(3);
    c.name_suffix = part(4);
}

fn email(out: &mut MappedCard, p: &Property) {
    let value = text(&p.value);
    let value = value.strip_prefix("mailto:").unwrap_or(&value);
    match validate::email("EMAIL", value) {
        Ok(address) => out.contact.emails.push(ContactEmail {
            address,
            is_primary: p.is_pref(),
            kind: kind(p, &["internet", "x400", "x.400"]),
            ..ContactEmail::default()
        }),
        Err(_) => out.warnings.push(format!(
            "line {}: `{value}` is not a mail address and was left out",
            p.line
        )),
    }
}

fn phone(p: &Property) -> Phone {
    let value = text(&p.value);
    let (number, uri) = match value.strip_prefix("tel:") {
        Some(number) => (number.trim().to_owned(), value.clone()),
        None => (value.trim().to_owned(), String::new()),
    };
    let kind = p
        .types()
        .into_iter()
        .find_map(|t| match t.as_str() {
            "cell" | "mobile" => Some("mobile".to_owned()),
            "home" | "work" | "fax" | "pager" | "text" | "video" => Some(t),
            _ => None,
        })
        .unwrap_or_else(|| "other".into());
    Phone {
        number,
        uri,
        kind,
        is_primary: p.is_pref(),
        ..Phone::default()
    }
}

fn address(p: &Property) -> PostalAddress {
    let parts = components(&p.value);
    let part = |i: usize| {
        parts
            .get(i)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let street: Vec<String> = [part(0), part(1), part(2)]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    PostalAddress {
        street: street.join("\n"),
        city: part(3),
        region: part(4),
        postal_code: part(5),
        country: part(6),
        label: p.param("LABEL").next().map(text).unwrap_or_default(),
        kind: kind(p, &["postal", "parcel", "dom", "intl"]),
        is_primary: p.is_pref(),
        ..PostalAddress::default()
    }
}

/// A `LABEL` goes to the `ADR` of its group (or, without groups, of its
/// `TYPE`s); without one it is an address of its own whose street is its text.
fn attach_label(c: &mut Contact, adr_groups: &[(Option<String>, Vec<String>)], label: &Property) {
    let text = text(&label.value);
    let types = label.types();
    let owner = adr_groups
        .iter()
        .position(|(group, adr_types)| match &label.group {
            Some(g) => group.as_ref() == Some(g),
            None => group.is_none() && !types.is_empty() && *adr_types == types,
        });
    match owner.and_then(|i| c.addresses.get_mut(i)) {
        Some(a) if a.label.is_empty() => a.label = text,
        _ => c.addresses.push(PostalAddress {
            street: text,
            kind: kind(label, &["postal", "parcel", "dom", "intl"]),
            is_primary: label.is_pref(),
            ..PostalAddress::default()
        }),
    }
}

fn organization(p: &Property) -> Organization {
    let parts = components(&p.value);
    let mut parts = parts.into_iter().map(|s| s.trim().to_owned());
    let name = parts.next().unwrap_or_default();
    let department: Vec<String> = parts.filter(|s| !s.is_empty()).collect();
    Organization {
        name,
        department: department.join(", "),
        kind: kind(p, &[]),
        is_primary: p.is_pref(),
        ..Organization::default()
    }
}

/// `TITLE` and `ROLE` describe the person in their (first) organization.
fn organization_titles(c: &mut Contact, titles: &[String], roles: &[String]) {
    match c.organizations.first_mut() {
        Some(org) => {
            org.title = titles.join(", ");
            org.job_description = roles.join(", ");
        }
        None => {
            add_info(&mut c.infos, "title", &titles.join(", "));
            add_info(&mut c.infos, "role", &roles.join(", "));
        }
    }
}

/// `IMPP:xmpp:alice@example.org`: the scheme is the protocol.
fn impp(p: &Property) -> Im {
    let value = text(&p.value);
    let (protocol, address) = match value.split_once(':') {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest.trim_start_matches("//")),
        None => (String::new(), value.as_str()),
    };
    Im {
        address: address.trim().to_owned(),
        protocol,
        kind: kind(p, &[]),
        is_primary: p.is_pref(),
        ..Im::default()
    }
}

/// Apple's `X-SOCIALPROFILE;type=twitter:https://twitter.com/alice` (or `x-user=`).
fn social(p: &Property) -> SocialIdentity {
    let value = text(&p.value);
    let name = p
        .param("X-USER")
        .next()
        .map(str::to_owned)
        .unwrap_or(value.clone());
    let mut infos = BTreeMap::new();
    if name != value {
        infos.insert("url".to_owned(), value);
    }
    SocialIdentity {
        name,
        kind: p.types().into_iter().next().unwrap_or_default(),
        infos,
        ..SocialIdentity::default()
    }
}

fn photo(out: &mut MappedCard, p: &Property) {
    let value = text(&p.value);
    let is_uri = value.starts_with("https://") || value.starts_with("http://");
    if is_uri && value.chars().count() <= 2048 && out.contact.avatar.is_empty() {
        out.contact.avatar = value;
    } else if !is_uri {
        out.warnings
            .push(format!("line {}: an embedded PHOTO was left out", p.line));
    }
}

/// `KEY`: base64 (3.0 `ENCODING=b`, 4.0 `data:` URI) or text (armored) keys are
/// kept to be added; a key given by URL is left out.
fn key(out: &mut MappedCard, p: &Property) {
    let value = p.value.trim();
    let data = if p.binary {
        Some(value.to_owned())
    } else if let Some(rest) = value.strip_prefix("data:") {
        rest.split_once(";base64,").map(|(_, b64)| b64.to_owned())
    } else if value.starts_with("-----BEGIN ") {
        Some(text(value))
    } else {
        None
    };
    let Some(key) = data.filter(|k| !k.is_empty()) else {
        out.warnings.push(format!(
            "line {}: a KEY given by reference was left out",
            p.line
        ));
        return;
    };
    let kind = p.types().into_iter().next().unwrap_or_else(|| "key".into());
    // A key whose base64 does not decode is told apart here, where the line is known.
    if p.binary
        && base64::engine::general_purpose::STANDARD
            .decode(&key)
            .is_err()
    {
        out.warnings.push(format!(
            "line {}: a KEY that is not base64 was left out",
            p.line
        ));
        return;
    }
    out.keys.push(NewPublicKey {
        label: format!("{} key (vCard)", kind.to_ascii_uppercase()),
        key,
    });
}

/// The item's `type`: its first `TYPE` value that says where (home, work, ...),
/// leaving out `pref`, `voice` and the `ignored` technical ones.
fn kind(p: &Property, ignored: &[&str]) -> String {
    p.types()
        .into_iter()
        .find(|t| t != "pref" && t != "voice" && !ignored.contains(&t.as_str()))
        .unwrap_or_default()
}

fn add_info(infos: &mut BTreeMap<String, String>, key: &str, value: &str) {
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    infos
        .entry(key.to_owned())
        .and_modify(|v| {
            v.push('\n');
            v.push_str(value);
        })
        .or_insert_with(|| value.to_owned());
}

/// A text value unescaped.
fn text(value: &str) -> String {
    split_escaped(value, None).remove(0).trim().to_owned()
}

/// The `;`-separated components of a structured value, each unescaped.
fn components(value: &str) -> Vec<String> {
    split_escaped(value, Some(';'))
}

/// A `,`-separated list, unescaped, without empty items.
fn list(value: &str) -> Vec<String> {
    split_escaped(value, Some(','))
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Splits on unescaped `sep` and unescapes `\n`, `\N`, and `\x` as `x`.
fn split_escaped(value: &str, sep: Option<char>) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        let current = out.last_mut().expect("never empty");
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => current.push('\n'),
                Some(other) => current.push(other),
                None => current.push('\\'),
            },
            c if Some(c) == sep => out.push(String::new()),
            c => current.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    fn map(text: &str) -> Result<MappedCard, String> {
        let cards = parse(text.as_bytes()).unwrap();
        map_card(cards[0].as_ref().unwrap())
    }

    #[test]
    fn names_addresses_and_organizations() {
        let m = map(concat!(
            "BEGIN:VCARD\nVERSION:4.0\nFN:Dr. Ana Lima\nN:Lima;Ana;Maria;Dr.;PhD\n",
            "ADR;TYPE=work;PREF=1:;Bldg 2;1 Main St\\, Suite 3;Springfield;IL;62701;USA\n",
            "ORG:Acme;R&D;Labs\nTITLE:Engineer\nROLE:Lead\n",
            "CATEGORIES:friends,work\\,ish,friends\n",
            "NOTE:line one\\nline two\nEND:VCARD"
        ))
        .unwrap();
        let c = &m.contact;
        assert_eq!(c.title, "Dr. Ana Lima");
        assert_eq!(
            (
                c.family_name.as_str(),
                c.given_name.as_str(),
                c.additional_name.as_str()
            ),
            ("Lima", "Ana", "Maria")
        );
        assert_eq!(
            (c.name_prefix.as_str(), c.name_suffix.as_str()),
            ("Dr.", "PhD")
        );
        let a = &c.addresses[0];
        assert_eq!(a.street, "Bldg 2\n1 Main St, Suite 3");
        assert_eq!(
            (a.city.as_str(), a.postal_code.as_str()),
            ("Springfield", "62701")
        );
        assert_eq!((a.kind.as_str(), a.is_primary), ("work", true));
        let o = &c.organizations[0];
        assert_eq!(
            (o.name.as_str(), o.department.as_str()),
            ("Acme", "R&D, Labs")
        );
        assert_eq!(
            (o.title.as_str(), o.job_description.as_str()),
            ("Engineer", "Lead")
        );
        assert_eq!(c.groups, ["friends", "work,ish"]);
        assert_eq!(c.infos["note"], "line one\nline two");
    }

    #[test]
    fn emails_phones_and_accounts() {
        let m = map(concat!(
            "BEGIN:VCARD\nVERSION:3.0\nFN:X\n",
            "EMAIL;TYPE=INTERNET,HOME,PREF:X@Example.ORG\nEMAIL:not an address\n",
            "TEL;TYPE=CELL:+33 6 00\nTEL;VALUE=uri;TYPE=\"voice,work\":tel:+1-555-0100\n",
            "IMPP:xmpp:x@jabber.org\nX-SKYPE:x.skype\n",
            "END:VCARD"
        ))
        .unwrap();
        let c = &m.contact;
        assert_eq!(c.emails.len(), 1);
        assert_eq!(c.emails[0].address, "x@example.org");
        assert_eq!(
            (c.emails[0].kind.as_str(), c.emails[0].is_primary),
            ("home", true)
        );
        assert!(
            m.warnings.iter().any(|w| w.contains("not an address")),
            "{:?}",
            m.warnings
        );
        assert_eq!(
            (c.phones[0].number.as_str(), c.phones[0].kind.as_str()),
            ("+33 6 00", "mobile")
        );
        assert_eq!(c.phones[1].number, "+1-555-0100");
        assert_eq!(c.phones[1].uri, "tel:+1-555-0100");
        assert_eq!(c.phones[1].kind, "work");
        assert_eq!(
            (c.ims[0].protocol.as_str(), c.ims[0].address.as_str()),
            ("xmpp", "x@jabber.org")
        );
        assert_eq!(c.ims[1].protocol, "skype");
    }

    #[test]
    fn titles_fall_back_and_empty_cards_fail() {
        let m = map("BEGIN:VCARD\nN:Doe;John\nEND:VCARD").unwrap();
        assert_eq!(m.contact.title, "John Doe");
        let m = map("BEGIN:VCARD\nORG:Acme\nTITLE:Boss\nEND:VCARD").unwrap();
        assert_eq!(m.contact.title, "Acme");
        let m = map("BEGIN:VCARD\nTITLE:Boss\nEMAIL:a@b.org\nEND:VCARD").unwrap();
        assert_eq!(m.contact.title, "a@b.org");
        assert_eq!(m.contact.infos["title"], "Boss");
        assert!(map("BEGIN:VCARD\nVERSION:3.0\nNOTE:hello\nEND:VCARD").is_err());
    }

    #[test]
    fn keys_photos_and_labels() {
        let m = map(concat!(
            "BEGIN:VCARD\nVERSION:3.0\nFN:K\n",
            "KEY;TYPE=PGP;ENCODING=b:mQENBFxyz0Q=\n",
            "KEY;MEDIATYPE=application/pgp-keys:https://keys.example/k.asc\n",
            "PHOTO;VALUE=uri:https://example.org/k.png\n",
            "home.LABEL:1 Main St\\nSpringfield\n",
            "END:VCARD"
        ))
        .unwrap();
        assert_eq!(m.keys.len(), 1);
        assert_eq!(m.keys[0].key, "mQENBFxyz0Q=");
        assert_eq!(m.keys[0].label, "PGP key (vCard)");
        assert_eq!(m.warnings.len(), 1, "{:?}", m.warnings);
        assert_eq!(m.contact.avatar, "https://example.org/k.png");
        assert_eq!(m.contact.addresses[0].street, "1 Main St\nSpringfield");
    }
}
