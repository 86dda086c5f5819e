//! Bullhorn's search `query` (Lucene syntax), read as far as App Connect's
//! connector writes it: `field:value` and `field:"a phrase"` clauses,
//! `AND`, `OR`, `NOT` (also `A NOT B`, Lucene's "and not"), parentheses,
//! and a trailing `*` for a prefix. A phone field matches on digits (a
//! national number finds the number stored with its country code); any
//! other field on whole words, in any case. Also the `where` of a
//! `query/{entity}` call (`a='x' AND b=1`), as plain equalities.

use std::fmt;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    Term { field: String, value: String },
    And(Box<Query>, Box<Query>),
    Or(Box<Query>, Box<Query>),
    Not(Box<Query>),
}

/// Why a query cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The fields whose values are phone numbers.
pub const PHONE_FIELDS: [&str; 5] = ["phone", "mobile", "phone2", "phone3", "workPhone"];

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Term(String, String),
}

fn tokens(text: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '(' || c == ')' {
            found.push(if c == '(' { Token::Open } else { Token::Close });
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && !"():\"".contains(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if i < chars.len() && chars[i] == ':' {
            i += 1;
            let value = if i < chars.len() && chars[i] == '"' {
                let open = i;
                i += 1;
                let begin = i;
                while i < chars.len() && chars[i] != '"' {
                    i += 1;
                }
                if i == chars.len() {
                    return Err(QueryError(format!(
                        "the phrase opened at character {open} has no closing quote"
                    )));
                }
                let phrase: String = chars[begin..i].iter().collect();
                i += 1;
                phrase
            } else {
                let begin = i;
                while i < chars.len() && !chars[i].is_whitespace() && !"()".contains(chars[i]) {
                    i += 1;
                }
                chars[begin..i].iter().collect()
            };
            if word.is_empty() || value.is_empty() {
                return Err(QueryError(format!(
                    "a clause needs a field and a value (field:value), near character {start}"
                )));
            }
            found.push(Token::Term(word, value));
            continue;
        }
        match word.as_str() {
            "AND" | "&&" => found.push(Token::And),
            "OR" | "||" => found.push(Token::Or),
            "NOT" | "!" => found.push(Token::Not),
            "" => {
                return Err(QueryError(format!(
                    "unexpected {:?} at character {start}",
                    chars[start]
                )))
            }
            other => {
                return Err(QueryError(format!(
                    "{other:?} is not a clause: write field:value (this server reads the \
                     phone and name clauses App Connect sends)"
                )))
            }
        }
    }
    Ok(found)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self) -> Result<Query, QueryError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            let right = self.and()?;
            left = Query::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Query, QueryError> {
        let mut left = self.unary()?;
        loop {
            match self.peek() {
                Some(Token::And) => {
                    self.at += 1;
                    let right = self.unary()?;
                    left = Query::And(Box::new(left), Box::new(right));
                }
                // `A NOT B` and `A B` (Lucene's default here: both).
                Some(Token::Not | Token::Open | Token::Term(..)) => {
                    let right = self.unary()?;
                    left = Query::And(Box::new(left), Box::new(right));
                }
                _ => return Ok(left),
            }
        }
    }

    fn unary(&mut self) -> Result<Query, QueryError> {
        match self.tokens.get(self.at).cloned() {
            Some(Token::Not) => {
                self.at += 1;
                Ok(Query::Not(Box::new(self.unary()?)))
            }
            Some(Token::Open) => {
                self.at += 1;
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(QueryError("a '(' has no matching ')'".into()));
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Term(field, value)) => {
                self.at += 1;
                Ok(Query::Term { field, value })
            }
            Some(other) => Err(QueryError(format!("unexpected {other:?}"))),
            None => Err(QueryError(
                "the query ends where a clause was expected".into(),
            )),
        }
    }
}

impl Query {
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let tokens = tokens(text)?;
        if tokens.is_empty() {
            return Err(QueryError("the query is empty".into()));
        }
        let mut parser = Parser { tokens, at: 0 };
        let query = parser.or()?;
        if parser.at != parser.tokens.len() {
            return Err(QueryError("a ')' has no matching '('".into()));
        }
        Ok(query)
    }

    /// Whether a record matches, `field` giving a field's value (`None`
    /// for a field the record has no value for).
    pub fn matches(&self, field: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Query::Term { field: name, value } => {
                field(name).is_some_and(|held| term_matches(name, &held, value))
            }
            Query::And(left, right) => left.matches(field) && right.matches(field),
            Query::Or(left, right) => left.matches(field) || right.matches(field),
            Query::Not(inner) => !inner.matches(field),
        }
    }

    /// Every clause not under a `NOT`, as (field, value): what narrows the
    /// records worth reading.
    pub fn positive_terms(&self) -> Vec<(&str, &str)> {
        match self {
            Query::Term { field, value } => vec![(field.as_str(), value.as_str())],
            Query::And(left, right) | Query::Or(left, right) => {
                let mut terms = left.positive_terms();
                terms.extend(right.positive_terms());
                terms
            }
            Query::Not(_) => Vec::new(),
        }
    }
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}

