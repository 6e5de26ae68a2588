//! The console: state and update (`app`), key bindings (`keymap`), drawing (`draw`), themes
//! (`theme`), and here the event loop that joins keys, signals, ticks and the cluster feed.

pub mod app;
pub mod draw;
pub mod keymap;
mod poll;
mod share;
pub mod terminal;
pub mod theme;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt as _;
use tokio::sync::mpsc;

use app::{App, Effect, Msg, Place, Reconnect, Session, SwitchTo};
use keymap::Key;
use theme::Theme;

use crate::cluster::feed::{Feed, Liveness};
use crate::cluster::reach;

/// At most this many frames a second.
const FRAME: Duration = Duration::from_millis(50);
use app::WAIT_LIMIT;

/// Sends confirmed plans. A read-only console is started without one, so it has no way to write.
pub struct Writer {
    client: kube::Client,
    /// The stop switch of each plan sent, by release, until its outcome comes back. Which
    /// plans run is the app's to say ([`App::is_running`]); these are only the handles.
    stops: std::collections::HashMap<String, Arc<AtomicBool>>,
}

impl Writer {
    pub fn new(client: kube::Client) -> Writer {
        Writer {
            client,
            stops: Default::default(),
        }
    }

    /// Stops the plan running for `release` before its next step.
    fn cancel(&self, release: &str) {
        if let Some(flag) = self.stops.get(release) {
            flag.store(true, Ordering::SeqCst);
        }
    }

    /// Sends `plan` in the background; its outcome comes back on `done` as [`Msg::Applied`].
    fn send(&mut self, plan: crate::release::plan::Plan, done: mpsc::UnboundedSender<Msg>) {
        let client = self.client.clone();
        let flag = Arc::new(AtomicBool::new(false));
        self.stops.insert(plan.release.clone(), flag.clone());
        tokio::spawn(async move {
            let release = plan.release.clone();
            let progress_tx = done.clone();
            let progress = move |p: crate::cluster::apply::Progress<'_>| {
                let (index, done) = match p {
                    crate::cluster::apply::Progress::Started { index, .. } => (index, false),
                    crate::cluster::apply::Progress::Done { index, .. } => (index, true),
                };
                let _ = progress_tx.send(Msg::Progress(app::StepProgress {
                    release: release.clone(),
                    index,
                    done,
                }));
            };
            let outcome = crate::cluster::apply::apply_cancellable(
                &client, &plan, WAIT_LIMIT, progress, &flag,
            )
            .await;
            let (ok, text) = match &outcome.failure {
                None => (true, format!("Done: {}", plan.summary)),
                Some(f) if outcome.done == 0 => (false, format!("Nothing was changed: {f}")),
                Some(f) => (
                    false,
                    format!(
                        "Stopped after {} of {} steps: {f}",
                        outcome.done,
                        plan.steps.len()
                    ),
                ),
            };
            let conflict = matches!(
                outcome.failure,
                Some(crate::cluster::apply::Failure::Conflict(_))
            );
            let cancelled = matches!(
                outcome.failure,
                Some(crate::cluster::apply::Failure::Cancelled(_))
            );
            let _ = done.send(Msg::Applied(app::Applied {
                release: plan.release.clone(),
                op: plan.op.clone(),
                ok,
                conflict,
                cancelled,
                text,
            }));
        });
    }
}

/// Where frames go: the real terminal, or a test backend in headless tests.
pub trait Screen {
    fn draw(&mut self, render: &mut dyn FnMut(&mut ratatui::Frame)) -> anyhow::Result<()>;
    /// The terminal changed size.
    fn resized(&mut self) -> anyhow::Result<()>;
}

/// A screen without a terminal: frames are drawn into a test backend and published as text,
/// for tests and benchmarks that drive the real event loop.
pub struct Headless {
    terminal: ratatui::Terminal<ratatui::backend::TestBackend>,
    frames: tokio::sync::watch::Sender<String>,
}

impl Headless {
    /// The screen and a receiver of the text of each frame drawn.
    pub fn new(
        width: u16,
        height: u16,
    ) -> anyhow::Result<(Headless, tokio::sync::watch::Receiver<String>)> {
        let (frames, rx) = tokio::sync::watch::channel(String::new());
        let backend = ratatui::backend::TestBackend::new(width, height);
        let terminal = ratatui::Terminal::new(backend)?;
        Ok((Headless { terminal, frames }, rx))
    }
}

