//! `mockcrm message log|update FILE`: the reference connector's
//! createMessageLog and updateMessageLog against a running server, on the
//! arguments App Connect's core hands a connector, printing the
//! interface's JSON answer (exit 1 when the message did not go in).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::connector::{CrmArgs, HostTzArgs};
use super::{exit_for, input_name, parse_json, print_json, read_input, runtime, CliError};
use crate::connector::{self, LogOptions};
use crate::interface::{LogFormat, MessageLogInput};

#[derive(Debug, Args)]
pub(super) struct MessageArgs {
    #[command(subcommand)]
    action: MessageAction,
}

#[derive(Debug, Subcommand)]
enum MessageAction {
    /// Run the reference createMessageLog: the message's conversation log,
    /// created, or added to when that conversation and day has one.
    Log(MessageLogArgs),
    /// Run the reference updateMessageLog: the message added to
    /// existingMessageLog's log (skipped when it is there already).
    Update(MessageLogArgs),
}

#[derive(Debug, Args)]
struct MessageLogArgs {
    #[command(flatten)]
    crm: CrmArgs,
    /// Body format of a shared-SMS log (the format core composed it in);
    /// other message logs are plain text, as App Connect's own connectors
    /// write them.
    #[arg(long)]
    format: Option<LogFormat>,
    #[command(flatten)]
    host_tz: HostTzArgs,
    /// createMessageLog or updateMessageLog arguments as JSON (`user`,
    /// `contactInfo`, `message`, `existingMessageLog`, …); `-` or absent
    /// reads stdin.
    file: Option<PathBuf>,
}

pub(super) fn message(args: MessageArgs) -> Result<ExitCode, CliError> {
    let (update, args) = match args.action {
        MessageAction::Log(args) => (false, args),
        MessageAction::Update(args) => (true, args),
    };
    let command = if update {
        "message update"
    } else {
        "message log"
    };
    args.crm.native_only(command)?;
    let path = input_name(args.file.as_deref());
    let what = if update {
        "updateMessageLog input"
    } else {
        "createMessageLog input"
    };
    let mut input: MessageLogInput =
        parse_json(&read_input(args.file.as_deref())?, Path::new(&path), what)?;
    input.auth_header = Some(args.crm.auth_header(input.auth_header.take()));
    let crm = args.crm.client()?;
    let options = LogOptions {
        format: args.format.unwrap_or(LogFormat::Plain),
        host_zone: args.host_tz.resolve()?,
    };
    let runtime = runtime()?;
    if update {
        let output =
            runtime.block_on(async { connector::update_message_log(&crm, &input, options).await });
        print_json(&output)?;
        Ok(exit_for(connector::message_logged(
            output.return_message.as_ref(),
        )))
    } else {
        let output =
            runtime.block_on(async { connector::create_message_log(&crm, &input, options).await });
        print_json(&output)?;
        Ok(exit_for(output.log_id.is_some()))
    }
}
