//! Text measured in terminal cells: widths, truncation, padding, word wrap, ages and clocks.

use ratatui::text::{Line, Span};
use unicode_truncate::UnicodeTruncateStr;

/// Cells `s` takes on screen.
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

fn char_width(c: char) -> usize {
    let mut buf = [0u8; 4];
    width(c.encode_utf8(&mut buf))
}

/// `s` cut to at most `max` cells, ending in `…` when something was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    match max.checked_sub(1) {
        Some(room) => format!("{}…", s.unicode_truncate(room).0),
        None => String::new(),
    }
}

/// `s` cut at the front to at most `max` cells, at a `/` where one fits:
/// `registry.example.com/shop/web:1.5.0` → `…/shop/web:1.5.0`. For images, whose tag matters most.
pub fn truncate_start(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max <= 1 {
        return "…".chars().take(max).collect();
    }
    for (i, _) in s.match_indices('/') {
        let tail = &s[i..];
        if width(tail) < max {
            return format!("…{tail}");
        }
    }
    format!("…{}", s.unicode_truncate_start(max - 1).0)
}

/// An object's name cut at the start to at most `max` cells, keeping its end: Deployments
/// of one release differ at the end (`http-service-v1`, `http-service-v2`), so
/// `…service-v2` tells them apart where `http-service-…` cannot. One rule for every name on
/// screen. A `Kind/` in front is kept while the name keeps 8 cells (`Deployment/…service-v2`),
/// else the name goes alone: `…service-v2`.
pub fn truncate_name(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    match s.split_once('/') {
        Some((kind, name)) if max.saturating_sub(width(kind) + 1) >= 8 => {
            format!("{kind}/{}", cut_start(name, max - width(kind) - 1))
        }
        Some((_, name)) => cut_start(name, max),
        None => cut_start(s, max),
    }
}

/// `…` and the end of `s` that fits in `max` cells.
fn cut_start(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    match max.checked_sub(1) {
        Some(room) => format!("…{}", s.unicode_truncate_start(room).0),
        None => String::new(),
    }
}

/// `line` cut to at most `max` cells, ending in `…` when something was cut.
pub fn clip(line: Line<'static>, max: usize) -> Line<'static> {
    if line.width() <= max {
        return line;
    }
    let Line {
        spans,
        style,
        alignment,
    } = line;
    let mut out: Vec<Span> = Vec::new();
    let mut used = 0;
    for span in spans {
        let w = span.width();
        if used + w < max {
            used += w;
            out.push(span);
            continue;
        }
        if let Some(room) = (max - used).checked_sub(1) {
            let cut = span.content.unicode_truncate(room).0;
            out.push(Span::styled(format!("{}…", cut.trim_end()), span.style));
        }
        break;
    }
    Line {
        spans: out,
        style,
        alignment,
    }
}

/// `s` truncated to `w` cells and padded with spaces to exactly `w`.
pub fn pad(s: &str, w: usize) -> String {
    let mut out = truncate(s, w);
    let used = width(&out);
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(used)));
    out
}

/// `s` padded on the left to `w` cells (numbers in columns).
pub fn pad_left(s: &str, w: usize) -> String {
    let s = truncate(s, w);
    let mut out: String = std::iter::repeat_n(' ', w.saturating_sub(width(&s))).collect();
    out.push_str(&s);
    out
}

/// Word-wraps `s` to lines of at most `max` cells; words longer than a line are cut into pieces.
pub fn wrap(s: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines = Vec::new();
    for paragraph in s.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in paragraph.split_whitespace() {
            let ww = width(word);
            let gap = usize::from(used > 0);
            if used + gap + ww <= max {
                if gap == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                used += gap + ww;
                continue;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            for c in word.chars() {
                let cw = char_width(c);
                if used + cw > max && used > 0 {
                    lines.push(std::mem::take(&mut line));
                    used = 0;
                }
                line.push(c);
                used += cw;
            }
        }
        lines.push(line);
    }
    lines
}

/// `45s`, `12m`, `3h`, `2d`: the largest whole unit, as kubectl writes ages.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m", s / 60),
        3_600..86_400 => format!("{}h", s / 3_600),
        _ => format!("{}d", s / 86_400),
    }
}

