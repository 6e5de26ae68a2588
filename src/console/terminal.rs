//! The terminal, left as it was found on every exit path (return, error, panic), and the
//! signals that end the console (SIGHUP when SSH drops, SIGTERM, SIGQUIT, SIGINT).

use std::io::{Stdout, Write as _, stdout};

use anyhow::Context as _;
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Puts the terminal back: main screen, cooked mode, visible cursor. Safe to call twice.
pub fn restore() {
    let mut out = stdout();
    let _ = execute!(
        out,
        EndSynchronizedUpdate,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// The console's hold on the terminal; dropping it restores the terminal.
pub struct Guard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Guard {
    pub fn enter() -> anyhow::Result<Guard> {
        install_panic_hook();
        enable_raw_mode()
            .context("could not put the terminal in raw mode (is this a terminal?)")?;
        let mut out = stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, cursor::Hide) {
            restore();
            return Err(e).context("could not switch to the alternate screen");
        }
        let terminal = match Terminal::new(CrosstermBackend::new(out)) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e).context("could not set up the terminal");
            }
        };
        Ok(Guard { terminal })
    }
}

impl super::Screen for Guard {
    /// Draws one frame inside a synchronized update, so the terminal shows it whole.
    fn draw(&mut self, render: &mut dyn FnMut(&mut ratatui::Frame)) -> anyhow::Result<()> {
        execute!(self.terminal.backend_mut(), BeginSynchronizedUpdate)
            .context("writing to the terminal")?;
        self.terminal
            .draw(|f| render(f))
            .context("drawing to the terminal")?;
        execute!(self.terminal.backend_mut(), EndSynchronizedUpdate)
            .context("writing to the terminal")?;
        Ok(())
    }

    fn resized(&mut self) -> anyhow::Result<()> {
        self.terminal
            .autoresize()
            .context("reading the terminal size")
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// On a panic: the terminal first (so the report lands on the main screen), then the report
/// with its backtrace in the log file (the console's stderr is the screen it just left).
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            let backtrace = std::backtrace::Backtrace::force_capture();
            tracing::error!("cutover {info}\n{backtrace}");
            previous(info);
        }));
    });
}

/// The key pressed, passed on. Test builds only (`debug_assertions`): when
/// `CUTOVER_PANIC_ON_KEY` is set, its first character pressed panics the event loop, so
/// tests/terminal.rs can check that a panic restores the terminal and reaches the log.
/// Release builds ignore the variable.
#[allow(clippy::panic)] // the injected panic is the point
pub fn pressed(key: crossterm::event::KeyEvent) -> crossterm::event::KeyEvent {
    if !cfg!(debug_assertions) {
        return key;
    }
    let wanted = std::env::var("CUTOVER_PANIC_ON_KEY").ok();
    let wanted = wanted.and_then(|v| v.chars().next());
    if wanted.is_some_and(|c| key.code == crossterm::event::KeyCode::Char(c)) {
        panic!("CUTOVER_PANIC_ON_KEY: the injected panic of a test build");
    }
    key
}

/// A signal that ended the console: its name and number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    pub name: &'static str,
    pub number: i32,
}

impl Signal {
    /// The exit status a shell gives a process a signal ended, 128 + its number (POSIX
    /// `wait` status as shells report it), so scripts and supervisors see why it stopped.
    pub fn exit_status(self) -> u8 {
        u8::try_from(128 + self.number).unwrap_or(u8::MAX)
    }
}

/// Signals that end the console.
pub struct Signals {
    #[cfg(unix)]
    streams: Vec<(Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    pub fn new() -> anyhow::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut streams = Vec::new();
            for (name, number) in [
                ("SIGHUP", libc::SIGHUP),
                ("SIGTERM", libc::SIGTERM),
                ("SIGQUIT", libc::SIGQUIT),
                ("SIGINT", libc::SIGINT),
            ] {
                let s = signal(SignalKind::from_raw(number))
                    .with_context(|| format!("could not listen for {name}"))?;
                streams.push((Signal { name, number }, s));
            }
            Ok(Signals { streams })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Waits for the next signal.
    pub async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            let waits = self.streams.iter_mut().map(|(signal, s)| {
                Box::pin(async move {
                    s.recv().await;
                    *signal
                })
            });
            futures::future::select_all(waits).await.0
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal {
                name: "Ctrl-C",
                number: 2,
            }
        }
    }
}
