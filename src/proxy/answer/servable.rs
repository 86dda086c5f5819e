//! Which response mappings no answer can satisfy, found when a config is
//! loaded to be served rather than when a request comes: a path App Connect
//! reads from the answer that is not under `body`, two such paths one
//! inside the other (`body.user` and `body.user.name`: the id cannot be a
//! string and hold the name), or an index too large to fill in.
//!
//! `platformAdditionalInfoPaths` may hold other paths (App Connect's own
//! sample keeps all of `body.user` while reading `body.user.username`): the
//! object those paths make is what they keep. Paths that are the same are
//! fine: they share one value (`build.rs`).
//!
//! Pure: a config in, the first problem out.

use super::build::{parts, under_body};
use crate::proxy::config::{mapping_keys, ConfigError, Problem, ProxyConfig, ResponseMapping};
use crate::proxy::{path, route, Operation};

/// The roots of getUserInfo's paths that read App Connect's own arguments.
const USER_INFO_ARGUMENTS: [&str; 4] = ["additionalInfo", "apiKey", "hostname", "platform"];

/// One path the answer must hold.
struct Read<'m> {
    key: String,
    path: &'m str,
    /// Other paths may lie inside it.
    holds_others: bool,
}

fn error(config: &ProxyConfig, op: Operation, at: &str, message: String) -> ConfigError {
    ConfigError {
        file: config.file.clone(),
        path: if at.is_empty() {
            format!("operations.{op}.responseMapping")
        } else {
            format!("operations.{op}.responseMapping.{at}")
        },
        problem: Problem::Unanswerable(message),
    }
}

/// The paths read from the answer itself and from each list item.
fn reads<'m>(op: Operation, map: &'m ResponseMapping) -> (Vec<Read<'m>>, Vec<Read<'m>>) {
    let item_relative: &[&str] = match op {
        Operation::GetUserList => &["idPath", "namePath", "emailPath"],
        _ => &[],
    };
    let mut top = Vec::new();
    let mut items = Vec::new();
    for key in mapping_keys(op) {
        let Some(p) = map.path_if_set(key) else {
            continue;
        };
        let read = Read {
            key: (*key).to_owned(),
            path: p,
            holds_others: false,
        };
        if item_relative.contains(key) {
            items.push(read);
        } else {
            top.push(read);
        }
    }
    if mapping_keys(op).contains(&"item") {
        items.extend(
            map.item_paths()
                .iter()
                .filter(|(_, p)| !p.is_empty())
                .map(|(key, p)| Read {
                    key: format!("item.{key}"),
                    path: p,
                    holds_others: false,
                }),
        );
    }
    if mapping_keys(op).contains(&"platformAdditionalInfoPaths") {
        top.extend(
            map.platform_additional_info_paths()
                .iter()
                .map(|(key, p)| Read {
                    key: format!("platformAdditionalInfoPaths.{key}"),
                    path: p,
                    holds_others: true,
                }),
        );
    }
    (top, items)
}

/// Two paths of one group, one strictly inside the other, where the outer
/// one must hold a value of its own.
fn nested<'r, 'm>(group: &'r [Read<'m>]) -> Option<(&'r Read<'m>, &'r Read<'m>)> {
    group.iter().find_map(|outer| {
        let o = parts(outer.path);
        group
            .iter()
            .find(|inner| {
                let i = parts(inner.path);
                !outer.holds_others && i.len() > o.len() && i[..o.len()] == o[..]
            })
            .map(|inner| (outer, inner))
    })
}

/// The first mapping of a served operation of `config` that no answer can
/// satisfy, as the one error that stops the config from being served.
pub fn check_servable(config: &ProxyConfig) -> Result<(), ConfigError> {
    for op in route::served_operations(config) {
        let Some(map) = config
            .operation(op)
            .and_then(|o| o.response_mapping.as_ref())
        else {
            continue;
        };
        let (mut top, items) = reads(op, map);
        for read in &top {
            if under_body(read.path).is_none() {
                let root = read.path.split('.').next().unwrap_or_default();
                if op == Operation::GetUserInfo && USER_INFO_ARGUMENTS.contains(&root) {
                    continue;
                }
                return Err(error(
                    config,
                    op,
                    &read.key,
                    format!(
                        "{:?} is not under body, so no answer can hold it: App Connect reads it from {{body: <the answer>}} (write body.{})",
                        read.path,
                        read.path.trim_start_matches("$.")
                    ),
                ));
            }
        }
        top.retain(|read| under_body(read.path).is_some());
        for read in top.iter().chain(&items) {
            if let Some(index) = path::too_large_index(read.path) {
                return Err(error(
                    config,
                    op,
                    &read.key,
                    format!(
                        "{:?}: index {index} is more than mockcrm fills in (at most {})",
                        read.path,
                        path::MAX_CREATED_INDEX
                    ),
                ));
            }
        }
        for group in [&top, &items] {
            if let Some((outer, inner)) = nested(group) {
                return Err(error(
                    config,
                    op,
                    "",
                    format!(
                        "{} ({}) and {} ({}): one is inside the other, so no answer can hold both; give each a path of its own",
                        outer.key, outer.path, inner.key, inner.path
                    ),
                ));
            }
        }
    }
    Ok(())
}
