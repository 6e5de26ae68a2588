//! Whether the feed can vouch for its view: when it last heard from the server (any byte the
//! client read, see [`crate::cluster::transport::Heard`], or else a watch event or a probe's
//! answer), a cheap probe (`GET /version`) only after `probe_every` of silence, the view called
//! stale when nothing has been heard for too long, and the watches restarted (so they relist)
//! once the server answers again. Over HTTP/2 the client's PINGs keep a healthy link from ever
//! being silent that long, so an idle feed sends no request; over HTTP/1.1 silence between
//! watch re-opens still brings probes.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::{Connection, Global};
use crate::cluster::Timeouts;
use crate::cluster::transport::Link;

/// How the feed checks that the server is there, and when it calls its view stale. A link
/// that silently stops passing packets is noticed within `stale_after` + one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    /// Silence (nothing read from the server) before a probe, and between probes while all
    /// is well.
    pub probe_every: Duration,
    /// A probe not answered within this has failed.
    pub answer_within: Duration,
    /// Nothing heard from the server (no watch event, no probe answer) for this long: the view
    /// is stale.
    pub stale_after: Duration,
    /// How long the server keeps each watch open (`timeoutSeconds`) over HTTP/1.1, where a
    /// quiet connection reads nothing and the socket's idle limit would cut it.
    pub watch: Duration,
    /// The same over HTTP/2, whose PINGs vouch for a quiet connection: 30 minutes, the
    /// shortest watch kube-apiserver picks itself when a client names none
    /// (`--min-request-timeout`, 1800 s; it picks between that and twice that). Each re-open
    /// is a request an idle console makes: its watches re-open once in 30 minutes.
    pub long_watch: Duration,
    /// One request's whole answer (API discovery of the Gateway API).
    pub request: Duration,
    /// Between questions whether an API that is not served (the Gateway API without its
    /// CRDs) has been installed since.
    pub ask_again: Duration,
}

impl Liveness {
    /// Probe after 10 s of silence, answer within 5 s, stale after 20 s of silence: a dead
    /// link shows within 21 s, and the screen is current within a few seconds of the link
    /// coming back. Watches last 20 s over HTTP/1.1, 30 minutes over HTTP/2. An API that is not
    /// served is asked for again every 3 minutes.
    pub const DEFAULT: Liveness = Liveness {
        probe_every: Duration::from_secs(10),
        answer_within: Duration::from_secs(5),
        stale_after: Duration::from_secs(20),
        watch: Timeouts::DEFAULT.watch,
        long_watch: Duration::from_secs(1800),
        request: Timeouts::DEFAULT.request,
        ask_again: Duration::from_secs(180),
    };

    /// How often the feed looks at the clock: often enough to notice staleness promptly.
    pub(super) fn tick(&self) -> Duration {
        (self.stale_after / 8).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    /// A watch's configuration: bounded by the server-side `timeoutSeconds` (whole seconds,
    /// at least 1), after which kube's watcher gives a silent watch 5 s more.
    pub(super) fn watch_config(&self) -> kube::runtime::watcher::Config {
        let seconds = u32::try_from(self.watch.as_secs().max(1)).unwrap_or(u32::MAX);
        kube::runtime::watcher::Config::default().timeout(seconds)
    }
}

impl Default for Liveness {
    fn default() -> Liveness {
        Liveness::DEFAULT
    }
}

/// What the feed knows about its contact with the server.
pub(super) struct Contact {
    liveness: Liveness,
    /// The last watch event, list or probe answer.
    last_heard: Instant,
    /// The client's transport, once a probe's answer has shown it.
    link: Link,
    last_probe: Option<Instant>,
    /// A probe is under way.
    pub(super) probing: bool,
    /// The last time the server was heard before the view went stale; kept until the watches
    /// have relisted after contact came back.
    stale_since: Option<jiff::Timestamp>,
    /// Contact was lost since the watches started: once it is back they are restarted, so
    /// they relist and drop what no longer exists.
    lost: bool,
    last_restart: Option<Instant>,
    /// Kinds that have not relisted since the watches were restarted.
    relisting: BTreeSet<Global>,
}

/// What a tick asks of the feed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Tick {
    /// The view just went stale: publish it.
    pub(super) went_stale: bool,
    /// Send a probe now.
    pub(super) probe: bool,
}

