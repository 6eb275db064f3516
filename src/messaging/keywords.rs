//! The keywords of an incoming text, and whether callflow answers them.
//!
//! Carriers and Twilio treat a keyword as the whole message: "STOP", "Stop.",
//! " stop! " are keywords; "please stop calling at night" is a message. Case,
//! surrounding punctuation and spacing do not matter, and "opt out",
//! "opt-out" and "OPTOUT" are one keyword.
//!
//! Twilio's Advanced Opt-Out (on by default for long codes) answers its own
//! keywords and tells us by adding `OptOutType` (`STOP`, `START`, `HELP`) to
//! the webhook; then callflow must not answer again, so the person gets
//! exactly one confirmation. Without `OptOutType` (a phrase Twilio does not
//! know, or its handling switched off), callflow answers.

/// What an incoming text asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, "opt out".
    OptOut,
    /// START, UNSTOP: lift an opt-out made by text.
    OptIn,
    /// HELP, INFO.
    Help,
    /// Not a keyword: a message for the business.
    Message,
}

const OPT_OUT: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
const OPT_IN: [&str; 2] = ["START", "UNSTOP"];
const HELP: [&str; 2] = ["HELP", "INFO"];

impl Keyword {
    /// The keyword a whole message is, if any.
    pub fn of(body: &str) -> Keyword {
        // Letters only, upper-cased: drops case, punctuation and spacing, so
        // "Opt-out!" and "opt out" both read OPTOUT. Bounded: keywords are short.
        if body.len() > 64 {
            return Keyword::Message;
        }
        let word: String = body
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_ascii_punctuation())
            .flat_map(char::to_uppercase)
            .collect();
        // Anything else than letters left (digits, emoji) is a message.
        if word.is_empty() || !word.chars().all(|c| c.is_ascii_alphabetic()) {
            return Keyword::Message;
        }
        if OPT_OUT.contains(&word.as_str()) {
            Keyword::OptOut
        } else if OPT_IN.contains(&word.as_str()) {
            Keyword::OptIn
        } else if HELP.contains(&word.as_str()) {
            Keyword::Help
        } else {
            Keyword::Message
        }
    }
}

impl Keyword {
    /// What a text is, given Twilio's `OptOutType` too: Twilio's Advanced
    /// Opt-Out may be set up with keywords of its own (another language, a
    /// custom word), and its verdict wins over the body.
    pub fn of_text(body: &str, opt_out_type: Option<&str>) -> Keyword {
        match opt_out_type
            .map(|t| t.trim().to_ascii_uppercase())
            .as_deref()
        {
            Some("STOP") => Keyword::OptOut,
            Some("START") => Keyword::OptIn,
            Some("HELP") => Keyword::Help,
            _ => Keyword::of(body),
        }
    }
}

/// Whether callflow sends its own answer to a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Twilio answered already (`OptOutType` present).
    TwilioAnswered,
    /// callflow answers.
    Ours,
}

impl Reply {
    /// `opt_out_type`: the webhook's `OptOutType`, when present and non-empty.
    pub fn for_keyword(opt_out_type: Option<&str>) -> Reply {
        match opt_out_type.map(str::trim) {
            Some(t) if !t.is_empty() => Reply::TwilioAnswered,
            _ => Reply::Ours,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_opt_out_keyword_in_any_case_and_punctuation() {
        for word in OPT_OUT {
            for body in [
                word.to_string(),
                word.to_lowercase(),
                format!(" {}! ", word.to_lowercase()),
                format!("{word}."),
            ] {
                assert_eq!(Keyword::of(&body), Keyword::OptOut, "{body:?}");
            }
        }
        for phrase in ["opt out", "Opt-Out", "OPT OUT!!", "opt. out", "Optout"] {
            assert_eq!(Keyword::of(phrase), Keyword::OptOut, "{phrase:?}");
        }
    }

    #[test]
    fn opt_in_and_help() {
        for body in ["START", "start", "Unstop!", " UNSTOP "] {
            assert_eq!(Keyword::of(body), Keyword::OptIn, "{body:?}");
        }
        for body in ["HELP", "help?", "Info", "INFO."] {
            assert_eq!(Keyword::of(body), Keyword::Help, "{body:?}");
        }
    }

    #[test]
    fn messages_are_not_keywords() {
        for body in [
            "",
            "please stop calling at night",
            "stop 2",
            "stopp",
            "Can I book for Friday?",
            "STOP🙂",
            &"stop ".repeat(40),
        ] {
            assert_eq!(Keyword::of(body), Keyword::Message, "{body:?}");
        }
    }

    #[test]
    fn twilios_opt_out_type_wins_over_the_body() {
        assert_eq!(Keyword::of_text("ARRET", Some("STOP")), Keyword::OptOut);
        assert_eq!(Keyword::of_text("hello", Some("start")), Keyword::OptIn);
        assert_eq!(Keyword::of_text("AYUDA", Some("HELP")), Keyword::Help);
        assert_eq!(Keyword::of_text("stop", None), Keyword::OptOut);
        assert_eq!(Keyword::of_text("hi", Some("")), Keyword::Message);
    }

    #[test]
    fn twilio_answered_when_it_says_so() {
        assert_eq!(Reply::for_keyword(Some("STOP")), Reply::TwilioAnswered);
        assert_eq!(Reply::for_keyword(Some("HELP")), Reply::TwilioAnswered);
        assert_eq!(Reply::for_keyword(Some("")), Reply::Ours);
        assert_eq!(Reply::for_keyword(None), Reply::Ours);
    }
}
