//! `parse_trace` runs on every ingested event: no input may make it panic.

use faultline_engine::fingerprint::{fingerprint_text, parse_trace};
use proptest::prelude::*;

/// Pieces that steer the parsers into their deeper branches.
const FRAGMENTS: &[&str] = &[
    "Traceback (most recent call last):\n",
    "  File \"",
    "\", line ",
    ", in ",
    "\tat ",
    "    at ",
    "(",
    ")",
    ":",
    "Caused by: ",
    "\t... 3 more\n",
    "\tSuppressed: ",
    "goroutine 1 [running]:\n",
    "panic: ",
    " +0x1d",
    "[",
    "]",
    "$$Lambda$",
    ".",
    "/",
    "\\n",
    "\\",
    "\n",
    "\r\n",
    " ",
    "<anonymous>",
    "During handling of the above exception, another exception occurred:\n",
    "java.lang.Error: ",
    "TypeError: ",
    "ℵ",
    "日本語",
    "🦀",
    "é",
    "\u{feff}",
    "0",
    "99999999999",
];

fn fragment_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..200).prop_map(|parts| parts.concat())
}

/// A line of any Unicode scalar values, indented like a frame half of the time.
fn any_line() -> impl Strategy<Value = String> {
    (any::<bool>(), prop::collection::vec(any::<char>(), 0..80)).prop_map(|(indented, chars)| {
        let indent = if indented { "    at " } else { "" };
        format!("{indent}{}", String::from_iter(chars))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse_trace(&text);
        let _ = fingerprint_text(&text);
    }

    #[test]
    fn trace_fragments_never_panic(text in fragment_soup()) {
        let _ = parse_trace(&text);
        let _ = fingerprint_text(&text);
    }

    #[test]
    fn multilingual_lines_never_panic(lines in prop::collection::vec(any_line(), 0..30)) {
        let text = lines.join("\n");
        let _ = fingerprint_text(&text);
    }

    #[test]
    fn found_traces_have_sane_frames(text in fragment_soup()) {
        if let Some(trace) = parse_trace(&text) {
            for frame in &trace.frames {
                prop_assert!(frame.file.as_deref() != Some(""));
                prop_assert!(frame.function.as_deref() != Some(""));
            }
        }
    }
}

#[test]
fn huge_lines_never_panic_and_stay_linear() {
    let start = std::time::Instant::now();
    let huge_frames = "    at ".repeat(200_000);
    let huge_files = "  File \"".repeat(200_000);
    let colons = format!("\n{}", "a:".repeat(500_000));
    let words = format!("\n{}\n\tat x.Y.z(Y.java:1)", "word ".repeat(200_000));
    let header = format!(
        "Traceback (most recent call last):\n{}",
        "  File \"/a.py\", line 1, in f\n".repeat(50_000)
    );
    let jvm = format!(
        "java.lang.Error: x\n{}",
        "\tat a.B.c(B.java:1)\n\t... 1 more\nCaused by: x.Y: z\n".repeat(20_000)
    );
    for text in [huge_frames, huge_files, colons, words, header, jvm] {
        let _ = fingerprint_text(&text);
        let _ = fingerprint_text(&format!("x\n{text}"));
    }
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}