impl Contact {
    pub(super) fn new(liveness: Liveness) -> Contact {
        Contact {
            liveness,
            last_heard: Instant::now(),
            link: Link::default(),
            last_probe: None,
            probing: false,
            stale_since: None,
            lost: false,
            last_restart: None,
            relisting: BTreeSet::new(),
        }
    }

    /// What the feed works to, with watches as long as the link allows.
    pub(super) fn liveness(&self) -> Liveness {
        let vouched = self.link.http2 && self.link.heard.is_some();
        Liveness {
            watch: if vouched {
                self.liveness.long_watch
            } else {
                self.liveness.watch
            },
            ..self.liveness
        }
    }

    /// The server said something: a watch event, a list, a probe's answer.
    pub(super) fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    /// A probe's answer came over `link`: from now on its transport says when the server was
    /// last heard, and over HTTP/2 watches last `long_watch`.
    pub(super) fn linked(&mut self, link: Link) {
        if link.heard.is_some() {
            self.link = link;
        }
    }

    /// The feed's first probe, before any watch: an answer shows the link and starts the
    /// probe timer; without one, the first tick probes again.
    pub(super) fn first_probe(&mut self, answer: Option<Link>) {
        if let Some(link) = answer {
            self.last_probe = Some(Instant::now());
            self.heard();
            self.linked(link);
        }
    }

    /// How long since the server was last heard, by the transport or by the feed.
    fn silence(&self) -> Duration {
        let transport = self.link.heard.as_ref().map(|h| h.last());
        let last = transport.map_or(self.last_heard, |t| t.max(self.last_heard));
        last.elapsed()
    }

    /// When the server was last heard, on the wall clock.
    fn heard_at(&self) -> jiff::Timestamp {
        let ago = jiff::SignedDuration::try_from(self.silence()).unwrap_or_default();
        let now = jiff::Timestamp::now();
        now.checked_sub(ago).unwrap_or(now)
    }

    /// A watch failed for want of a connection.
    pub(super) fn lose(&mut self) {
        self.lost = true;
    }

    /// Once a tick: goes stale after `stale_after` of silence, and says whether to probe
    /// (after `probe_every` of silence, at most that often; or every tick while something is
    /// wrong, to know when it is right again).
    pub(super) fn tick(&mut self, watches_failing: bool) -> Tick {
        let mut tick = Tick::default();
        let silence = self.silence();
        if silence >= self.liveness.stale_after && self.stale_since.is_none() {
            self.stale_since = Some(self.heard_at());
            self.lost = true;
            tick.went_stale = true;
        }
        let troubled = watches_failing || self.lost || self.stale_since.is_some();
        // Without a transport that tells when it last read, the timer alone says when.
        let quiet = self.link.heard.is_none() || silence >= self.liveness.probe_every;
        let due = quiet
            && self
                .last_probe
                .is_none_or(|at| at.elapsed() >= self.liveness.probe_every);
        if !self.probing && (troubled || due) {
            self.probing = true;
            self.last_probe = Some(Instant::now());
            tick.probe = true;
        }
        tick
    }

    /// The server answered a probe. True when the watches should be restarted now: contact
    /// had been lost, or a watch keeps failing while the server answers (a restored server
    /// refuses the versions we hold); at most once per probe interval.
    pub(super) fn answered(&mut self, watches_failing: bool, link: Link) -> bool {
        self.heard();
        self.linked(link);
        let wanted = self.lost || watches_failing;
        let allowed = self
            .last_restart
            .is_none_or(|at| at.elapsed() >= self.liveness.probe_every);
        wanted && allowed
    }

    /// The watches were started again: the view stays stale (since the last time the server
    /// was heard before, or `failing_since`) until every kind has relisted.
    pub(super) fn restarted(&mut self, failing_since: Option<jiff::Timestamp>) {
        self.lost = false;
        self.probing = false;
        self.last_restart = Some(Instant::now());
        self.relisting = super::GLOBALS.into_iter().collect();
        if self.stale_since.is_none() {
            self.stale_since = Some(failing_since.unwrap_or_else(|| self.heard_at()));
        }
    }

