//! The real console (feed, event loop, headless 120×40 screen) against an embedded cluster,
//! driven by keys from a test.

use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use cutover::cluster::feed::Feed;
use cutover::console::app::Session;
use cutover::console::theme::Theme;
use cutover::console::{Headless, Writer, drive};
use cutover::embedded::{self, EmbeddedCluster, Identity};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Where a test's key presses go.
pub type Keys = mpsc::UnboundedSender<std::io::Result<TermEvent>>;

/// One key press, without modifiers.
pub fn press(keys: &Keys, code: KeyCode) {
    let _ = keys.send(Ok(TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))));
}

/// A running console: its keys, its frames as text, and its task.
pub struct Console {
    pub keys: Keys,
    pub frames: watch::Receiver<String>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Console {
    /// Starts the console as `identity` over all namespaces; `read_only` gives it no writer
    /// (watch mode), else it writes with the identity's client.
    pub async fn start(cluster: &EmbeddedCluster, identity: &Identity, read_only: bool) -> Console {
        let client = cluster.client(identity).await.expect("client");
        let feed = Feed::start(client.clone(), None, !read_only);
        let (mut screen, frames) = Headless::new(120, 40).expect("screen");
        let (keys, keys_rx) = mpsc::unbounded_channel();
        let session = Session {
            context: embedded::context_name(identity),
            server: cluster.url(),
            scope: None,
            user: identity.user.into(),
            read_only,
            keymap: None,
            ..Session::default()
        };
        let theme = Theme::builtin("default").expect("theme");
        let writer = (!read_only).then(|| Writer::new(client));
        let task = tokio::spawn(async move {
            let keys = tokio_stream::wrappers::UnboundedReceiverStream::new(keys_rx);
            drive(&mut screen, keys, &feed, session, &theme, writer).await
        });
        Console { keys, frames, task }
    }

    /// Presses `q` and waits (10 s at most) for the console to end without an error.
    pub async fn quit(self) {
        press(&self.keys, KeyCode::Char('q'));
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("q quits")
            .expect("join")
            .expect("console");
    }
}

/// The text of the console's screen once it shows `text` (20 s at most).
pub async fn screen_shows(frames: &mut watch::Receiver<String>, text: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let screen = frames.borrow_and_update().clone();
        if screen.contains(text) {
            return screen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for the screen to show {text:?}; it shows:\n{screen}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), frames.changed()).await;
    }
}