impl Screen for Headless {
    fn draw(&mut self, render: &mut dyn FnMut(&mut ratatui::Frame)) -> anyhow::Result<()> {
        self.terminal.draw(|f| render(f))?;
        let buffer = self.terminal.backend().buffer();
        let width = usize::from(buffer.area.width.max(1));
        let text: String = buffer
            .content()
            .chunks(width)
            .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
            .collect();
        self.frames.send_replace(text);
        Ok(())
    }

    fn resized(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Connects where `at` says and works out what to watch there: the named namespaces, the
/// scope, or where every namespace may not be listed the readable ones
/// ([`crate::cluster::Connected::readable`]), said on the log when so.
///
/// # Errors
/// The kubeconfig cannot be read or names no such context, or no client can be built.
pub async fn connect(at: &Reconnect) -> Result<(kube::Client, Place), crate::cluster::Error> {
    let connected = crate::cluster::connect_to(&at.target).await?;
    let kept = reach::kept_namespaces(&at.target, &connected.context);
    let readable = connected.readable(&at.named, &kept).await;
    for note in readable.note.iter().chain(&connected.insecure_warning()) {
        tracing::warn!("{note}");
    }
    let cluster = reach::contexts(&at.target)
        .into_iter()
        .find(|c| c.name == connected.context)
        .map(|c| c.cluster)
        .unwrap_or_default();
    let place = Place {
        context: connected.context,
        cluster,
        server: connected.server,
        user: connected.user,
        watching: readable.watching,
        note: readable.note,
        insecure_cluster: connected.insecure_cluster,
        readable_namespaces: kept,
    };
    Ok((connected.client, place))
}

/// The session at `place` that can switch to the kubeconfig's other contexts and namespaces.
pub fn switching_session(place: Place, read_only: bool, at: Reconnect) -> Session {
    Session {
        contexts: reach::contexts(&at.target)
            .into_iter()
            .map(|c| c.name)
            .collect(),
        reconnect: Some(at),
        ..Session::at(place, read_only)
    }
}

/// Runs the console until the user quits, the terminal goes away or a signal arrives, and
/// says which signal ended it (None: the user or the terminal did). `writer` is None in
/// read-only mode.
pub async fn run(
    client: kube::Client,
    session: Session,
    theme: Theme,
    writer: Option<Writer>,
) -> anyhow::Result<Option<terminal::Signal>> {
    let feed = Feed::start_in(
        client,
        session.watching(),
        !session.read_only,
        Liveness::DEFAULT,
    );
    let mut signals = terminal::Signals::new()?;
    let mut term = terminal::Guard::enter()?;
    let result = tokio::select! {
        r = drive(&mut term, EventStream::new(), &feed, session, &theme, writer) => r.map(|()| None),
        signal = signals.next() => {
            tracing::info!("{}: quitting", signal.name);
            Ok(Some(signal))
        }
    };
    drop(term);
    result
}

/// A connection made for `:ctx` or `:ns`, or why it failed, with the switch it answers.
type Arrival = (SwitchTo, Result<(kube::Client, Place), String>);

/// What the event loop acts on for the app: the feed it reads (another after a switch) and
/// the writer, if any.
struct Outlet<'f> {
    started: &'f Feed,
    switched: Option<Feed>,
    writer: Option<Writer>,
    arrivals: mpsc::UnboundedSender<Arrival>,
    /// The logs pane's streams, stopped when dropped.
    logs: Vec<crate::cluster::logs::LogStreams>,
    /// The golden signals' poller of the focused release, stopped when dropped.
    signals: Option<poll::SignalsPoll>,
    log_lines: mpsc::UnboundedSender<crate::cluster::logs::LogBatch>,
}

impl<'f> Outlet<'f> {
    /// The outlet of a loop started on `started`, with the receivers of the connections
    /// made for switches and of the logs pane's lines.
    fn new(
        started: &'f Feed,
        writer: Option<Writer>,
    ) -> (
        Outlet<'f>,
        mpsc::UnboundedReceiver<Arrival>,
        mpsc::UnboundedReceiver<crate::cluster::logs::LogBatch>,
    ) {
        let (arrivals, arrivals_rx) = mpsc::unbounded_channel();
        let (log_lines, log_lines_rx) = mpsc::unbounded_channel();
        let outlet = Outlet {
            started,
            switched: None,
            writer,
            arrivals,
            logs: Vec::new(),
            log_lines,
            signals: None,
        };
        (outlet, arrivals_rx, log_lines_rx)
    }

