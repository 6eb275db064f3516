//! Recording media (`Recordings/{RecordingSid}` with `.wav`, `.mp3` or no
//! extension), served as Twilio serves it with "Enforce HTTP Auth on Media
//! URLs" on: basic auth with the account's token or an API key. The audio is
//! a short generated WAV (a second of a 440 Hz tone); `.mp3` answers a few
//! MPEG audio frames of silence.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::rest::{authorize, error, record};
use crate::State;

/// Relative to `/2010-04-01/Accounts/{account}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/Recordings/{file}", web::get().to(media));
}

/// Whether `sid` looks like a RecordingSid: `RE` and 32 hex digits.
fn is_recording_sid(sid: &str) -> bool {
    sid.len() == 34 && sid.starts_with("RE") && sid[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

async fn media(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (account, file) = path.into_inner();
    if let Err(resp) = authorize(&state, &req, &account) {
        record(&state, &req, &[], Some("unauthorized".into()));
        return resp;
    }
    let (sid, ext) = file.split_once('.').unwrap_or((file.as_str(), "wav"));
    if !is_recording_sid(sid) || !state.has_recording(sid) {
        record(&state, &req, &[], Some(format!("no recording {sid}")));
        return error(404, 20404, "The requested resource was not found");
    }
    record(&state, &req, &[], None);
    match ext {
        "wav" => HttpResponse::Ok()
            .content_type("audio/x-wav")
            .body(wav_tone()),
        "mp3" => HttpResponse::Ok()
            .content_type("audio/mpeg")
            .body(mp3_silence()),
        _ => error(404, 20404, "The requested resource was not found"),
    }
}

/// One second of a 440 Hz tone: 8 kHz, 16-bit, mono PCM in a RIFF/WAVE file.
pub fn wav_tone() -> Vec<u8> {
    const RATE: u32 = 8_000;
    let samples: Vec<i16> = (0..RATE)
        .map(|n| {
            let t = f64::from(n) / f64::from(RATE);
            ((t * 440.0 * std::f64::consts::TAU).sin() * 8_000.0) as i16
        })
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// About a second of silence as MPEG-1 Layer III frames (32 kbit/s, 32 kHz,
/// mono): 38 frames of 144 bytes, each a header followed by zeros (no main
/// data), which decoders play as silence.
pub fn mp3_silence() -> Vec<u8> {
    // 0xFFFB: sync, MPEG-1, Layer III, no CRC; 0x18: 32 kbit/s, 32 kHz, no
    // padding; 0xC4: mono. Frame length = 144 * 32000 / 32000 = 144 bytes.
    const HEADER: [u8; 4] = [0xFF, 0xFB, 0x18, 0xC4];
    let mut out = Vec::with_capacity(38 * 144);
    for _ in 0..38 {
        out.extend_from_slice(&HEADER);
        out.resize(out.len() + 140, 0);
    }
    out
}
