//! The README's animated picture: terminal frames captured from tmux with their colours
//! (`capture-pane -e`), written as one SVG that shows each frame for its time, in a loop.
//!
//! Only what tmux writes is read: SGR sequences (`ESC [ … m`) for bold, dim, italic,
//! underline, reverse, the 16 and 256 colours and 24-bit colour, and UTF-8 text. The 16 colours
//! are a dark palette (VS Code's terminal); the other 240 are xterm's.

use std::fmt::Write as _;
use std::time::Duration;

/// Cell size in SVG units, for a 14-unit monospace font.
const CELL_W: f64 = 8.4;
const CELL_H: f64 = 17.0;
const BACKGROUND: Rgb = (0x1e, 0x1e, 0x1e);
const FOREGROUND: Rgb = (0xcc, 0xcc, 0xcc);

type Rgb = (u8, u8, u8);

const ANSI: [Rgb; 16] = [
    (0x00, 0x00, 0x00),
    (0xcd, 0x31, 0x31),
    (0x0d, 0xbc, 0x79),
    (0xe5, 0xe5, 0x10),
    (0x24, 0x72, 0xc8),
    (0xbc, 0x3f, 0xbc),
    (0x11, 0xa8, 0xcd),
    (0xe5, 0xe5, 0xe5),
    (0x66, 0x66, 0x66),
    (0xf1, 0x4c, 0x4c),
    (0x23, 0xd1, 0x8b),
    (0xf5, 0xf5, 0x43),
    (0x3b, 0x8e, 0xea),
    (0xd6, 0x70, 0xd6),
    (0x29, 0xb8, 0xdb),
    (0xff, 0xff, 0xff),
];

/// xterm's 256 colours: the 16 above, a 6×6×6 cube, then 24 greys.
fn indexed(n: u8) -> Rgb {
    match n {
        0..16 => ANSI[usize::from(n)],
        16..232 => {
            let n = n - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(n / 36), level((n / 6) % 6), level(n % 6))
        }
        _ => {
            let g = 8 + (n - 232) * 10;
            (g, g, g)
        }
    }
}

#[derive(Clone, Copy, PartialEq, Default, Debug)]
struct Style {
    fg: Option<Rgb>,
    bg: Option<Rgb>,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    reverse: bool,
}

impl Style {
    /// Applies one SGR sequence's parameters.
    fn apply(&mut self, params: &str) {
        let mut p = params
            .split(';')
            .map(|x| x.parse::<u16>().unwrap_or(0))
            .peekable();
        if params.is_empty() {
            *self = Style::default();
        }
        while let Some(code) = p.next() {
            match code {
                0 => *self = Style::default(),
                1 => self.bold = true,
                2 => self.dim = true,
                3 => self.italic = true,
                4 => self.underline = true,
                7 => self.reverse = true,
                22 => (self.bold, self.dim) = (false, false),
                23 => self.italic = false,
                24 => self.underline = false,
                27 => self.reverse = false,
                30..=37 => self.fg = Some(ANSI[usize::from(code - 30)]),
                90..=97 => self.fg = Some(ANSI[usize::from(code - 90 + 8)]),
                40..=47 => self.bg = Some(ANSI[usize::from(code - 40)]),
                100..=107 => self.bg = Some(ANSI[usize::from(code - 100 + 8)]),
                39 => self.fg = None,
                49 => self.bg = None,
                38 | 48 => {
                    let colour = match p.next() {
                        Some(5) => p.next().map(|n| indexed(n as u8)),
                        Some(2) => {
                            let mut c = || p.next().unwrap_or(0) as u8;
                            Some((c(), c(), c()))
                        }
                        _ => None,
                    };
                    if code == 38 {
                        self.fg = colour;
                    } else {
                        self.bg = colour;
                    }
                }
                _ => {}
            }
        }
    }

    /// (foreground, background) as drawn.
    fn colours(&self) -> (Rgb, Option<Rgb>) {
        let fg = self.fg.unwrap_or(FOREGROUND);
        match self.reverse {
            true => (self.bg.unwrap_or(BACKGROUND), Some(fg)),
            false => (fg, self.bg),
        }
    }
}

/// A run of cells in one style: (column, text, width in cells, style).
type Run = (usize, String, usize, Style);

