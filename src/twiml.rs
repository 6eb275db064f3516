//! A small typed TwiML builder. Every text and attribute goes through quick-xml's
//! writer, which escapes it, so `Smith & <Sons>` always yields well-formed XML.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

#[derive(Debug, Clone, PartialEq)]
pub struct Say {
    pub text: String,
    pub voice: String,
    pub language: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gather {
    pub action: String,
    /// `speech`, `dtmf` or `dtmf speech`.
    pub input: &'static str,
    pub timeout_secs: u32,
    pub speech_timeout: String,
    pub num_digits: Option<u32>,
    pub language: String,
    pub hints: String,
    pub says: Vec<Say>,
}

/// `<Dial>` to one or more numbers; with several, all ring at once and the
/// first to answer takes the call.
#[derive(Debug, Clone, PartialEq)]
pub struct Dial {
    pub action: String,
    pub timeout_secs: u32,
    /// Absent: the caller's own number is shown to whoever answers.
    pub caller_id: Option<String>,
    pub numbers: Vec<String>,
}

/// `<Record>` a message, optionally transcribed.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub action: String,
    pub max_length_secs: u32,
    /// Where the transcription is posted; `None`: not transcribed.
    pub transcribe_callback: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    Say(Say),
    Gather(Gather),
    Dial(Dial),
    Record(Record),
    /// `<Start><Recording/></Start>`: background recording with a status callback.
    StartRecording {
        status_callback: String,
    },
    Pause {
        seconds: u32,
    },
    Hangup,
    /// `<Message>`: a text sent back to whoever texted (messaging webhooks).
    Message(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Response {
    pub verbs: Vec<Verb>,
}

impl Response {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, verb: Verb) -> &mut Self {
        self.verbs.push(verb);
        self
    }

    /// Renders the document, indented for readable snapshots and logs.
    pub fn render(&self) -> String {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        // Writing to a Vec cannot fail; unwraps below only guard that invariant.
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .expect("write to Vec");
        if self.verbs.is_empty() {
            w.write_event(Event::Empty(BytesStart::new("Response")))
                .expect("write to Vec");
        } else {
            w.write_event(Event::Start(BytesStart::new("Response")))
                .expect("write to Vec");
            for verb in &self.verbs {
                write_verb(&mut w, verb);
            }
            w.write_event(Event::End(BytesEnd::new("Response")))
                .expect("write to Vec");
        }
        String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8")
    }
}

fn write_say(w: &mut Writer<Vec<u8>>, say: &Say) {
    let mut start = BytesStart::new("Say");
    if !say.voice.is_empty() {
        start.push_attribute(("voice", say.voice.as_str()));
    }
    if !say.language.is_empty() {
        start.push_attribute(("language", say.language.as_str()));
    }
    w.write_event(Event::Start(start)).expect("write to Vec");
    // Text needs only <, > and & escaped; quotes stay readable for people and TTS.
    let escaped = quick_xml::escape::partial_escape(say.text.as_str());
    w.write_event(Event::Text(BytesText::from_escaped(escaped)))
        .expect("write to Vec");
    w.write_event(Event::End(BytesEnd::new("Say")))
        .expect("write to Vec");
}

fn write_verb(w: &mut Writer<Vec<u8>>, verb: &Verb) {
    match verb {
        Verb::Say(say) => write_say(w, say),
        Verb::Gather(g) => {
            let timeout = g.timeout_secs.to_string();
            let digits = g.num_digits.map(|d| d.to_string());
            let mut start = BytesStart::new("Gather");
            start.push_attribute(("input", g.input));
            start.push_attribute(("action", g.action.as_str()));
            start.push_attribute(("method", "POST"));
            start.push_attribute(("timeout", timeout.as_str()));
            start.push_attribute(("speechTimeout", g.speech_timeout.as_str()));
            if let Some(d) = &digits {
                start.push_attribute(("numDigits", d.as_str()));
            }
            if !g.language.is_empty() {
                start.push_attribute(("language", g.language.as_str()));
            }
            if !g.hints.is_empty() {
                start.push_attribute(("hints", g.hints.as_str()));
            }
            // Silence must reach us too: it drives reprompts and `no_response`.
            start.push_attribute(("actionOnEmptyResult", "true"));
            w.write_event(Event::Start(start)).expect("write to Vec");
            for say in &g.says {
                write_say(w, say);
            }
            w.write_event(Event::End(BytesEnd::new("Gather")))
                .expect("write to Vec");
        }
        Verb::StartRecording { status_callback } => {
            w.write_event(Event::Start(BytesStart::new("Start")))
                .expect("write to Vec");
            let mut rec = BytesStart::new("Recording");
            rec.push_attribute(("recordingStatusCallback", status_callback.as_str()));
            rec.push_attribute(("recordingStatusCallbackMethod", "POST"));
            rec.push_attribute((
                "recordingStatusCallbackEvent",
                "in-progress completed absent",
            ));
            w.write_event(Event::Empty(rec)).expect("write to Vec");
            w.write_event(Event::End(BytesEnd::new("Start")))
                .expect("write to Vec");
        }
        Verb::Dial(d) => {
            let timeout = d.timeout_secs.to_string();
            let mut start = BytesStart::new("Dial");
            start.push_attribute(("action", d.action.as_str()));
            start.push_attribute(("method", "POST"));
            start.push_attribute(("timeout", timeout.as_str()));
            if let Some(id) = &d.caller_id {
                start.push_attribute(("callerId", id.as_str()));
            }
            w.write_event(Event::Start(start)).expect("write to Vec");
            for number in &d.numbers {
                w.write_event(Event::Start(BytesStart::new("Number")))
                    .expect("write to Vec");
                w.write_event(Event::Text(BytesText::new(number)))
                    .expect("write to Vec");
                w.write_event(Event::End(BytesEnd::new("Number")))
                    .expect("write to Vec");
            }
            w.write_event(Event::End(BytesEnd::new("Dial")))
                .expect("write to Vec");
        }
        Verb::Record(r) => {
            let max_length = r.max_length_secs.to_string();
            let mut start = BytesStart::new("Record");
            start.push_attribute(("action", r.action.as_str()));
            start.push_attribute(("method", "POST"));
            start.push_attribute(("maxLength", max_length.as_str()));
            start.push_attribute(("playBeep", "true"));
            if let Some(callback) = &r.transcribe_callback {
                start.push_attribute(("transcribe", "true"));
                start.push_attribute(("transcribeCallback", callback.as_str()));
            }
            w.write_event(Event::Empty(start)).expect("write to Vec");
        }
        Verb::Pause { seconds } => {
            let length = seconds.to_string();
            let mut start = BytesStart::new("Pause");
            start.push_attribute(("length", length.as_str()));
            w.write_event(Event::Empty(start)).expect("write to Vec");
        }
        Verb::Hangup => {
            w.write_event(Event::Empty(BytesStart::new("Hangup")))
                .expect("write to Vec");
        }
        Verb::Message(text) => {
            w.write_event(Event::Start(BytesStart::new("Message")))
                .expect("write to Vec");
            let escaped = quick_xml::escape::partial_escape(text.as_str());
            w.write_event(Event::Text(BytesText::from_escaped(escaped)))
                .expect("write to Vec");
            w.write_event(Event::End(BytesEnd::new("Message")))
                .expect("write to Vec");
        }
    }
}

/// The answer for a callback we cannot place: polite, final, never an error page.
pub fn polite_goodbye(voice: &str, language: &str) -> String {
    let mut r = Response::new();
    r.push(Verb::Say(Say {
        text: "Sorry, we could not continue this call. Goodbye.".into(),
        voice: voice.into(),
        language: language.into(),
    }))
    .push(Verb::Hangup);
    r.render()
}

/// `<Response><Message>text</Message></Response>`: the answer to a text.
pub fn message(text: &str) -> String {
    let mut r = Response::new();
    r.push(Verb::Message(text.to_string()));
    r.render()
}

/// An empty `<Response/>`, the answer to status and recording callbacks.
pub fn empty() -> String {
    Response::new().render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event as XmlEvent;
    use quick_xml::Reader;

    fn say(text: &str) -> Say {
        Say {
            text: text.into(),
            voice: "Polly.Joanna".into(),
            language: "en-US".into(),
        }
    }

    /// Reads the whole document back and returns the unescaped texts: proof it is well formed.
    fn texts(xml: &str) -> Vec<String> {
        let mut reader = Reader::from_str(xml);
        let mut out = Vec::new();
        let mut current = String::new();
        loop {
            match reader.read_event().expect("well-formed XML") {
                XmlEvent::Text(t) => current.push_str(&t.decode().unwrap()),
                XmlEvent::GeneralRef(r) => {
                    let name = r.decode().unwrap();
                    let resolved =
                        quick_xml::escape::resolve_xml_entity(&name).expect("known entity");
                    current.push_str(resolved);
                }
                XmlEvent::Eof => break,
                _ => {
                    if !current.trim().is_empty() {
                        out.push(std::mem::take(&mut current));
                    }
                    current.clear();
                }
            }
        }
        out
    }

    #[test]
    fn escapes_text_and_attributes() {
        let mut r = Response::new();
        r.push(Verb::Gather(Gather {
            action: "https://x.test/twilio/voice/gather?call_id=a&step=2".into(),
            input: "dtmf speech",
            timeout_secs: 5,
            speech_timeout: "auto".into(),
            num_digits: Some(1),
            language: "en-US".into(),
            hints: "yes, \"no\"".into(),
            says: vec![say("This is Smith & <Sons> calling.")],
        }));
        let xml = r.render();
        assert!(xml.contains("Smith &amp; &lt;Sons&gt;"), "{xml}");
        assert!(xml.contains("call_id=a&amp;step=2"), "{xml}");
        assert!(xml.contains("&quot;no&quot;"), "{xml}");
        assert_eq!(texts(&xml), vec!["This is Smith & <Sons> calling."]);
    }

    #[test]
    fn empty_response_is_self_closing() {
        assert_eq!(
            empty(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response/>"
        );
    }

    #[test]
    fn goodbye_hangs_up() {
        let xml = polite_goodbye("alice", "en-US");
        assert!(xml.contains("<Hangup/>"));
        assert_eq!(texts(&xml).len(), 1);
    }
}
