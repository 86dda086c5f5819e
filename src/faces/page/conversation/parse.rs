//! A message log's body read back into its entries: who said what, when,
//! with which attachments. It reads the layouts mockcrm knows a connector
//! writes: App Connect's built-in connectors' conversation (`Who hh:mm A`
//! entries between `BEGIN` and `END`, `Image:`/`Video:` links), their
//! voicemail and fax logs (one titled link), and core's shared-SMS
//! composer in plain text, Markdown and HTML (`said on`, `left a note on`,
//! `Conversation assigned to`). Pure and total: a body it does not
//! recognise is `None`, never an error or a panic; it decides nothing
//! about how an entry is shown (links are checked where they are drawn).

/// A body read as a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub layout: Layout,
    pub entries: Vec<Entry>,
}

impl Conversation {
    /// How many entries are messages (not notes, assignments or files).
    pub fn messages(&self) -> usize {
        self.entries
            .iter()
            .filter(|entry| entry.kind == EntryKind::Message)
            .count()
    }
}

/// Who wrote the body's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A built-in connector's SMS conversation.
    Conversation,
    /// Core's shared-SMS composer.
    SharedSms,
    Voicemail,
    Fax,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Message,
    /// A shared-SMS thread's internal note.
    Note,
    /// A shared-SMS thread handed to someone.
    Assignment,
    /// A voicemail's recording or a fax's document.
    File,
}

/// One entry, its text as written (unescaped from the body's format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    /// As the body shows it (`09:05 AM`, `2025-10-04 05:52 PM`); `None`
    /// where the layout gives none (assignments, voicemail, fax).
    pub time: Option<String>,
    pub speaker: String,
    pub text: String,
    pub links: Vec<Link>,
}

/// An attachment's title and where it points, unchecked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub title: String,
    pub href: String,
}

/// `body` (in `format`, a MIME type) read as a conversation; `subject`
/// names the caller of a voicemail or fax.
pub fn parse(body: &str, format: &str, subject: &str) -> Option<Conversation> {
    let parsed = if format == "text/html" {
        shared_html(body)
    } else {
        let body = body.replace("\r\n", "\n");
        let markdown = format == "text/markdown";
        file(&body, subject)
            .or_else(|| shared_text(&body, markdown))
            .or_else(|| built_in(&body))
    };
    parsed.filter(|conversation| !conversation.entries.is_empty())
}

const RULE: &str = "------------";

/// The lines between `BEGIN` and its rule and the rule before `END`.
fn between<'a>(body: &'a str, rule: &str) -> Option<&'a str> {
    let open = format!("BEGIN\n{rule}\n");
    let start = body.find(&open)? + open.len();
    let close = format!("{rule}\nEND");
    let end = start + body[start..].rfind(&close)?;
    Some(&body[start..end])
}

/// A built-in connector's conversation: `Who hh:mm A`, the text, any
/// `Image:`/`Video:` lines, a blank line.
fn built_in(body: &str) -> Option<Conversation> {
    if !body.contains("Conversation(") {
        return None;
    }
    let inner = between(body, RULE)?;
    let mut entries: Vec<Entry> = Vec::new();
    let mut blank_before = true;
    for line in inner.lines() {
        match (blank_before, clock_header(line)) {
            (true, Some((speaker, time))) => entries.push(Entry {
                kind: EntryKind::Message,
                time: Some(time.to_owned()),
                speaker: speaker.to_owned(),
                text: String::new(),
                links: Vec::new(),
            }),
            _ => {
                let entry = entries.last_mut()?;
                match attachment(line, &["Image", "Video"]) {
                    Some(link) => entry.links.push(link),
                    None => push_line(&mut entry.text, line),
                }
            }
        }
        blank_before = line.is_empty();
    }
    for entry in &mut entries {
        trim_end_lines(&mut entry.text);
    }
    Some(Conversation {
        layout: Layout::Conversation,
        entries,
    })
}

/// `Jane Contact (+14155550199) 09:05 AM`: the speaker and the time.
fn clock_header(line: &str) -> Option<(&str, &str)> {
    let (speaker, time) = line.rsplit_once(' ')?;
    let (speaker, clock) = speaker.rsplit_once(' ')?;
    let digits = clock.as_bytes();
    let is_clock = digits.len() == 5
        && digits[2] == b':'
        && [0, 1, 3, 4].iter().all(|&i| digits[i].is_ascii_digit());
    (is_clock && matches!(time, "AM" | "PM") && !speaker.is_empty())
        .then(|| (speaker, &line[speaker.len() + 1..]))
}

/// `Title: https://…` for one of `titles`.
fn attachment(line: &str, titles: &[&str]) -> Option<Link> {
    let (title, href) = line.split_once(": ")?;
    (titles.contains(&title) && !href.trim().is_empty() && !href.contains(' ')).then(|| Link {
        title: title.to_owned(),
        href: href.trim().to_owned(),
    })
}

