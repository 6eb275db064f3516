//! Reads the TwiML the orchestrator returns into the verbs the callee follows.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwimlVerb {
    Say(String),
    Gather {
        action: String,
        input: String,
        action_on_empty_result: bool,
        says: Vec<String>,
    },
    StartRecording {
        status_callback: Option<String>,
    },
    Redirect(String),
    /// `<Dial action timeout><Number>...</Number></Dial>`.
    Dial {
        action: String,
        timeout_secs: u32,
        numbers: Vec<String>,
    },
    /// `<Record action maxLength transcribe transcribeCallback/>`.
    Record {
        action: String,
        max_length_secs: u32,
        transcribe_callback: Option<String>,
    },
    Pause,
    Hangup,
    Other(String),
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name.as_bytes())
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Parses a document; malformed XML is an error (a real caller would hear "application error").
// Long on purpose: one arm per TwiML verb the simulator follows.
pub fn parse_twiml(xml: &str) -> Result<Vec<TwimlVerb>, String> {
    let mut reader = Reader::from_str(xml);
    let mut verbs = Vec::new();
    // Text being collected for the current <Say>/<Redirect>, and the open <Gather>.
    let mut text: Option<String> = None;
    let mut gather: Option<TwimlVerb> = None;
    let mut dial: Option<TwimlVerb> = None;
    let mut depth_tag: Vec<String> = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed TwiML: {e}"))?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match name.as_str() {
                    "Say" | "Redirect" | "Number" => text = Some(String::new()),
                    "Dial" => dial = Some(dial_verb(&e)),
                    "Record" => verbs.push(record_verb(&e)),
                    "Gather" => {
                        gather = Some(TwimlVerb::Gather {
                            action: attr(&e, "action").unwrap_or_default(),
                            input: attr(&e, "input").unwrap_or_else(|| "dtmf".into()),
                            action_on_empty_result: attr(&e, "actionOnEmptyResult").as_deref()
                                == Some("true"),
                            says: Vec::new(),
                        })
                    }
                    _ => {}
                }
                depth_tag.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let verb = match name.as_str() {
                    "Hangup" => Some(TwimlVerb::Hangup),
                    "Record" => Some(record_verb(&e)),
                    "Pause" => Some(TwimlVerb::Pause),
                    "Recording" if depth_tag.last().map(String::as_str) == Some("Start") => {
                        Some(TwimlVerb::StartRecording {
                            status_callback: attr(&e, "recordingStatusCallback"),
                        })
                    }
                    "Gather" => Some(TwimlVerb::Gather {
                        action: attr(&e, "action").unwrap_or_default(),
                        input: attr(&e, "input").unwrap_or_else(|| "dtmf".into()),
                        action_on_empty_result: attr(&e, "actionOnEmptyResult").as_deref()
                            == Some("true"),
                        says: Vec::new(),
                    }),
                    "Response" => None,
                    other => Some(TwimlVerb::Other(other.to_string())),
                };
                verbs.extend(verb);
            }
            Event::Text(t) => {
                if let Some(buf) = text.as_mut() {
                    buf.push_str(&t.decode().map_err(|e| format!("malformed TwiML: {e}"))?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(buf) = text.as_mut() {
                    let name = r.decode().map_err(|e| format!("malformed TwiML: {e}"))?;
                    if let Some(c) = r.resolve_char_ref().ok().flatten() {
                        buf.push(c);
                    } else {
                        let resolved = quick_xml::escape::resolve_xml_entity(&name)
                            .ok_or_else(|| format!("malformed TwiML: unknown entity &{name};"))?;
                        buf.push_str(resolved);
                    }
                }
            }
            Event::End(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                depth_tag.pop();
                match name.as_str() {
                    "Say" => {
                        let said = text.take().unwrap_or_default().trim().to_string();
                        match gather.as_mut() {
                            Some(TwimlVerb::Gather { says, .. }) => says.push(said),
                            _ => verbs.push(TwimlVerb::Say(said)),
                        }
                    }
                    "Redirect" => verbs.push(TwimlVerb::Redirect(
                        text.take().unwrap_or_default().trim().to_string(),
                    )),
                    "Gather" => verbs.extend(gather.take()),
                    "Number" => {
                        let number = text.take().unwrap_or_default().trim().to_string();
                        if let Some(TwimlVerb::Dial { numbers, .. }) = dial.as_mut() {
                            numbers.push(number);
                        }
                    }
                    "Dial" => verbs.extend(dial.take()),
                    "Response" | "Start" | "Record" => {}
                    other => verbs.push(TwimlVerb::Other(other.to_string())),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(verbs)
}

fn dial_verb(e: &BytesStart) -> TwimlVerb {
    TwimlVerb::Dial {
        action: attr(e, "action").unwrap_or_default(),
        timeout_secs: attr(e, "timeout")
            .and_then(|t| t.parse().ok())
            .unwrap_or(30),
        numbers: Vec::new(),
    }
}

fn record_verb(e: &BytesStart) -> TwimlVerb {
    let transcribe = attr(e, "transcribe").as_deref() == Some("true");
    TwimlVerb::Record {
        action: attr(e, "action").unwrap_or_default(),
        max_length_secs: attr(e, "maxLength")
            .and_then(|t| t.parse().ok())
            .unwrap_or(3600),
        transcribe_callback: attr(e, "transcribeCallback").filter(|_| transcribe),
    }
}

/// Resolves a possibly relative URL against the document's URL.
pub fn resolve_url(base: &str, url: &str) -> String {
    match reqwest::Url::parse(base).and_then(|b| b.join(url)) {
        Ok(u) => u.to_string(),
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_gather_recording_and_escapes() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Start><Recording recordingStatusCallback="https://x.test/rec?call_id=a&amp;b=1"/></Start>
  <Gather input="dtmf speech" action="/twilio/voice/gather?call_id=a&amp;turn=2" actionOnEmptyResult="true">
    <Say>Smith &amp; &lt;Sons&gt; calling.</Say>
    <Say>Yes or no?</Say>
  </Gather>
  <Say>Bye</Say>
  <Hangup/>
</Response>"#;
        let verbs = parse_twiml(xml).unwrap();
        assert_eq!(
            verbs,
            vec![
                TwimlVerb::StartRecording {
                    status_callback: Some("https://x.test/rec?call_id=a&b=1".into())
                },
                TwimlVerb::Gather {
                    action: "/twilio/voice/gather?call_id=a&turn=2".into(),
                    input: "dtmf speech".into(),
                    action_on_empty_result: true,
                    says: vec!["Smith & <Sons> calling.".into(), "Yes or no?".into()],
                },
                TwimlVerb::Say("Bye".into()),
                TwimlVerb::Hangup,
            ]
        );
        assert!(parse_twiml("<Response><Say>unclosed</Response>").is_err());
    }

    #[test]
    fn relative_urls_resolve_against_the_document() {
        assert_eq!(
            resolve_url(
                "http://h:1/twilio/voice/incoming?call_id=a",
                "/twilio/voice/gather?turn=1"
            ),
            "http://h:1/twilio/voice/gather?turn=1"
        );
        assert_eq!(resolve_url("http://h:1/a", "https://o/b"), "https://o/b");
    }
}
