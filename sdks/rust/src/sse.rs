//! An incremental server-sent-events parser (the WHATWG rules the stream needs): bytes
//! go in as they arrive, whole events and comments come out. Lines end with LF, CRLF or
//! CR (also when a CRLF is split across two reads); `:` starts a comment; several `data`
//! lines join with `\n`; an event is delivered only at its terminating blank line, so an
//! event cut mid-way by a dropped connection is never delivered.

/// A dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// `event:`, `message` when absent.
    pub(crate) event: String,
    /// The last `id:` seen on the stream so far (SSE's "last event ID").
    pub(crate) id: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub(crate) data: String,
}

/// What one chunk of input produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SseItem {
    Event(SseEvent),
    /// A comment line (`: heartbeat`), without the colon.
    Comment(String),
}

#[derive(Debug, Default)]
pub(crate) struct SseParser {
    line: Vec<u8>,
    /// The previous chunk ended with CR: a LF starting the next one belongs to it.
    after_cr: bool,
    event: Option<String>,
    data: Option<String>,
    last_id: Option<String>,
}

impl SseParser {
    pub(crate) fn new() -> Self {
        SseParser::default()
    }

    /// The last event ID seen (kept across events, as SSE specifies).
    #[cfg(test)]
    pub(crate) fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Feeds bytes; returns the events and comments completed by them.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) -> Vec<SseItem> {
        let mut out = Vec::new();
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while let Some(at) = bytes.iter().position(|b| *b == b'\n' || *b == b'\r') {
            let (head, tail) = bytes.split_at(at);
            self.line.extend_from_slice(head);
            let line = std::mem::take(&mut self.line);
            self.process(&line, &mut out);
            let ending = tail.first().copied();
            bytes = tail.get(1..).unwrap_or_default();
            if ending == Some(b'\r') {
                match bytes.first() {
                    Some(b'\n') => bytes = bytes.get(1..).unwrap_or_default(),
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
        }
        self.line.extend_from_slice(bytes);
        out
    }

    fn process(&mut self, line: &[u8], out: &mut Vec<SseItem>) {
        if line.is_empty() {
            let event = self.event.take();
            if let Some(data) = self.data.take() {
                out.push(SseItem::Event(SseEvent {
                    event: event.unwrap_or_else(|| "message".to_owned()),
                    id: self.last_id.clone(),
                    data,
                }));
            }
            return;
        }
        let text = String::from_utf8_lossy(line);
        if let Some(comment) = text.strip_prefix(':') {
            out.push(SseItem::Comment(comment.strip_prefix(' ').unwrap_or(comment).to_owned()));
            return;
        }
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (&*text, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(items: Vec<SseItem>) -> Vec<SseEvent> {
        items
            .into_iter()
            .filter_map(|item| match item {
                SseItem::Event(event) => Some(event),
                SseItem::Comment(_) => None,
            })
            .collect()
    }

    const EVENT: &str = "event: snapshot\nid: 42\ndata: {\"revision\":42}\ndata: {\"schemaVersion\":1}\n\n";

    #[test]
    fn a_snapshot_event_with_two_data_lines() {
        let mut parser = SseParser::new();
        let got = events(parser.feed(EVENT.as_bytes()));
        assert_eq!(
            got,
            vec![SseEvent {
                event: "snapshot".into(),
                id: Some("42".into()),
                data: "{\"revision\":42}\n{\"schemaVersion\":1}".into()
            }]
        );
        assert_eq!(parser.last_id(), Some("42"));
    }

    #[test]
    fn split_across_every_possible_read_boundary() {
        let bytes = EVENT.as_bytes();
        for cut in 0..=bytes.len() {
            let mut parser = SseParser::new();
            let (a, b) = bytes.split_at(cut);
            let mut got = events(parser.feed(a));
            got.extend(events(parser.feed(b)));
            assert_eq!(got.len(), 1, "cut at {cut}");
            assert_eq!(got[0].data, "{\"revision\":42}\n{\"schemaVersion\":1}", "cut at {cut}");
        }
        // One byte at a time.
        let mut parser = SseParser::new();
        let got: Vec<_> = bytes.iter().flat_map(|b| events(parser.feed(std::slice::from_ref(b)))).collect();
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn crlf_and_cr_line_endings_also_when_split() {
        let crlf = EVENT.replace('\n', "\r\n");
        let bytes = crlf.as_bytes();
        for cut in 0..=bytes.len() {
            let mut parser = SseParser::new();
            let (a, b) = bytes.split_at(cut);
            let mut got = events(parser.feed(a));
            got.extend(events(parser.feed(b)));
            assert_eq!(got.len(), 1, "CRLF cut at {cut}: {got:?}");
            assert_eq!(got[0].data, "{\"revision\":42}\n{\"schemaVersion\":1}");
        }
        let cr = EVENT.replace('\n', "\r");
        let got = events(SseParser::new().feed(cr.as_bytes()));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id.as_deref(), Some("42"));
    }

    #[test]
    fn comments_are_reported_and_do_not_break_events() {
        let mut parser = SseParser::new();
        let items = parser.feed(b": heartbeat\n\ndata: a\n:mid\ndata: b\n\n");
        assert_eq!(
            items,
            vec![
                SseItem::Comment("heartbeat".into()),
                SseItem::Comment("mid".into()),
                SseItem::Event(SseEvent { event: "message".into(), id: None, data: "a\nb".into() }),
            ]
        );
    }

    #[test]
    fn an_event_cut_mid_way_is_not_delivered() {
        let bytes = EVENT.as_bytes();
        // Everything but the final blank line: the connection dropped here.
        let mut parser = SseParser::new();
        assert!(events(parser.feed(&bytes[..bytes.len() - 1])).is_empty());
        let mut parser = SseParser::new();
        assert!(events(parser.feed(&bytes[..20])).is_empty());
    }

    #[test]
    fn fields_without_space_unknown_fields_and_blank_lines_without_data() {
        let mut parser = SseParser::new();
        let got = events(parser.feed(b"retry: 10\nid:7\n\nevent:x\ndata:v\nfoo: bar\ndata\n\n"));
        assert_eq!(got, vec![SseEvent { event: "x".into(), id: Some("7".into()), data: "v\n".into() }]);
    }
}
