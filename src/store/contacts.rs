//! Contacts: creating them, finding them by id, by the digits of their
//! phone number or by a part of their name, listing them page by page, and
//! checking that a contact an activity names exists in the caller's
//! organisation.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{
    gone_if_orphaned, new_id, now_rfc3339, Contact, ContactFilter, ContactPage, NewContact, Store,
    StoreError,
};

const CONTACT_COLUMNS: &str = "id, name, phone_number, email, type, created_at, seq";

impl Store {
    pub fn create_contact(&mut self, org: i64, new: &NewContact) -> Result<Contact, StoreError> {
        let mut contact = Contact {
            id: new_id("con"),
            number: 0,
            name: new.name.clone(),
            phone_number: new.phone_number.clone(),
            email: new.email.clone(),
            contact_type: new.contact_type.clone(),
            created_at: now_rfc3339(),
        };
        self.conn
            .execute(
                "INSERT INTO contacts
                (id, organisation_id, name, phone_number, phone_digits, email, type, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    contact.id,
                    org,
                    contact.name,
                    contact.phone_number,
                    phone_digits(&contact.phone_number),
                    contact.email,
                    contact.contact_type,
                    contact.created_at
                ],
            )
            .map_err(gone_if_orphaned)?;
        contact.number = self.conn.last_insert_rowid();
        Ok(contact)
    }

    /// The contact of `org` that `id` names: by its id, or else, when it is
    /// a whole number, by its number.
    pub fn contact(&self, org: i64, id: &str) -> Result<Option<Contact>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE organisation_id = ?1 AND id = ?2"
        ))?;
        let by_id = statement
            .query_row(params![org, id], contact_from_row)
            .optional()?;
        match (by_id, id.parse::<i64>()) {
            (Some(contact), _) => Ok(Some(contact)),
            (None, Ok(number)) => self.contact_by_number(org, number),
            (None, Err(_)) => Ok(None),
        }
    }

    /// The contact of `org` with this number.
    pub fn contact_by_number(&self, org: i64, number: i64) -> Result<Option<Contact>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE organisation_id = ?1 AND seq = ?2"
        ))?;
        Ok(statement
            .query_row(params![org, number], contact_from_row)
            .optional()?)
    }

    /// Contacts whose number has the same digits as `phone`, oldest first.
    pub fn contacts_by_phone(&self, org: i64, phone: &str) -> Result<Vec<Contact>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts
             WHERE organisation_id = ?1 AND phone_digits = ?2 ORDER BY seq"
        ))?;
        let rows = statement.query_map(params![org, phone_digits(phone)], contact_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Contacts whose number's digits end with `digits` (a national
    /// number without its country code, as some CRMs' searches are sent),
    /// or equal them as `contacts_by_phone` matches, oldest first. Fewer
    /// than 7 digits match nothing: so short a tail names no one.
    pub fn contacts_with_phone_ending(
        &self,
        org: i64,
        digits: &str,
    ) -> Result<Vec<Contact>, StoreError> {
        let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
        if digits.len() < 7 {
            return Ok(Vec::new());
        }
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts
             WHERE organisation_id = ?1
               AND (phone_digits = ?2 OR substr(phone_digits, -length(?3)) = ?3)
             ORDER BY seq"
        ))?;
        let rows = statement.query_map(
            params![org, phone_digits(&digits), digits],
            contact_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Contacts whose phone number's digits hold `digits` anywhere (a
    /// national number finds the number with its country code, as a CRM's
    /// phone search does), oldest first, at most `limit`; none for no digits.
    pub fn contacts_with_phone_digits(
        &self,
        org: i64,
        digits: &str,
        limit: u32,
    ) -> Result<Vec<Contact>, StoreError> {
        let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return Ok(Vec::new());
        }
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts
             WHERE organisation_id = ?1 AND instr(phone_digits, ?2) > 0 ORDER BY seq LIMIT ?3"
        ))?;
        let rows = statement.query_map(params![org, digits, limit], contact_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Newest first, at most `filter.limit`; with `filter.name`, only the
    /// contacts whose name holds it in any case (Unicode case folding, which
    /// SQLite's own `LIKE` does only for ASCII, so rows are read in order
    /// and matched here, stopping as soon as the page is full).
    pub fn list_contacts(
        &self,
        org: i64,
        filter: &ContactFilter,
    ) -> Result<ContactPage, StoreError> {
        let wanted = filter.name.as_deref().map(str::to_lowercase);
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts
             WHERE organisation_id = ?1 AND seq < ?2 ORDER BY seq DESC"
        ))?;
        let before = filter.before_seq.unwrap_or(i64::MAX);
        let rows = statement.query_map(params![org, before], |row| {
            let contact = contact_from_row(row)?;
            let seq = contact.number;
            Ok((contact, seq))
        })?;
        let mut items = Vec::new();
        let mut last_seq = None;
        for row in rows {
            let (contact, seq) = row?;
            if let Some(wanted) = &wanted {
                if !contact.name.to_lowercase().contains(wanted.as_str()) {
                    continue;
                }
            }
            if items.len() == filter.limit as usize {
                return Ok(ContactPage {
                    items,
                    next_seq: last_seq,
                });
            }
            items.push(contact);
            last_seq = Some(seq);
        }
        Ok(ContactPage {
            items,
            next_seq: None,
        })
    }
}