    fn feed(&self) -> &Feed {
        self.switched.as_ref().unwrap_or(self.started)
    }

    /// Carries out one effect; true when the console is to quit.
    fn carry_out(
        &mut self,
        effect: Effect,
        app: &App,
        applied: &mpsc::UnboundedSender<Msg>,
    ) -> bool {
        match effect {
            Effect::Focus(focus) => {
                // The poller follows the focus: a new release, a new poller; none, none.
                self.signals = match (&focus, app.session.metrics_here()) {
                    (Some(f), Some(settings)) => Some(poll::start(
                        settings,
                        self.feed().client(),
                        f.release.clone(),
                        self.feed().views(),
                        applied.clone(),
                    )),
                    _ => None,
                };
                self.feed().focus(focus);
            }
            Effect::Apply(plan) => match &mut self.writer {
                Some(w) => w.send(*plan, applied.clone()),
                None => tracing::error!("a plan reached a console without a writer"),
            },
            Effect::Cancel(release) => {
                if let Some(w) = &self.writer {
                    w.cancel(&release);
                }
            }
            Effect::Switch(to) => match &app.session.reconnect {
                Some(at) => {
                    let at = at.to(&to, &app.session.context);
                    let arrivals = self.arrivals.clone();
                    tokio::spawn(async move {
                        let connected = connect(&at).await.map_err(|e| e.to_string());
                        let _ = arrivals.send((to, connected));
                    });
                }
                None => tracing::error!("a switch reached a console that cannot connect"),
            },
            Effect::OpenLogs(request) => {
                let client = self.feed().client().clone();
                let lines = self.log_lines.clone();
                self.logs
                    .push(crate::cluster::logs::start(client, *request, lines));
            }
            Effect::CloseLogs => self.logs.clear(),
            Effect::StopLogs { stream, pod } => {
                self.logs.iter_mut().for_each(|s| s.stop(stream, &pod));
                self.logs.retain(|s| !s.is_empty());
            }
            Effect::Quit => return true,
        }
        false
    }