/// One captured screen: its rows as runs.
fn parse(screen: &str) -> Vec<Vec<Run>> {
    let mut style = Style::default();
    screen
        .lines()
        .map(|line| {
            let mut runs: Vec<Run> = Vec::new();
            let mut col = 0;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '\u{1b}' {
                    if chars.peek() == Some(&'[') {
                        chars.next();
                        let mut params = String::new();
                        for c in chars.by_ref() {
                            if c.is_ascii_alphabetic() {
                                if c == 'm' {
                                    style.apply(&params);
                                }
                                break;
                            }
                            params.push(c);
                        }
                    }
                    continue;
                }
                let width = ratatui::text::Span::raw(c.to_string()).width();
                match runs.last_mut() {
                    Some(last) if last.3 == style => {
                        last.1.push(c);
                        last.2 += width;
                    }
                    _ => runs.push((col, c.to_string(), width, style)),
                }
                col += width;
            }
            runs
        })
        .collect()
}

fn hex((r, g, b): Rgb) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One frame's SVG elements: background rectangles, then text runs.
fn frame_svg(rows: &[Vec<Run>]) -> String {
    let mut out = String::new();
    for (y, runs) in rows.iter().enumerate() {
        for (col, text, width, style) in runs {
            let (fg, bg) = style.colours();
            let (x, top) = (*col as f64 * CELL_W, y as f64 * CELL_H);
            let w = *width as f64 * CELL_W;
            if let Some(bg) = bg {
                let _ = write!(
                    out,
                    r#"<rect x="{x:.1}" y="{top:.1}" width="{w:.1}" height="{CELL_H}" fill="{}"/>"#,
                    hex(bg)
                );
            }
            if text.trim().is_empty() {
                continue;
            }
            let mut attrs = format!(r#"fill="{}""#, hex(fg));
            if style.bold {
                attrs.push_str(r#" font-weight="bold""#);
            }
            if style.dim {
                attrs.push_str(r#" opacity="0.6""#);
            }
            if style.italic {
                attrs.push_str(r#" font-style="italic""#);
            }
            if style.underline {
                attrs.push_str(r#" text-decoration="underline""#);
            }
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{:.1}" textLength="{w:.1}" lengthAdjust="spacingAndGlyphs" {attrs}>{}</text>"#,
                top + CELL_H * 0.78,
                escape(text)
            );
        }
    }
    out
}

/// Frames as captured, each shown for its duration, into one looping SVG of `cols`×`rows`
/// cells. Consecutive identical frames are merged.
pub fn animated_svg(frames: &[(String, Duration)], cols: u16, rows: u16) -> String {
    let mut merged: Vec<(String, Duration)> = Vec::new();
    for (screen, d) in frames {
        match merged.last_mut() {
            Some(last) if last.0 == *screen => last.1 += *d,
            _ => merged.push((screen.clone(), *d)),
        }
    }
    let total: f64 = merged
        .iter()
        .map(|f| f.1.as_secs_f64())
        .sum::<f64>()
        .max(0.1);
    let (width, height) = (f64::from(cols) * CELL_W, f64::from(rows) * CELL_H);
    let mut style = String::new();
    let mut body = String::new();
    let mut start = 0.0;
    for (i, (screen, d)) in merged.iter().enumerate() {
        let (from, to) = (
            start / total * 100.0,
            (start + d.as_secs_f64()) / total * 100.0,
        );
        start += d.as_secs_f64();
        let _ = write!(
            style,
            "@keyframes f{i}{{0%{{visibility:hidden}}{from:.3}%{{visibility:visible}}{to:.3}%{{visibility:hidden}}}}\
             #f{i}{{animation:f{i} {total:.2}s step-end infinite}}"
        );
        let _ = write!(
            body,
            r#"<g id="f{i}" visibility="hidden">{}</g>"#,
            frame_svg(&parse(screen))
        );
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.1} {height:.1}" font-family="'DejaVu Sans Mono','Menlo','Consolas',monospace" font-size="14" xml:space="preserve"><style>{style}</style><rect width="100%" height="100%" fill="{}"/>{body}</svg>
"#,
        hex(BACKGROUND)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgr_sequences_set_and_reset_the_style() {
        let rows = parse("\u{1b}[1m\u{1b}[38;5;14m cut\u{1b}[0;7m x\u{1b}[27;38;2;1;2;3my");
        let runs = &rows[0];
        assert_eq!(runs[0].1, " cut");
        assert!(runs[0].3.bold);
        assert_eq!(runs[0].3.fg, Some(ANSI[14]));
        assert_eq!(
            (runs[1].1.as_str(), runs[1].3.reverse, runs[1].3.bold),
            (" x", true, false)
        );
        assert_eq!(runs[2].3.fg, Some((1, 2, 3)));
        assert_eq!(runs[2].0, 6, "columns count cells");
        assert_eq!(indexed(196), (255, 0, 0));
        assert_eq!(indexed(232), (8, 8, 8));
    }
}