/// The id of the contact of `org` that `contact_id` names: by its id, or
/// else, when it is written as a whole number, by its number (what the CRM
/// faces show); `UnknownContact` when it names none.
pub(super) fn resolve_contact(
    conn: &Connection,
    org: i64,
    contact_id: &str,
) -> Result<String, StoreError> {
    let by_id: Option<String> = conn
        .prepare_cached("SELECT id FROM contacts WHERE organisation_id = ?1 AND id = ?2")?
        .query_row(params![org, contact_id], |row| row.get(0))
        .optional()?;
    let found = match (by_id, contact_id.parse::<i64>()) {
        (Some(id), _) => Some(id),
        (None, Ok(number)) => conn
            .prepare_cached("SELECT id FROM contacts WHERE organisation_id = ?1 AND seq = ?2")?
            .query_row(params![org, number], |row| row.get(0))
            .optional()?,
        (None, Err(_)) => None,
    };
    found.ok_or_else(|| StoreError::UnknownContact {
        contact_id: contact_id.to_owned(),
    })
}

/// The digits a phone number is matched on: formatting is dropped and a
/// 10-digit (North American) number gets its implied country code.
pub fn phone_digits(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 10 {
        format!("1{digits}")
    } else {
        digits
    }
}

fn contact_from_row(row: &Row) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: row.get(0)?,
        name: row.get(1)?,
        phone_number: row.get(2)?,
        email: row.get(3)?,
        contact_type: row.get(4)?,
        created_at: row.get(5)?,
        number: row.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{acme, memory};
    use crate::store::Seed;

    #[test]
    fn formatted_and_bare_numbers_match() {
        let expected = "14155550199";
        for raw in [
            "+1 (415) 555-0199",
            "415-555-0199",
            "+14155550199",
            "1.415.555.0199",
        ] {
            assert_eq!(phone_digits(raw), expected, "{raw}");
        }
        assert_eq!(phone_digits("+44 20 7946 0958"), "442079460958");
    }

    #[test]
    fn a_national_number_finds_its_contact_and_a_short_tail_finds_none() {
        let mut store = memory();
        let org = acme(&store);
        let london = store
            .create_contact(
                org,
                &NewContact {
                    name: "Ada London".into(),
                    phone_number: "+44 20 7946 0958".into(),
                    email: None,
                    contact_type: None,
                },
            )
            .expect("created");
        let found = |digits: &str| {
            store
                .contacts_with_phone_ending(org, digits)
                .expect("query")
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(found("2079460958"), vec![london.name.clone()]);
        assert_eq!(found("(415) 555-0199"), vec!["Jane Contact".to_owned()]);
        assert_eq!(found("+14155550199"), vec!["Jane Contact".to_owned()]);
        assert!(found("0199").is_empty(), "too short to name anyone");
        assert!(found("9999999999").is_empty());
    }

    #[test]
    fn the_default_seed_gives_numbered_contacts_and_seeding_twice_changes_nothing() {
        let mut store = memory();
        let org = acme(&store);
        let contact = store.contact(org, "contact-1").expect("query");
        assert_eq!(contact.map(|c| c.name), Some("Jane Contact".to_owned()));
        store.apply_seed(&Seed::default_seed()).expect("reseed");
        let contacts = store.contacts_by_phone(org, "415-555-0199").expect("query");
        assert_eq!(contacts.len(), 1);
    }

    #[test]
    fn names_match_on_any_case_and_pages_walk_every_match() {
        let mut store = memory();
        let org = acme(&store);
        for name in ["ZOË Ångström", "zoë b", "Bob", "Zoë C"] {
            store
                .create_contact(
                    org,
                    &NewContact {
                        name: name.into(),
                        phone_number: "+14155550100".into(),
                        email: None,
                        contact_type: None,
                    },
                )
                .expect("create");
        }
        let mut names = Vec::new();
        let mut before_seq = None;
        loop {
            let page = store
                .list_contacts(
                    org,
                    &ContactFilter {
                        name: Some("Zoë".into()),
                        before_seq,
                        limit: 2,
                    },
                )
                .expect("list");
            names.extend(page.items.into_iter().map(|c| c.name));
            match page.next_seq {
                Some(seq) => before_seq = Some(seq),
                None => break,
            }
        }
        assert_eq!(names, ["Zoë C", "zoë b", "ZOË Ångström"]);
        let all = store
            .list_contacts(
                org,
                &ContactFilter {
                    limit: 200,
                    ..ContactFilter::default()
                },
            )
            .expect("list");
        assert_eq!(all.items.len(), 8, "four seeded and four created");
        assert_eq!(all.next_seq, None);
    }

    #[test]
    fn a_national_number_finds_the_contact_with_its_country_code() {
        let store = memory();
        let org = acme(&store);
        let found = store
            .contacts_with_phone_digits(org, "4155550199", 10)
            .expect("query");
        assert_eq!(
            found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["contact-1"]
        );
        assert!(store
            .contacts_with_phone_digits(org, "+", 10)
            .expect("query")
            .is_empty());
        assert!(store
            .contacts_with_phone_digits(org, "9999999", 10)
            .expect("query")
            .is_empty());
    }
}