    /// `kind` has listed; once every kind has relisted after a restart, the view is current.
    pub(super) fn listed(&mut self, kind: Global) {
        self.relisting.remove(&kind);
        let answering = self.silence() < self.liveness.stale_after;
        if self.relisting.is_empty() && answering {
            self.stale_since = None;
        }
    }

    /// The view's connection when it is stale, else None.
    pub(super) fn stale(&self) -> Option<Connection> {
        let since = self.stale_since?;
        let answering = self.silence() < self.liveness.stale_after;
        Some(Connection::Stale {
            since,
            relisting: answering && !self.relisting.is_empty(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::transport::Heard;

    /// While the transport reads (PING acknowledgements), no probe however long, and watches
    /// last `long_watch`; once it is silent, a probe after `probe_every`, stale after
    /// `stale_after`.
    #[test]
    fn a_transport_that_hears_the_server_is_not_probed_until_it_falls_silent() {
        let liveness = Liveness {
            probe_every: Duration::from_millis(300),
            stale_after: Duration::from_millis(600),
            ..Liveness::DEFAULT
        };
        let mut c = Contact::new(liveness);
        let heard = Heard::new();
        let link = Link {
            heard: Some(heard.clone()),
            http2: true,
        };
        c.first_probe(Some(link));
        assert_eq!(c.liveness().watch, Liveness::DEFAULT.long_watch);
        let hearing = Instant::now();
        while hearing.elapsed() < Duration::from_millis(900) {
            heard.stamp();
            assert_eq!(c.tick(false), Tick::default());
            std::thread::sleep(Duration::from_millis(20));
        }
        // Silent since the last stamp (however late the loop's last sleep woke up): the
        // contact measures from it too.
        let silent = heard.last();
        let probed = loop {
            let tick = c.tick(false);
            if tick.probe {
                break silent.elapsed();
            }
            assert!(silent.elapsed() < Duration::from_secs(5), "never probed");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(probed >= Duration::from_millis(280), "{probed:?}");
        assert!(c.stale().is_none());
        c.probing = false;
        while !c.tick(false).went_stale {
            assert!(silent.elapsed() < Duration::from_secs(5), "never stale");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(silent.elapsed() >= Duration::from_millis(580));
    }

    /// Over HTTP/1.1 the watches keep their short life.
    #[test]
    fn an_http1_link_keeps_short_watches() {
        let mut c = Contact::new(Liveness::DEFAULT);
        c.first_probe(Some(Link {
            heard: Some(Heard::new()),
            http2: false,
        }));
        assert_eq!(c.liveness().watch, Liveness::DEFAULT.watch);
    }

    fn quick() -> Liveness {
        Liveness {
            probe_every: Duration::from_millis(30),
            answer_within: Duration::from_millis(20),
            stale_after: Duration::from_millis(40),
            watch: Duration::from_secs(1),
            ..Liveness::DEFAULT
        }
    }

    #[test]
    fn silence_makes_the_view_stale_and_an_answer_relists_it() {
        let mut c = Contact::new(quick());
        assert_eq!(
            c.tick(false),
            Tick {
                went_stale: false,
                probe: true
            }
        );
        assert!(c.stale().is_none());
        std::thread::sleep(Duration::from_millis(50));
        c.probing = false;
        let tick = c.tick(false);
        assert!(tick.went_stale && tick.probe, "{tick:?}");
        let Some(Connection::Stale { relisting, .. }) = c.stale() else {
            panic!("not stale: {:?}", c.stale());
        };
        assert!(!relisting);
        // The server answers again: restart, relist, current.
        assert!(c.answered(false, Link::default()));
        c.restarted(None);
        assert!(matches!(
            c.stale(),
            Some(Connection::Stale {
                relisting: true,
                ..
            })
        ));
        for kind in super::super::GLOBALS {
            c.listed(kind);
        }
        assert_eq!(c.stale(), None);
        // A second restart waits for the probe interval.
        c.lose();
        assert!(!c.answered(false, Link::default()));
    }
}
