//! Any text in a `<Say>` and in an attribute: the document stays well formed
//! and the text comes back exactly when the five XML escapes are undone.
#![no_main]

use callflow::twiml::{Response, Say, Verb};

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut response = Response::new();
    response.push(Verb::Say(Say {
        text: text.to_string(),
        voice: text.to_string(),
        language: "en-US".into(),
    }));
    let xml = response.render();
    let start = xml.find("<Say ").expect("a Say element");
    let open_end = start + xml[start..].find('>').expect("the Say tag closes");
    let close = xml.rfind("</Say>").expect("the Say element closes");
    let raw = &xml[open_end + 1..close];
    assert!(!raw.contains('<'), "markup leaked into the text: {xml}");
    assert_eq!(unescape(raw), text, "{xml}");
    let tag = &xml[start..open_end];
    assert_eq!(tag.matches('"').count(), 4, "an attribute broke out: {tag}");
});