    /// Connected elsewhere: the old feed stops, a new one starts, and a writer (only where
    /// there was one: read-only stays read-only) writes with the new client.
    fn arrive(&mut self, client: kube::Client, place: &Place, read_only: bool) {
        self.started.stop();
        let feed = Feed::start_in(
            client.clone(),
            place.watching.clone(),
            !read_only,
            Liveness::DEFAULT,
        );
        self.switched = Some(feed);
        if self.writer.is_some() {
            self.writer = Some(Writer::new(client));
        }
    }
}

/// What a terminal event asks of the event loop.
enum Input {
    Msg(Msg),
    Resized,
    Ignored,
    /// The terminal is gone (hang-up, closed pty): stop rather than spin.
    Ended,
}

fn input(event: Option<std::io::Result<TermEvent>>) -> Input {
    match event {
        Some(Ok(TermEvent::Key(k))) if Key::from_event(&k).is_some() => {
            Input::Msg(Msg::Press(terminal::pressed(k)))
        }
        Some(Ok(TermEvent::Resize(..))) => Input::Resized,
        Some(Ok(_)) => Input::Ignored,
        Some(Err(e)) => {
            tracing::info!("terminal input failed: {e}");
            Input::Ended
        }
        None => Input::Ended,
    }
}

/// When the event loop is to tick: when the app says the screen next reads differently by
/// time alone ([`App::changes_at`], by the wall clock), at least once a minute.
fn wake(app: &App) -> tokio::time::Instant {
    let left = app.changes_at().duration_since(jiff::Timestamp::now());
    let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
    tokio::time::Instant::now() + left.min(Duration::from_secs(60))
}

/// The event loop: keys, cluster views, ticks and outcomes in; frames (at most one per
/// `FRAME`, only after a change) and effects out. Returns when the user quits or the input
/// ends (a closed terminal).
pub async fn drive<S, K>(
    screen: &mut S,
    mut keys: K,
    feed: &Feed,
    session: Session,
    theme: &Theme,
    writer: Option<Writer>,
) -> anyhow::Result<()>
where
    S: Screen,
    K: futures::Stream<Item = std::io::Result<TermEvent>> + Unpin,
{
    let mut app = App::new(session, jiff::Timestamp::now());
    let mut views = feed.views();
    let (applied_tx, mut applied_rx) = mpsc::unbounded_channel();
    let (mut outlet, mut arrivals_rx, mut log_lines_rx) = Outlet::new(feed, writer);
    // A key's answer is drawn at once: the cap holds back the cluster's frames, not a person's.
    let (mut dirty, mut pressed) = (true, false);
    let mut last_frame = tokio::time::Instant::now() - FRAME;
    loop {
        if dirty && (pressed || last_frame.elapsed() >= FRAME) {
            screen.draw(&mut |f| draw::draw(&app, theme, f))?;
            (dirty, pressed) = (false, false);
            last_frame = tokio::time::Instant::now();
        }
        let next_frame = last_frame + FRAME;
        let msg = tokio::select! {
            event = keys.next() => match input(event) {
                Input::Msg(msg) => msg,
                Input::Resized => {
                    screen.resized()?;
                    dirty = true;
                    continue;
                }
                Input::Ignored => continue,
                Input::Ended => return Ok(()),
            },
            changed = views.changed() => match changed {
                Ok(()) => Msg::View(views.borrow_and_update().clone()),
                Err(_) => anyhow::bail!("the cluster feed stopped"),
            },
            // No ticker: the loop sleeps until the screen would read differently.
            _ = tokio::time::sleep_until(wake(&app)) => Msg::Tick(jiff::Timestamp::now()),
            Some(msg) = applied_rx.recv() => msg,
            Some(batch) = log_lines_rx.recv() => Msg::Logs(batch),
            Some((to, arrival)) = arrivals_rx.recv() => match arrival {
                // An answer to a switch since replaced by another is dropped.
                _ if app.switching.as_ref() != Some(&to) => continue,
                Ok((client, place)) => {
                    outlet.arrive(client, &place, app.read_only());
                    views = outlet.feed().views();
                    Msg::Switched(Box::new(place))
                }
                Err(why) => Msg::SwitchFailed(why),
            },
            _ = tokio::time::sleep_until(next_frame), if dirty => continue,
        };
        let now = jiff::Timestamp::now();
        if let Msg::Tick(_) = msg
            && !app.tick_changes_screen(now)
        {
            continue;
        }
        app.set_clock(now);
        dirty = true;
        pressed = matches!(msg, Msg::Press(_));
        if let (Msg::Applied(a), Some(w)) = (&msg, &mut outlet.writer) {
            w.stops.remove(&a.release);
        }
        for effect in app.update(msg) {
            if outlet.carry_out(effect, &app, &applied_tx) {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::{ADMIN, Config, EmbeddedCluster};

    /// Issue 17: a console with nothing on screen counting seconds draws no frame while
    /// nothing happens (it drew one each second, and one for each liveness probe answered).
    #[tokio::test]
    async fn an_idle_console_draws_no_frame_between_minutes() {
        let addr = "127.0.0.1:0".parse().expect("an address");
        let cluster = EmbeddedCluster::start(Config::test(), addr)
            .await
            .expect("the cluster");
        let client = cluster.client(&ADMIN).await.expect("a client");
        let probing = Liveness {
            probe_every: Duration::from_millis(300),
            ..Liveness::DEFAULT
        };
        let feed = Feed::start_with(client, None, false, probing);
        let (mut screen, mut frames) = Headless::new(80, 24).expect("a screen");
        let session = Session {
            user: ADMIN.user.into(),
            ..Session::default()
        };
        let console = tokio::spawn(async move {
            let theme = Theme::builtin("default").expect("the default theme");
            let keys = futures::stream::pending::<std::io::Result<TermEvent>>();
            drive(&mut screen, keys, &feed, session, &theme, None).await
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !frames.borrow_and_update().contains("● live") {
            assert!(tokio::time::Instant::now() < deadline, "never live");
            let _ = tokio::time::timeout(Duration::from_millis(200), frames.changed()).await;
        }
        // Settled, then watched for 3 s clear of a minute's turn (the header's clock
        // changes then).
        tokio::time::sleep(Duration::from_secs(1)).await;
        let into_minute = jiff::Timestamp::now().as_second().rem_euclid(60);
        if into_minute > 55 {
            tokio::time::sleep(Duration::from_secs(62 - into_minute.unsigned_abs())).await;
        }
        frames.borrow_and_update();
        let quiet = tokio::time::timeout(Duration::from_secs(3), frames.changed()).await;
        console.abort();
        assert!(quiet.is_err(), "a frame was drawn:\n{}", *frames.borrow());
    }
}
