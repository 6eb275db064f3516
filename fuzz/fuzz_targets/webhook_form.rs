//! Any bytes as a webhook: a signature header and a form body. Parsing and
//! reading the form never panic; a signature we make always verifies, and
//! never under another token or URL.
#![no_main]

use callflow::twilio::{signature, webhook};

const URL: &str = "https://calls.example.com/twilio/voice/gather?call_id=c0ffee&turn=1";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The first byte says how long the header is; the rest is the body.
    let (header, body) = match data.split_first() {
        Some((&n, rest)) => rest.split_at((n as usize).min(rest.len())),
        None => return,
    };
    let Some(pairs) = webhook::form_pairs(body) else {
        return;
    };
    let form = webhook::VoiceForm::from_pairs(&pairs);
    let _ = (
        form.answer(),
        form.gather(Some("1")),
        form.status(),
        form.recording(),
    );
    let header = String::from_utf8_lossy(header);
    let _ = signature::verify("token", URL, &pairs, &header);
    let ours = signature::sign("token", URL, &pairs);
    assert!(signature::verify("token", URL, &pairs, &ours));
    assert!(!signature::verify("another", URL, &pairs, &ours));
    assert!(!signature::verify(
        "token",
        "https://calls.example.com/",
        &pairs,
        &ours
    ));
});
