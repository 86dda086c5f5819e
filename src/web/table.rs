//! Route tables as data: rows of a method, an OpenAPI path template and
//! what the row stands for, resolved to that, or to the 405 (with the
//! `Allow` header read off the same rows) or 404 a request earns instead.
//! Every face with a fixed set of routes keeps one, so that a route missing
//! from its table is a 404 by construction and its part of the OpenAPI
//! document can be checked against it.

use warp::http::Method;

/// One row: `path` is an OpenAPI path template, `{name}` standing for one
/// non-empty segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Route<E> {
    pub method: Method,
    pub path: &'static str,
    pub endpoint: E,
}

/// What a table says about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<E> {
    /// `params` are the `{…}` segments, percent-decoded, in order.
    Found {
        endpoint: E,
        params: Vec<String>,
    },
    /// The path exists but not with this method; `allowed` is the `Allow`
    /// header's value.
    WrongMethod {
        allowed: String,
    },
    NotFound,
}

/// The table as one line, `METHOD PREFIXpath, …`: what a face's 404 tells
/// a client it does serve (`x-mockcrm-hint`).
pub fn listing<E>(table: &[Route<E>], prefix: &str) -> String {
    table
        .iter()
        .map(|route| format!("{} {prefix}{}", route.method, route.path))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A path's segments, percent-decoded (invalid UTF-8 replaced), as every
/// route table matches them: `/contact/a%20b` is `["contact", "a b"]`.
pub fn decoded_segments(path: &str) -> Vec<String> {
    path.trim_start_matches('/')
        .split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// The row of `table` a request takes. Within a path, the order of the
/// rows is the order of the `Allow` header.
pub fn resolve<E: Copy>(table: &[Route<E>], method: &Method, path: &str) -> Resolution<E> {
    let segments = decoded_segments(path);
    let mut allowed: Vec<&str> = Vec::new();
    for candidate in table {
        let Some(params) = match_template(candidate.path, &segments) else {
            continue;
        };
        if candidate.method == *method {
            return Resolution::Found {
                endpoint: candidate.endpoint,
                params,
            };
        }
        allowed.push(candidate.method.as_str());
    }
    if allowed.is_empty() {
        Resolution::NotFound
    } else {
        Resolution::WrongMethod {
            allowed: allowed.join(", "),
        }
    }
}

/// The row a mistyped request most likely meant, as `METHOD /template`,
/// among `rows`: the nearest path by edit distance (a template's
/// parameters count as matching the request's segments there), a row with
/// the request's method winning a tie. `None` when nothing is near enough
/// to be a plausible typo.
pub fn closest<'a, E: 'a>(
    rows: impl Iterator<Item = &'a Route<E>>,
    method: &Method,
    path: &str,
) -> Option<String> {
    let path = path.trim_end_matches('/');
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    rows.map(|route| {
        let parts: Vec<&str> = route.path.trim_start_matches('/').split('/').collect();
        // `/activity/{id}` is spelt with the request's own segment, so
        // only the literal parts count towards the distance.
        let spelt: Vec<&str> = parts
            .iter()
            .enumerate()
            .map(|(i, part)| match segments.get(i) {
                Some(segment) if part.starts_with('{') => *segment,
                _ => *part,
            })
            .collect();
        let distance = strsim::levenshtein(path, &format!("/{}", spelt.join("/")));
        let other_method = usize::from(route.method != *method);
        (distance, other_method, route)
    })
    .filter(|(distance, _, route)| *distance > 0 && *distance <= (route.path.len() / 3).max(2))
    .min_by_key(|(distance, other_method, _)| (*distance, *other_method))
    .map(|(_, _, route)| format!("{} {}", route.method, route.path))
}

/// What follows a template part's one parameter (`""` for `{id}`,
/// `".json"` for `{id}.json`), or `None` for a literal part.
fn parameter_suffix(part: &str) -> Option<&str> {
    let rest = part.strip_prefix('{')?;
    let (_, suffix) = rest.split_once('}')?;
    (!suffix.contains(['{', '}', '/'])).then_some(suffix)
}

/// The template's parameters when `segments` fit it.
/// Walks the template without collecting it: every request tries up to
/// every row, so a miss must not allocate.
fn match_template(template: &str, segments: &[String]) -> Option<Vec<String>> {
    let mut parts = template.trim_start_matches('/').split('/');
    let mut params = Vec::new();
    for segment in segments {
        let part = parts.next()?;
        if let Some(suffix) = parameter_suffix(part) {
            // `{id}.json` (Clio's paths) takes `12.json`, its parameter `12`.
            let value = segment.strip_suffix(suffix)?;
            if value.is_empty() {
                return None;
            }
            params.push(value.to_owned());
        } else if part != segment {
            return None;
        }
    }
    parts.next().is_none().then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Row {
        One,
        Many,
    }

    const TABLE: [Route<Row>; 2] = [
        Route {
            method: Method::GET,
            path: "/things.json",
            endpoint: Row::Many,
        },
        Route {
            method: Method::GET,
            path: "/things/{id}.json",
            endpoint: Row::One,
        },
    ];

    #[test]
    fn a_parameter_may_carry_a_suffix() {
        assert_eq!(
            resolve(&TABLE, &Method::GET, "/things/12.json"),
            Resolution::Found {
                endpoint: Row::One,
                params: vec!["12".into()],
            }
        );
        assert_eq!(
            resolve(&TABLE, &Method::GET, "/things.json"),
            Resolution::Found {
                endpoint: Row::Many,
                params: vec![],
            }
        );
        for missing in ["/things/12", "/things/.json", "/things/12.jsonx"] {
            assert_eq!(
                resolve(&TABLE, &Method::GET, missing),
                Resolution::NotFound,
                "{missing}"
            );
        }
    }
}