fn term_matches(field: &str, held: &str, value: &str) -> bool {
    if PHONE_FIELDS.contains(&field) {
        let wanted = digits(value);
        let held = digits(held);
        return !wanted.is_empty() && held.ends_with(&wanted);
    }
    let (value, prefix) = match value.strip_suffix('*') {
        Some(stem) => (stem, true),
        None => (value, false),
    };
    let wanted = words(value);
    let held = words(held);
    if wanted.is_empty() {
        return prefix;
    }
    held.windows(wanted.len()).any(|window| {
        window.iter().zip(&wanted).enumerate().all(|(i, (h, w))| {
            if prefix && i + 1 == wanted.len() {
                h.starts_with(w.as_str())
            } else {
                h == w
            }
        })
    })
}

/// The equalities of a `query/{entity}` `where` (`username='x' AND
/// masterUserID=5`), as (field, value) with quotes taken off.
pub fn where_clauses(text: &str) -> Result<Vec<(String, String)>, QueryError> {
    let mut found = Vec::new();
    for part in split_and(text) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((field, value)) = part.split_once('=') else {
            return Err(QueryError(format!(
                "{part:?} is not a comparison: write field=value (this server reads equalities \
                 joined by AND)"
            )));
        };
        let value = value.trim();
        let value = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .unwrap_or(value);
        found.push((field.trim().to_owned(), value.to_owned()));
    }
    if found.is_empty() {
        return Err(QueryError(
            "the where is empty: write field=value (joined by AND)".into(),
        ));
    }
    Ok(found)
}

/// `text` cut at every ` AND ` (any case) outside quotes.
fn split_and(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\'' {
            quoted = !quoted;
        }
        if !quoted && i + 5 <= chars.len() {
            let window: String = chars[i..i + 5].iter().collect();
            if window.eq_ignore_ascii_case(" and ") {
                parts.push(std::mem::take(&mut current));
                i += 5;
                continue;
            }
        }
        current.push(chars[i]);
        i += 1;
    }
    parts.push(current);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, phone: &str, status: &str) -> impl Fn(&str) -> Option<String> {
        let (name, phone, status) = (name.to_owned(), phone.to_owned(), status.to_owned());
        move |field: &str| match field {
            "name" => Some(name.clone()),
            "firstName" => name.split_whitespace().next().map(str::to_owned),
            "lastName" => name.split_whitespace().last().map(str::to_owned),
            "phone" => Some(phone.clone()),
            "status" => Some(status.clone()),
            "isDeleted" => Some("false".into()),
            _ => None,
        }
    }

    #[test]
    fn the_connectors_phone_query_finds_the_number_with_its_country_code() {
        let query = Query::parse(
            "(phone:4155550199 OR mobile:4155550199 OR phone2:4155550199 OR phone3:4155550199) \
             AND isDeleted:false NOT status:\"Archive\"",
        )
        .expect("parses");
        assert!(query.matches(&record("Jane Contact", "+14155550199", "Active")));
        assert!(!query.matches(&record("Jane Contact", "+14155550198", "Active")));
        assert!(!query.matches(&record("Jane Contact", "+14155550199", "Archive")));
    }

    #[test]
    fn the_connectors_name_query_matches_whole_names_and_either_part() {
        let query = Query::parse(
            "((name:\"Jane Contact\" AND isDeleted:false) OR (firstName:Jane AND isDeleted:false) \
             OR (lastName:Contact AND isDeleted:false)) NOT status:\"Archive\"",
        )
        .expect("parses");
        assert!(query.matches(&record("Jane Contact", "", "Active")));
        assert!(query.matches(&record("jane doe", "", "Active")));
        assert!(query.matches(&record("Bob Contact", "", "Active")));
        assert!(!query.matches(&record("Janet Contacts", "", "Active")));
        let prefix = Query::parse("name:Jan*").expect("parses");
        assert!(prefix.matches(&record("Janet Contacts", "", "Active")));
    }

    #[test]
    fn bad_queries_say_why() {
        for bad in [
            "",
            "name:\"open",
            "(name:a",
            "name:a)",
            "justaword",
            "name:",
        ] {
            assert!(Query::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn where_clauses_are_equalities() {
        assert_eq!(
            where_clauses("username='crm-user-1' AND isDeleted=false").expect("reads"),
            vec![
                ("username".to_owned(), "crm-user-1".to_owned()),
                ("isDeleted".to_owned(), "false".to_owned())
            ]
        );
        assert_eq!(
            where_clauses("name='A and B'").expect("reads"),
            vec![("name".to_owned(), "A and B".to_owned())]
        );
        assert!(where_clauses("username").is_err());
        assert!(where_clauses("").is_err());
        assert!(where_clauses("  ").is_err());
    }
}