/// A voicemail's or fax's log: its titled link first.
fn file(body: &str, subject: &str) -> Option<Conversation> {
    let first = body.lines().next()?;
    let (layout, title, href) = if let Some(href) = first.strip_prefix("Voicemail recording link: ")
    {
        (Layout::Voicemail, "Recording", href)
    } else if let Some(href) = first.strip_prefix("Fax document link: ") {
        (Layout::Fax, "Fax document", href)
    } else {
        return None;
    };
    let speaker = [
        "Voicemail left by ",
        "Fax document sent to ",
        "Fax document sent from ",
    ]
    .iter()
    .find_map(|lead| subject.strip_prefix(lead))
    .map(|rest| rest.rsplit_once(" - ").map_or(rest, |(name, _)| name))
    .unwrap_or("Unknown");
    Some(Conversation {
        layout,
        entries: vec![Entry {
            kind: EntryKind::File,
            time: None,
            speaker: speaker.to_owned(),
            text: String::new(),
            links: vec![Link {
                title: title.to_owned(),
                href: href.trim().to_owned(),
            }],
        }],
    })
}

/// Core's shared-SMS body in plain text or Markdown.
fn shared_text(body: &str, markdown: bool) -> Option<Conversation> {
    if !body.contains("(customer)") {
        return None;
    }
    let inner = between(body, if markdown { "---" } else { RULE })?;
    let mut entries: Vec<Entry> = Vec::new();
    let mut blank_before = true;
    for line in inner.lines() {
        let header = blank_before
            .then(|| shared_header(line, markdown))
            .flatten();
        match header {
            Some(entry) => entries.push(entry),
            None => {
                let entry = entries.last_mut()?;
                let line = if markdown {
                    unescape_markdown(line.strip_suffix('\\').unwrap_or(line))
                } else {
                    line.to_owned()
                };
                push_line(&mut entry.text, &line);
            }
        }
        blank_before = line.is_empty();
    }
    for entry in &mut entries {
        trim_end_lines(&mut entry.text);
    }
    Some(Conversation {
        layout: Layout::SharedSms,
        entries,
    })
}

fn shared_header(line: &str, markdown: bool) -> Option<Entry> {
    let entry = |kind, speaker: &str, time: Option<&str>| Entry {
        kind,
        time: time.map(str::to_owned),
        speaker: if markdown {
            unescape_markdown(speaker)
        } else {
            speaker.to_owned()
        },
        text: String::new(),
        links: Vec::new(),
    };
    if markdown {
        if let Some(assignee) = line
            .strip_prefix("*Conversation assigned to **")
            .and_then(|rest| rest.strip_suffix("***"))
        {
            return Some(entry(EntryKind::Assignment, assignee, None));
        }
        let rest = line.strip_prefix("**")?.strip_suffix(':')?;
        for (marker, kind) in [
            ("** said on ", EntryKind::Message),
            ("** left a note on ", EntryKind::Note),
        ] {
            if let Some((who, time)) = rest.rsplit_once(marker) {
                return Some(entry(kind, who, Some(time)));
            }
        }
        return None;
    }
    if let Some(assignee) = line.strip_prefix("Conversation assigned to ") {
        return Some(entry(EntryKind::Assignment, assignee, None));
    }
    let rest = line.strip_suffix(':')?;
    for (marker, kind) in [
        (" said on ", EntryKind::Message),
        (" left a note on ", EntryKind::Note),
    ] {
        if let Some((who, time)) = rest.rsplit_once(marker) {
            return Some(entry(kind, who, Some(time)));
        }
    }
    None
}

/// Core's shared-SMS body in HTML: one `<p>` per entry, all text escaped.
fn shared_html(body: &str) -> Option<Conversation> {
    const OPEN: &str = "<div>BEGIN</div><hr>";
    const CLOSE: &str = "<hr><div>END</div>";
    let start = body.find(OPEN)? + OPEN.len();
    let end = start + body[start..].rfind(CLOSE)?;
    let mut entries = Vec::new();
    let mut rest = &body[start..end];
    while !rest.is_empty() {
        let inner = rest.strip_prefix("<p>")?;
        let close = inner.find("</p>")?;
        entries.push(html_entry(&inner[..close])?);
        rest = &inner[close + "</p>".len()..];
    }
    Some(Conversation {
        layout: Layout::SharedSms,
        entries,
    })
}

fn html_entry(inner: &str) -> Option<Entry> {
    if let Some(assignee) = inner
        .strip_prefix("<i>Conversation assigned to <b>")
        .and_then(|rest| rest.strip_suffix("</b></i>"))
    {
        return Some(Entry {
            kind: EntryKind::Assignment,
            time: None,
            speaker: unescape_html(assignee),
            text: String::new(),
            links: Vec::new(),
        });
    }
    let (who, rest) = inner.strip_prefix("<b>")?.split_once("</b> ")?;
    let (header, text) = rest.split_once(":<br>")?;
    let (kind, time) = if let Some(time) = header.strip_prefix("said on ") {
        (EntryKind::Message, time)
    } else {
        (EntryKind::Note, header.strip_prefix("left a note on ")?)
    };
    Some(Entry {
        kind,
        time: Some(unescape_html(time)),
        speaker: unescape_html(who),
        text: unescape_html(&text.replace("<br>", "\n")),
        links: Vec::new(),
    })
}

fn push_line(text: &mut String, line: &str) {
    if !text.is_empty() || !line.is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(line);
    }
}

fn trim_end_lines(text: &mut String) {
    let kept = text.trim_end_matches('\n').len();
    text.truncate(kept);
}

/// Backslash escapes of ASCII punctuation read as the character.
fn unescape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek() {
            Some(&next) if c == '\\' && next.is_ascii_punctuation() => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// The entities core's `escapeHtml` writes, read back.
fn unescape_html(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