/// `66s`, `2m51s`, `14m`, `3h20m`, `5d2h`: an age as `kubectl get` columns write it, more
/// precise while it is young (apimachinery `util/duration.HumanDuration`, which kubectl's
/// printers use for AGE and RESTARTS).
pub fn human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (m, h) = (s / 60, s / 3_600);
    let (d, y) = (h / 24, h / (24 * 365));
    let pair = |big: i64, a: &str, small: i64, b: &str| match small {
        0 => format!("{big}{a}"),
        _ => format!("{big}{a}{small}{b}"),
    };
    match s {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 => pair(m, "m", s % 60, "s"),
        _ if m < 180 => format!("{m}m"),
        _ if h < 8 => pair(h, "h", m % 60, "m"),
        _ if h < 48 => format!("{h}h"),
        _ if h < 24 * 8 => pair(d, "d", h % 24, "h"),
        _ if h < 24 * 365 * 2 => format!("{d}d"),
        _ if h < 24 * 365 * 8 => pair(y, "y", d % 365, "d"),
        _ => format!("{y}y"),
    }
}

/// The seconds after `at` when an age written with `step_of` (how long it holds its text at a
/// given age in seconds) first reads differently from how it reads at `now`: ages are
/// whole steps counted from `at`, so the next one begins at a multiple of the step.
fn next_step_after(
    at: jiff::Timestamp,
    now: jiff::Timestamp,
    step_of: fn(i64) -> i64,
) -> jiff::Timestamp {
    let s = (now.as_second() - at.as_second()).max(0);
    let step = step_of(s);
    jiff::Timestamp::from_second(at.as_second() + (s / step + 1) * step)
        .unwrap_or(jiff::Timestamp::MAX)
}

/// When [`age`] of `at` (counted at `now`) next reads differently: each second under a
/// minute, then on the minute, the hour, the day.
pub fn age_changes_at(at: jiff::Timestamp, now: jiff::Timestamp) -> jiff::Timestamp {
    next_step_after(at, now, |s| match s {
        0..60 => 1,
        60..3_600 => 60,
        3_600..86_400 => 3_600,
        _ => 86_400,
    })
}

/// When [`human_duration`] of `at` (counted at `now`) next reads differently: each second
/// under ten minutes (`2m51s`), each minute under eight hours, each hour under eight days,
/// then each day.
pub fn human_duration_changes_at(at: jiff::Timestamp, now: jiff::Timestamp) -> jiff::Timestamp {
    next_step_after(at, now, |s| match s {
        _ if s < 600 => 1,
        _ if s < 8 * 3_600 => 60,
        _ if s < 8 * 86_400 => 3_600,
        _ => 86_400,
    })
}

