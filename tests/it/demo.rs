//! `callflow demo` runs end to end from a clean environment and prints its table.

#[test]
fn demo_prints_every_persona_and_its_outcome() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_callflow"))
        .arg("demo")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (persona, disposition) in [
        ("interested", "interested"),
        ("opts out mid-pitch", "opted_out"),
        ("declines", "declined"),
        ("wrong person", "wrong_party"),
        ("voicemail", "voicemail"),
        ("busy", "busy"),
        ("no answer", "no_answer"),
    ] {
        let row = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(persona))
            .unwrap_or_else(|| panic!("no row for {persona}:\n{stdout}"));
        assert!(row.contains(disposition), "{row}");
    }
    assert!(stdout.contains("on list = true"), "{stdout}");
    for (caller, shows) in [
        (
            "books, Ana answers",
            ["answered", "setup_appointment", "Ana"],
        ),
        (
            "books, nobody answers",
            ["missed", "setup_appointment", "-"],
        ),
        (
            "leaves a message",
            ["voicemail", "other", "can I move Friday"],
        ),
        ("asks for the hours", ["menu_info", "get_hours", "-"]),
    ] {
        let row = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(caller))
            .unwrap_or_else(|| panic!("no row for {caller}:\n{stdout}"));
        for s in shows {
            assert!(row.contains(s), "{row}");
        }
    }
    // A STOP by text, then a call to that number: refused.
    assert!(
        stdout.contains("texts \"STOP\"; callflow answers:"),
        "{stdout}"
    );
    assert!(stdout.contains("unsubscribed"), "{stdout}");
    assert!(stdout.contains("afterwards: HTTP 409"), "{stdout}");
}
