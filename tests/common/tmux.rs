//! A detached tmux session driving the real binary, read back by capturing the pane.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A detached tmux session on its own server socket, killed when dropped.
pub struct Tmux {
    socket: String,
    session: &'static str,
}

impl Tmux {
    pub fn start(command: &str, width: u16, height: u16, env: &[(&str, &Path)]) -> Tmux {
        let socket = format!("cutover-test-{}-{}", std::process::id(), fastrand::u32(..));
        let mut cmd = Command::new("tmux");
        cmd.args([
            "-L",
            &socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "e2e",
        ])
        .args(["-x", &width.to_string(), "-y", &height.to_string()]);
        for (k, v) in env {
            cmd.arg("-e").arg(format!("{k}={}", v.display()));
        }
        let status = cmd
            .arg("-e")
            .arg("TERM=xterm-256color")
            .arg(command)
            .stdin(Stdio::null())
            .status()
            .expect("run tmux (is it installed?)");
        assert!(status.success(), "tmux new-session failed");
        Tmux {
            socket,
            session: "e2e",
        }
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", self.session])
    }

    /// The screen with its colours and attributes, as SGR sequences (`capture-pane -e`).
    pub fn screen_with_colours(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-t", self.session])
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", self.session, k]);
        }
    }

    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", self.session, "-l", text]);
    }

    /// Waits until the pane passes `check`; the failure shows the last screen.
    pub fn wait(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        self.wait_within(what, Duration::from_secs(30), check)
    }

    /// [`Tmux::wait`] with a deadline of `within`.
    pub fn wait_within(
        &self,
        what: &str,
        within: Duration,
        check: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_for_text(&self, text: &str) -> String {
        self.wait(&format!("{text:?} on screen"), |s| s.contains(text))
    }

    /// A pane format variable, e.g. `#{alternate_on}`.
    pub fn pane_value(&self, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", self.session, format])
            .trim()
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}
