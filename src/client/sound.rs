//! Short chimes made in the browser with Web Audio: nothing to download.
//! One `AudioContext` per page (browsers cap how many a page may open),
//! made at the first chime or at [`unlock`] on a user's gesture (a
//! context made without one starts suspended; it is resumed each time).

use std::cell::RefCell;

use leptos::web_sys::{AudioContext, OscillatorType};

thread_local! {
    static CONTEXT: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
}

/// The page's audio context, made on first use.
fn context() -> Option<AudioContext> {
    CONTEXT.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = AudioContext::new().ok();
        }
        c.clone()
    })
}

/// Makes (or resumes) the audio context now: call it on a user's gesture,
/// so that later chimes are allowed to sound.
pub fn unlock() {
    if let Some(ctx) = context() {
        let _ = ctx.resume();
    }
}

/// Plays each of `notes` (Hz) in turn, `step` seconds apart, softly
/// (`volume` from 0 to 1, faded in and out so that it does not click).
pub fn chime(notes: &[f32], step: f64, volume: f32) {
    let Some(ctx) = context() else {
        return;
    };
    let _ = ctx.resume();
    let start = ctx.current_time();
    for (i, &freq) in notes.iter().enumerate() {
        let at = start + step * i as f64;
        let _ = note(&ctx, freq, at, step * 1.5, volume);
    }
}

fn note(
    ctx: &AudioContext,
    freq: f32,
    at: f64,
    length: f64,
    volume: f32,
) -> Result<(), wasm_bindgen::JsValue> {
    let osc = ctx.create_oscillator()?;
    osc.set_type(OscillatorType::Sine);
    osc.frequency().set_value(freq);
    let gain = ctx.create_gain()?;
    let level = gain.gain();
    level.set_value_at_time(0.0001, at)?;
    level.exponential_ramp_to_value_at_time(volume.max(0.0002), at + 0.015)?;
    level.exponential_ramp_to_value_at_time(0.0001, at + length)?;
    osc.connect_with_audio_node(&gain)?;
    gain.connect_with_audio_node(&ctx.destination())?;
    osc.start_with_when(at)?;
    osc.stop_with_when(at + length + 0.02)?;
    Ok(())
}
