//! `mockcrm tenant new|list|delete`: one organisation per CI job on a
//! shared server. `new` prints the tenant's id and key as shell lines to
//! `eval` (`MOCKCRM_ORG`, which scopes the admin commands, and
//! `MOCKCRM_API_KEY`, which the connector commands send), or as JSON.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::admin::ServerArgs;
use super::{print_json, runtime, write_stdout, CliError};
use crate::store::Organisation;

#[derive(Debug, Args)]
pub(super) struct TenantArgs {
    #[command(subcommand)]
    command: TenantCommand,
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create an organisation with one user, a fresh API key and the seed's
    /// contacts; print `export MOCKCRM_ORG=… MOCKCRM_API_KEY=…` lines for
    /// `eval "$(mockcrm tenant new)"`, or JSON.
    New(NewArgs),
    /// List the organisations: tenants and those from the seed.
    List(ListArgs),
    /// Delete a tenant and all its data, journal entries and faults.
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
struct NewArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// A name to tell it by (the CI job's, say); its id when absent.
    #[arg(long)]
    name: Option<String>,
    /// Print {"id", "name", "api_key"} as JSON instead.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ListArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct DeleteArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The tenant's id (org_…); MOCKCRM_ORG when absent, so a job that ran
    /// `eval "$(mockcrm tenant new)"` deletes its own.
    #[arg(env = "MOCKCRM_ORG", value_name = "ID")]
    id: String,
}

pub(super) fn tenant(args: TenantArgs) -> Result<ExitCode, CliError> {
    match args.command {
        TenantCommand::New(args) => {
            let client = args.server.client()?;
            let created = runtime()?.block_on(client.create_tenant(args.name.as_deref()))?;
            if args.json {
                print_json(&created)?;
            } else {
                write_stdout(&format!(
                    "export MOCKCRM_ORG={}\nexport MOCKCRM_API_KEY={}\n",
                    shell_quote(&created.id),
                    shell_quote(&created.api_key)
                ))?;
            }
        }
        TenantCommand::List(args) => {
            let client = args.server.client()?;
            let organisations = runtime()?.block_on(client.tenants())?;
            if args.json {
                print_json(&serde_json::json!({ "items": organisations }))?;
            } else {
                write_stdout(&tenants_table(&organisations))?;
            }
        }
        TenantCommand::Delete(args) => {
            let client = args.server.client()?;
            runtime()?.block_on(client.delete_tenant(&args.id))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `text` as one shell word, whatever it holds.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn tenants_table(organisations: &[Organisation]) -> String {
    let rows: Vec<[&str; 4]> = organisations
        .iter()
        .map(|organisation| {
            [
                organisation.id.as_str(),
                if organisation.seeded {
                    "seed"
                } else {
                    "tenant"
                },
                organisation.created_at.as_str(),
                organisation.name.as_str(),
            ]
        })
        .collect();
    let header = ["ID", "FROM", "CREATED_AT", "NAME"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut table = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            // Writing to a String cannot fail.
            let _ = write!(line, "{cell:<width$}  ");
        }
        table.push_str(line.trim_end());
        table.push('\n');
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_words_survive_the_shell() {
        assert_eq!(shell_quote("org_1"), "'org_1'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn the_table_has_a_row_per_organisation_with_names_last() {
        let table = tenants_table(&[
            Organisation {
                id: "org_a".into(),
                name: "Acme".into(),
                seeded: true,
                created_at: "2026-01-01T00:00:00Z".into(),
            },
            Organisation {
                id: "org_bbbbbbbb".into(),
                name: "CI job 7".into(),
                seeded: false,
                created_at: "2026-01-02T00:00:00Z".into(),
            },
        ]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(lines[1].starts_with("org_a         seed"), "{table}");
        assert!(
            lines[2].ends_with("tenant  2026-01-02T00:00:00Z  CI job 7"),
            "{table}"
        );
    }
}
