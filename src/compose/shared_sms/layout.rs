//! The shape of a shared-SMS body in each format, as
//! `sharedSMSComposer.ts` lays it out: the summary (started, ended,
//! duration), the participants, the owner or receiving call queue, the
//! count, and the entries between `BEGIN` and `END`. Both styles share it;
//! what they put in it (which times, which names, how escaped) is theirs,
//! so every string given here is already written for the format.

use crate::interface::LogFormat;

/// What a body says, ready to be laid out.
pub struct Summary {
    /// "Saturday, October 04, 2025" and "05:52 PM".
    pub started: (String, String),
    pub ended: (String, String),
    /// "0 d 2 h".
    pub duration: String,
    /// Core ends the plain and Markdown duration line with a space.
    pub duration_trailing_space: bool,
    pub customer: String,
    pub agents: Vec<String>,
    pub owner: Option<OwnerLine>,
    pub messages: usize,
    pub notes: usize,
    /// Each entry as `message`, `note` or `assignment` wrote it.
    pub entries: Vec<String>,
}

pub struct OwnerLine {
    pub call_queue: bool,
    pub name: String,
}

/// The subject line.
pub fn subject(format: LogFormat, contact: &str) -> String {
    match format {
        LogFormat::Markdown => format!("**SMS conversation with {contact}**"),
        LogFormat::Plain | LogFormat::Html => format!("SMS conversation with {contact}"),
    }
}

/// "3 messages, 1 note", "0 messages" when there are neither.
fn count(messages: usize, notes: usize) -> String {
    let mut parts = Vec::new();
    if messages > 0 {
        parts.push(format!("{messages} message{}", plural(messages)));
    }
    if notes > 0 {
        parts.push(format!("{notes} note{}", plural(notes)));
    }
    if parts.is_empty() {
        "0 messages".into()
    } else {
        parts.join(", ")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub fn body(format: LogFormat, summary: &Summary) -> String {
    let mut body = String::new();
    let (started_day, started_time) = &summary.started;
    let (ended_day, ended_time) = &summary.ended;
    let space = if summary.duration_trailing_space {
        " "
    } else {
        ""
    };
    let counted = count(summary.messages, summary.notes);
    match format {
        LogFormat::Html => {
            body.push_str("<div><b>Conversation summary</b><br>");
            body.push_str(&format!("Started: {started_day} at {started_time}<br>"));
            body.push_str(&format!("Ended: {ended_day} at {ended_time}<br>"));
            body.push_str(&format!("Duration: {}<br>", summary.duration));
            body.push_str("</div><br>");
            body.push_str("<div><b>Participants</b><ul>");
            body.push_str(&format!("<li>{} (customer)</li>", summary.customer));
            for agent in &summary.agents {
                body.push_str(&format!("<li>{agent}</li>"));
            }
            body.push_str("</ul></div>");
            if let Some(owner) = &summary.owner {
                let label = owner_label(owner);
                body.push_str(&format!("<div>{label}: <b>{}</b></div><br>", owner.name));
            }
            body.push_str(&format!("<div><b>Conversation ({counted})</b></div>"));
            body.push_str("<div>BEGIN</div><hr>");
            for entry in &summary.entries {
                body.push_str(entry);
            }
            body.push_str("<hr><div>END</div>");
        }
        LogFormat::Plain | LogFormat::Markdown => {
            let markdown = format == LogFormat::Markdown;
            let heading = |level: &str, text: &str| {
                if markdown {
                    format!("{level} {text}\n")
                } else {
                    format!("{text}\n")
                }
            };
            body.push_str(&heading("##", "Conversation summary"));
            body.push_str(&format!("Started: {started_day} at {started_time}\n"));
            body.push_str(&format!("Ended: {ended_day} at {ended_time}\n"));
            body.push_str(&format!("Duration: {}{space}\n\n", summary.duration));
            body.push_str(&heading("###", "Participants"));
            body.push_str(&format!("* {} (customer)\n", summary.customer));
            for agent in &summary.agents {
                body.push_str(&format!("* {agent}\n"));
            }
            body.push('\n');
            if let Some(owner) = &summary.owner {
                let label = owner_label(owner);
                if markdown {
                    body.push_str(&format!("{label}: **{}**\n\n", owner.name));
                } else {
                    body.push_str(&format!("{label}: {}\n\n", owner.name));
                }
            }
            body.push_str(&heading("###", &format!("Conversation ({counted})")));
            let rule = if markdown { "---" } else { "------------" };
            body.push_str(&format!("BEGIN\n{rule}\n"));
            for entry in &summary.entries {
                body.push_str(entry);
                body.push('\n');
            }
            body.push_str(&format!("{rule}\nEND"));
        }
    }
    body
}

fn owner_label(owner: &OwnerLine) -> &'static str {
    if owner.call_queue {
        "Receiving call queue"
    } else {
        "Owner"
    }
}

/// "<sender> said on <time>:" and the text.
pub fn message(format: LogFormat, sender: &str, time: &str, text: &str) -> String {
    said(format, sender, "said", time, text)
}

/// "<author> left a note on <time>:" and the text.
pub fn note(format: LogFormat, author: &str, time: &str, text: &str) -> String {
    said(format, author, "left a note", time, text)
}

fn said(format: LogFormat, who: &str, what: &str, time: &str, text: &str) -> String {
    match format {
        LogFormat::Html => format!("<p><b>{who}</b> {what} on {time}:<br>{text}</p>"),
        LogFormat::Markdown => format!("**{who}** {what} on {time}:\n{text}\n"),
        LogFormat::Plain => format!("{who} {what} on {time}:\n{text}\n"),
    }
}

/// "Conversation assigned to <assignee>" (core gives it no time).
pub fn assignment(format: LogFormat, assignee: &str) -> String {
    match format {
        LogFormat::Html => format!("<p><i>Conversation assigned to <b>{assignee}</b></i></p>"),
        LogFormat::Markdown => format!("*Conversation assigned to **{assignee}***\n"),
        LogFormat::Plain => format!("Conversation assigned to {assignee}\n"),
    }
}

/// The formats' moment patterns.
pub const DAY: &str = "dddd, MMMM DD, YYYY";
pub const TIME: &str = "hh:mm A";
pub const ENTRY_TIME: &str = "YYYY-MM-DD hh:mm A";