/// `12:30` or `1:02:30`: a countdown.
pub fn countdown(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 3_600 {
        format!("{}:{:02}:{:02}", s / 3_600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// `14:03:07`, in UTC.
pub fn clock(t: jiff::Timestamp) -> String {
    t.strftime("%H:%M:%S").to_string()
}

/// `14:03`, in UTC: the header's clock, which a wall screen reads in minutes and which
/// redraws once a minute.
pub fn minutes(t: jiff::Timestamp) -> String {
    t.strftime("%H:%M").to_string()
}

/// When [`minutes`] next reads differently: the next minute.
pub fn minutes_change_at(now: jiff::Timestamp) -> jiff::Timestamp {
    let s = now.as_second();
    jiff::Timestamp::from_second(s - s.rem_euclid(60) + 60).unwrap_or(jiff::Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn truncation_and_padding_count_cells() {
        assert_eq!(truncate("checkout", 5), "chec…");
        assert_eq!(truncate("web", 5), "web");
        assert_eq!(truncate("web", 0), "");
        assert_eq!(truncate("web", 1), "…");
        assert_eq!(pad("v1", 4), "v1  ");
        assert_eq!(pad_left("3", 3), "  3");
        assert_eq!(
            truncate_start("registry.example.com/shop/web:1.5.0", 18),
            "…/shop/web:1.5.0"
        );
        assert_eq!(truncate_start("abcdef", 4), "…def");
        assert_eq!(truncate_name("http-service-v2", 11), "…service-v2");
        assert_eq!(
            truncate_name("Deployment/http-service-v2", 22),
            "Deployment/…service-v2"
        );
        assert_eq!(
            truncate_name("Deployment/http-service-v2", 12),
            "…-service-v2"
        );
        assert_eq!(truncate_name("deploy/search-v5", 14), "search-v5");
        assert_eq!(
            truncate_name("pod/search-v5-7c9f8d6b5-x7k2p", 14),
            "pod/…6b5-x7k2p"
        );
        assert_eq!(truncate_name("web-v2", 11), "web-v2");
        assert_eq!(
            clip(Line::from("staged → approve"), 10).to_string(),
            "staged →…"
        );
        assert_eq!(
            clip(Line::from(vec![Span::raw("ab"), Span::raw("cd")]), 3).to_string(),
            "ab…"
        );
    }

    #[test]
    fn cuts_keep_accents_on_their_letters_and_ellipses_in_the_text() {
        // A combining accent stays with its letter instead of landing after the `…`.
        assert_eq!(truncate_name(" e\u{301}", 1), "…");
        assert_eq!(truncate("ae\u{301}bc", 3), "ae\u{301}…");
        // A `…` in the text itself is kept: the tail is not mistaken for an earlier cut.
        assert_eq!(truncate_name("abcdef…gh", 4), "……gh");
    }

    #[test]
    fn wrapping_keeps_words_and_cuts_long_ones() {
        assert_eq!(
            wrap("switch shop/web to v2", 10),
            ["switch", "shop/web", "to v2"]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
    }

    #[test]
    fn ages_and_countdowns() {
        assert_eq!(age(45), "45s");
        assert_eq!(age(720), "12m");
        assert_eq!(age(3 * 3_600 + 5), "3h");
        assert_eq!(age(2 * 86_400), "2d");
        assert_eq!(age(-5), "0s");
        assert_eq!(countdown(750), "12:30");
        assert_eq!(countdown(3_750), "1:02:30");
    }

    /// For ages up to eight years (after which the years step, not the days said): the text
    /// holds until the instant said, and changes there.
    #[test]
    fn ages_change_exactly_when_said() {
        let at = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let seconds = |t: jiff::Timestamp| t.as_second() - at.as_second();
        type Written = (
            fn(i64) -> String,
            fn(jiff::Timestamp, jiff::Timestamp) -> jiff::Timestamp,
        );
        let cases: [Written; 2] = [
            (age, age_changes_at),
            (human_duration, human_duration_changes_at),
        ];
        for (write, changes_at) in cases {
            let mut s = -3;
            while s < 8 * 365 * 86_400 {
                let now = jiff::Timestamp::from_second(at.as_second() + s).unwrap();
                let next = changes_at(at, now);
                assert!(next > now, "{s}s");
                assert_eq!(
                    write(seconds(next) - 1),
                    write(s),
                    "{s}s holds until {next}"
                );
                assert_ne!(write(seconds(next)), write(s), "{s}s changes at {next}");
                s += 1 + s / 50;
            }
        }
        let now: jiff::Timestamp = "2026-11-30T14:03:59.5Z".parse().unwrap();
        assert_eq!(minutes(now), "14:03");
        assert_eq!(minutes_change_at(now).to_string(), "2026-11-30T14:04:00Z");
    }

    #[test]
    fn human_durations_read_as_kubectl_writes_them() {
        // apimachinery util/duration/duration_test.go's cases, in seconds.
        let rows = [
            (0, "0s"),
            (66, "66s"),
            (119, "119s"),
            (120, "2m"),
            (171, "2m51s"),
            (599, "9m59s"),
            (600, "10m"),
            (3 * 3_600 - 60, "179m"),
            (3 * 3_600, "3h"),
            (3 * 3_600 + 20 * 60, "3h20m"),
            (8 * 3_600, "8h"),
            (47 * 3_600 + 59 * 60, "47h"),
            (48 * 3_600, "2d"),
            (5 * 86_400 + 2 * 3_600, "5d2h"),
            (8 * 86_400, "8d"),
            (2 * 365 * 86_400 + 3 * 86_400, "2y3d"),
            (9 * 365 * 86_400, "9y"),
            (-5, "0s"),
        ];
        for (seconds, want) in rows {
            assert_eq!(human_duration(seconds), want, "{seconds}s");
        }
    }
}
