//! Property tests of what a webhook goes through before the machine sees it:
//! the form parsing ([`form_pairs`], [`VoiceForm`] and its translations) and
//! the signature check ([`signature::verify_any`], as the `Signed` extractor
//! calls it), over random bodies, pairs, URLs and signature headers.
//!
//! Twilio signs the URL followed by each pair's name and value, sorted, with
//! no separators: the pairs themselves are not bound, only that string. So a
//! body changed after signing verifies exactly when it decodes to the same
//! signed string (re-encoding, reordering, or moving a boundary between a name
//! and its value, which the scheme cannot see); every other change is refused.

use proptest::prelude::*;

use super::*;
use crate::twilio::signature::{self, sign};

const TOKEN: &str = "primary-token";
const SECONDARY: &str = "secondary-token";
const URL: &str = "https://calls.example.com/twilio/voice/gather?call_id=c0ffee&turn=2";

/// What Twilio's signature covers: the URL, then every name and value, sorted.
fn signed_string(url: &str, pairs: &[(String, String)]) -> String {
    let mut sorted = pairs.to_vec();
    sorted.sort();
    sorted.iter().fold(url.to_string(), |mut s, (k, v)| {
        s.push_str(k);
        s.push_str(v);
        s
    })
}

fn encode(pairs: &[(String, String)]) -> Vec<u8> {
    serde_urlencoded::to_string(pairs)
        .expect("string pairs encode")
        .into_bytes()
}

/// Names Twilio sends, and anything else.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "CallSid", "CallStatus", "AnsweredBy", "SpeechResult", "Digits",
            "SequenceNumber", "CallDuration", "RecordingSid", "RecordingStatus",
            "From", "To", "Confidence",
        ])
        .prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[ -~]{0,16}",
        1 => any::<String>(),
        1 => "[0-9]{1,12}",
    ]
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((name(), value()), 0..10)
}

/// A change to an encoded body: a byte replaced, inserted or removed.
#[derive(Debug, Clone)]
enum Edit {
    Replace(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Remove(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to the form syntax are picked often.
    let byte = prop_oneof![
        1 => prop::sample::select(b"&=%+;".to_vec()),
        2 => any::<u8>(),
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), byte.clone()).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<prop::sample::Index>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Edit::Remove),
    ]
}

fn apply_edit(body: &mut Vec<u8>, edit: &Edit) {
    match edit {
        Edit::Replace(i, b) if !body.is_empty() => {
            let at = i.index(body.len());
            body[at] = *b;
        }
        Edit::Insert(i, b) => {
            let at = i.index(body.len() + 1);
            body.insert(at, *b);
        }
        Edit::Remove(i) if !body.is_empty() => {
            let at = i.index(body.len());
            body.remove(at);
        }
        _ => {}
    }
}

/// Everything the webhook handlers read from a form, so a panic anywhere shows.
fn read_all(pairs: &[(String, String)], turn: Option<&str>) {
    let form = VoiceForm::from_pairs(pairs);
    let _ = (
        form.answer(),
        form.gather(turn),
        form.status(),
        form.recording(),
    );
    let _ = form.status().map(|i| i.idempotency_key());
}

fn verifies(url: &str, pairs: &[(String, String)], sig: &str) -> bool {
    let with_fragment = crate::render::with_overrides(url);
    signature::verify_any(
        [TOKEN, SECONDARY],
        &[url, with_fragment.as_str()],
        pairs,
        sig,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_body_and_header_is_read_or_refused_without_panicking(
        body in prop::collection::vec(any::<u8>(), 0..300),
        header in prop_oneof![".{0,40}", "[A-Za-z0-9+/]{27}=", Just(String::new())],
        turn in proptest::option::of(".{0,6}"),
    ) {
        if let Some(pairs) = form_pairs(&body) {
            read_all(&pairs, turn.as_deref());
            prop_assert!(!verifies(URL, &pairs, &header), "a made-up signature verified");
        }
    }

    #[test]
    fn a_correctly_signed_body_always_verifies(
        pairs in pairs(),
        secondary in any::<bool>(),
        fragment in any::<bool>(),
        query in "[a-z_]{0,6}=[ -~]{0,6}",
    ) {
        let url = format!("https://calls.example.com/twilio/voice/status?{query}");
        let signed_url = if fragment { crate::render::with_overrides(&url) } else { url.clone() };
        let sig = sign(if secondary { SECONDARY } else { TOKEN }, &signed_url, &pairs);
        let received = form_pairs(&encode(&pairs)).expect("an encoded form parses");
        prop_assert_eq!(&received, &pairs);
        read_all(&received, Some("1"));
        prop_assert!(verifies(&url, &received, &sig));
    }

    #[test]
    fn a_body_changed_after_signing_verifies_only_if_the_signed_string_is_unchanged(
        pairs in pairs(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let sig = sign(TOKEN, URL, &pairs);
        let mut body = encode(&pairs);
        for e in &edits {
            apply_edit(&mut body, e);
        }
        if let Some(changed) = form_pairs(&body) {
            read_all(&changed, Some("2"));
            let same = signed_string(URL, &changed) == signed_string(URL, &pairs);
            prop_assert_eq!(verifies(URL, &changed, &sig), same, "{:?}", changed);
        }
    }

    #[test]
    fn a_changed_value_pair_url_or_token_never_verifies(
        pairs in pairs().prop_filter("something to change", |p| !p.is_empty()),
        which in any::<prop::sample::Index>(),
        new_value in value(),
        extra in (name(), value()),
        other_turn in 3u32..1000,
    ) {
        let sig = sign(TOKEN, URL, &pairs);
        let i = which.index(pairs.len());

        let mut changed = pairs.clone();
        changed[i].1 = new_value;
        if signed_string(URL, &changed) != signed_string(URL, &pairs) {
            prop_assert!(!verifies(URL, &changed, &sig), "changed value verified");
        }

        let mut removed = pairs.clone();
        let (k, v) = removed.remove(i);
        if !(k.is_empty() && v.is_empty()) {
            prop_assert!(!verifies(URL, &removed, &sig), "removed pair verified");
        }

        let mut added = pairs.clone();
        let empty_pair = extra.0.is_empty() && extra.1.is_empty();
        added.push(extra);
        if !empty_pair {
            prop_assert!(!verifies(URL, &added, &sig), "added pair verified");
        }

        let other_url = URL.replace("turn=2", &format!("turn={other_turn}"));
        prop_assert!(!verifies(&other_url, &pairs, &sig), "another turn's URL verified");
        prop_assert!(!signature::verify("another-token", URL, &pairs, &sig));
    }
}
