//! The theme and key-file parsers fed arbitrary bytes and mangled copies of real files, a
//! seeded property test run in CI for a bounded number of cases (issue 15, "Bad input"):
//! every input loads or gets an error that names the file, never a panic.
//!
//! A failing case prints its seed; `FUZZ_SEED=<seed>` replays that case alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::Path;

use cutover::console::keymap::Keymap;
use cutover::console::theme::Theme;

/// Inputs per parser per run.
const CASES: u64 = 1500;

/// Tokens a TOML file is made of, to build inputs that get past the first byte.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "\"",
    "'",
    "\n",
    ",",
    "{",
    "}",
    ".",
    "#",
    "keys",
    "roles",
    "inherits",
    "fg",
    "bg",
    "modifiers",
    "live",
    "switch",
    "ctrl+",
    "shift+",
    "#ff00ff",
    "#zz",
    "bold",
    "reversed",
    "1e999",
    "-0",
    "true",
    "\"\"\"",
    "\\u{0}",
    "é",
    "✓",
    "\u{202e}",
    "\t",
    "\r",
    " ",
    "9999999999999999999999",
    "[keys]",
    "[roles.live]",
    "x",
    "esc",
    "f99",
];

/// One input: random bytes, random tokens, or a real file with bytes flipped, cut or
/// tokens spliced in.
fn input(rng: &mut fastrand::Rng, real: &[&str]) -> Vec<u8> {
    match rng.u8(0..4) {
        0 => (0..rng.usize(0..200)).map(|_| rng.u8(..)).collect(),
        1 => (0..rng.usize(0..60))
            .flat_map(|_| TOKENS[rng.usize(0..TOKENS.len())].bytes())
            .collect(),
        _ => {
            let mut bytes = real[rng.usize(0..real.len())].as_bytes().to_vec();
            for _ in 0..rng.usize(1..8) {
                if bytes.is_empty() {
                    break;
                }
                let at = rng.usize(0..bytes.len());
                match rng.u8(0..4) {
                    0 => bytes[at] = rng.u8(..),
                    1 => bytes.truncate(at),
                    2 => {
                        let token = TOKENS[rng.usize(0..TOKENS.len())].bytes();
                        bytes.splice(at..at, token);
                    }
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            bytes
        }
    }
}

fn seeds() -> Vec<u64> {
    match std::env::var("FUZZ_SEED") {
        Ok(s) => vec![s.parse().expect("FUZZ_SEED is a number")],
        Err(_) => (0..CASES).collect(),
    }
}

/// Runs `check` on every seed's input, naming the seed of one that panics.
fn fuzz(real: &[&str], check: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    for seed in seeds() {
        let mut rng = fastrand::Rng::with_seed(seed);
        let bytes = input(&mut rng, real);
        let ran = std::panic::catch_unwind(|| check(&bytes));
        assert!(
            ran.is_ok(),
            "seed {seed} panicked on {:?}; replay with FUZZ_SEED={seed}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

fn shipped_themes() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes");
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(dir).expect("themes/") {
        texts.push(std::fs::read_to_string(entry.expect("entry").path()).expect("a theme"));
    }
    texts
}

#[test]
fn theme_files_of_any_bytes_load_or_name_the_file() {
    let texts = shipped_themes();
    let real: Vec<&str> = texts.iter().map(String::as_str).collect();
    fuzz(&real, |bytes| {
        // The loader reads text: bytes that are not UTF-8 stop at the read, with the file named.
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        if let Err(e) = Theme::parse("fuzzed", text, "<fuzzed.toml>") {
            let said = e.to_string();
            assert!(said.contains("<fuzzed.toml>"), "{said:?} names the file");
        }
    });
}

#[test]
fn key_files_of_any_bytes_load_or_name_the_file() {
    let shipped = include_str!("../src/console/keys.toml");
    let real = [
        shipped,
        "[keys]\nswitch = \"s\"\napprove = [\"a\", \"ctrl+a\"]\n",
        "[keys]\nweight-up = \"shift+up\"\nhelp = \"f1\"\n",
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys.toml");
    fuzz(&real, |bytes| {
        std::fs::write(&path, bytes).expect("write");
        for read_only in [false, true] {
            if let Err(e) = Keymap::with_user_file(read_only, &path) {
                let said = e.to_string();
                assert!(
                    said.contains(&path.display().to_string()),
                    "{said:?} names the file"
                );
            }
        }
    });
}
