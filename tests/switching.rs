//! Switching context and namespace inside the console (issue 14 point 5), and the console on
//! an identity that may read some namespaces only (point 1): the update function, the header
//! as drawn, and the real console against the embedded demo.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::KeyCode;
use cutover::cluster::feed::{ClusterView, Feed, Liveness, Watching};
use cutover::console::app::{App, Effect, Msg, Place, Reconnect, Session, SwitchTo};
use cutover::console::keymap::Key;
use cutover::console::theme::Theme;
use cutover::console::{Headless, Writer, drive};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const TEAM: &str = "cutover-demo-team";

fn now() -> jiff::Timestamp {
    "2026-11-23T03:00:00Z".parse().expect("time")
}

/// The demo's objects in `namespaces`, listed, as a feed watching them would show them.
fn demo_view(namespaces: &[&str], watching: Watching) -> ClusterView {
    let objects: Vec<serde_json::Value> = cutover::embedded::demo::objects()
        .into_iter()
        .filter(|o| namespaces.contains(&o["metadata"]["namespace"].as_str().unwrap_or("")))
        .collect();
    ClusterView {
        watching,
        ..common::view_of(&common::snapshot_of(&objects), now())
    }
}

fn team_watching() -> Watching {
    Watching {
        namespaces: Some(vec!["shop".into(), "web".into()]),
        why: Some("no cluster-wide list permission".into()),
    }
}

/// A console on the admin context that can switch to the team's.
fn switching_app(read_only: bool) -> App {
    let session = Session {
        context: "cutover-demo".into(),
        cluster: "cutover-demo".into(),
        server: "http://127.0.0.1:1".into(),
        user: "cutover-admin".into(),
        read_only,
        contexts: vec!["cutover-demo".into(), TEAM.into()],
        reconnect: Some(Reconnect::default()),
        ..Session::default()
    };
    let mut app = App::new(session, now());
    let all = ["shop", "web", "api", "grey", "checkout"];
    app.update(Msg::View(Arc::new(demo_view(&all, Watching::default()))));
    app
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(app.update(Msg::Key(Key::char(c))));
    }
    effects
}

fn enter(app: &mut App) -> Vec<Effect> {
    app.update(Msg::Key(Key::plain(KeyCode::Enter)))
}

fn switches(effects: &[Effect]) -> Vec<SwitchTo> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Switch(to) => Some(to.clone()),
            _ => None,
        })
        .collect()
}

fn team_place() -> Place {
    Place {
        context: TEAM.into(),
        cluster: TEAM.into(),
        server: "http://127.0.0.1:1/as/cutover-team".into(),
        user: "cutover-team".into(),
        watching: team_watching(),
        note: None,
        insecure_cluster: None,
        readable_namespaces: vec!["shop".into(), "web".into()],
    }
}

fn namespaces_of_rows(app: &App) -> Vec<String> {
    let mut out: Vec<String> = app.rows.iter().map(|r| r.namespace.clone()).collect();
    out.dedup();
    out.sort();
    out.dedup();
    out
}

#[test]
fn colon_ctx_lists_the_contexts_and_enter_switches_to_the_one_selected() {
    let mut app = switching_app(false);
    type_text(&mut app, ":");
    let line = app.command_line().expect("the command line is open");
    assert_eq!(line.choices, ["ctx", "ns"]);
    type_text(&mut app, "ctx");
    assert_eq!(
        app.command_line().unwrap().choices,
        ["cutover-demo", TEAM],
        "the kubeconfig's contexts"
    );
    type_text(&mut app, " team");
    assert_eq!(app.command_line().unwrap().choices, [TEAM]);
    let effects = enter(&mut app);
    assert_eq!(switches(&effects), [SwitchTo::Context(TEAM.into())]);
    assert!(app.command_line().is_none(), "closed");
    assert_eq!(app.switching, Some(SwitchTo::Context(TEAM.into())));

    // Until the event loop answers, the old console is left as it was, its rows not shown.
    let screen = screen_text(&app, 120, 30);
    assert!(
        screen.contains("Switching to context cutover-demo-team…"),
        "{screen}"
    );
    assert!(!screen.contains("api/"), "no old rows: {screen}");

    // Arrived: nothing of the old cluster is left, the new feed's views fill it.
    app.update(Msg::Switched(Box::new(team_place())));
    assert!(app.switching.is_none());
    assert_eq!(app.session.context, TEAM);
    assert!(
        app.rows.is_empty() && app.view.namespaces.is_empty(),
        "no old rows"
    );
    assert_eq!(app.watching(), team_watching());
    let screen = screen_text(&app, 120, 30);
    assert!(
        screen.contains("cutover-demo-team") && screen.contains("namespaces shop, web"),
        "{screen}"
    );
    assert!(!screen.contains("api/"), "{screen}");
    app.update(Msg::View(Arc::new(demo_view(
        &["shop", "web"],
        team_watching(),
    ))));
    assert_eq!(namespaces_of_rows(&app), ["shop", "web"]);
}

#[test]
fn colon_ns_picks_a_namespace_all_or_one_typed_whole() {
    let mut app = switching_app(false);
    type_text(&mut app, ":ns");
    let choices = app.command_line().unwrap().choices.clone();
    assert_eq!(choices.first().map(String::as_str), Some("all"));
    assert!(choices.contains(&"web".to_string()), "{choices:?}");
    type_text(&mut app, " we");
    // What is typed is a choice too, last: a namespace the console has not seen.
    assert_eq!(app.command_line().unwrap().choices, ["web", "we"]);
    assert_eq!(
        switches(&enter(&mut app)),
        [SwitchTo::Namespace(Some("web".into()))]
    );
    // A namespace the console has not seen is taken as typed.
    type_text(&mut app, ":ns payments");
    assert_eq!(
        switches(&enter(&mut app)),
        [SwitchTo::Namespace(Some("payments".into()))]
    );
    type_text(&mut app, ":ns all");
    assert_eq!(switches(&enter(&mut app)), [SwitchTo::Namespace(None)]);
    // `:ns` alone lists; enter on it picks the selected choice after down.
    type_text(&mut app, ":ns");
    app.update(Msg::Key(Key::plain(KeyCode::Down)));
    let picked = app.command_line().unwrap().choices[1].clone();
    assert_eq!(
        switches(&enter(&mut app)),
        [SwitchTo::Namespace(Some(picked))]
    );
    // esc closes it, nothing switched.
    type_text(&mut app, ":ctx");
    let effects = app.update(Msg::Key(Key::plain(KeyCode::Esc)));
    assert!(switches(&effects).is_empty() && app.command_line().is_none());
    // No such context: said, nothing switched.
    type_text(&mut app, ":ctx nowhere");
    assert!(switches(&enter(&mut app)).is_empty());
    let said = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert!(
        said.contains("no context named \"nowhere\"") && said.contains(TEAM),
        "{said}"
    );
}

#[test]
fn where_a_switch_connects_from_where_the_console_started() {
    let started = Reconnect {
        target: cutover::cluster::Target {
            kubeconfig: Some("/k".into()),
            context: Some("cutover-demo".into()),
            namespace: Some(None),
            ..Default::default()
        },
        named: vec!["shop".into(), "web".into()],
    };
    let ctx = started.to(&SwitchTo::Context(TEAM.into()), "cutover-demo");
    assert_eq!(ctx.target.context.as_deref(), Some(TEAM));
    assert_eq!(
        ctx.target.namespace,
        Some(None),
        "the namespaces asked at start"
    );
    assert_eq!(ctx.named, started.named);
    assert_eq!(ctx.target.kubeconfig, started.target.kubeconfig);
    let ns = started.to(&SwitchTo::Namespace(Some("web".into())), TEAM);
    assert_eq!(
        ns.target.context.as_deref(),
        Some(TEAM),
        "the context now shown"
    );
    assert_eq!(ns.target.namespace, Some(Some("web".into())));
    assert!(ns.named.is_empty());
    let all = started.to(&SwitchTo::Namespace(None), TEAM);
    assert_eq!(all.target.namespace, Some(None));
}

#[test]
fn a_read_only_console_stays_read_only_after_switching() {
    let mut app = switching_app(true);
    type_text(&mut app, ":ctx team");
    assert_eq!(switches(&enter(&mut app)).len(), 1);
    app.update(Msg::Switched(Box::new(team_place())));
    app.update(Msg::View(Arc::new(demo_view(
        &["shop", "web"],
        team_watching(),
    ))));
    assert!(app.read_only());
    assert!(
        app.keymap.bindings().iter().all(|b| !b.writes),
        "no writing key"
    );
    let effects = type_text(&mut app, "s");
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Apply(_))),
        "{effects:?}"
    );
    let said = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert_eq!(said, "read-only: switch is off");
}

#[test]
fn a_switch_that_fails_leaves_the_console_where_it_was_and_says_why() {
    let mut app = switching_app(false);
    let before = app.rows.len();
    type_text(&mut app, ":ctx team");
    enter(&mut app);
    app.update(Msg::SwitchFailed("could not build a client".into()));
    assert!(app.switching.is_none());
    assert_eq!(app.session.context, "cutover-demo");
    assert_eq!(app.rows.len(), before);
    let said = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert_eq!(
        said,
        "Could not switch to context cutover-demo-team: could not build a client"
    );
}

#[test]
fn an_empty_namespace_suggests_looking_in_all() {
    let session = Session {
        context: "prod".into(),
        scope: Some("quiet".into()),
        user: "me".into(),
        ..Session::default()
    };
    let mut app = App::new(session, now());
    let mut view = demo_view(&[], Watching::scope(Some("quiet".into())));
    view.synced = true;
    app.update(Msg::View(Arc::new(view)));
    let screen = screen_text(&app, 120, 30);
    assert!(
        screen.contains("No releases in namespace quiet."),
        "{screen}"
    );
    assert!(
        screen.contains("To look in every namespace, type :ns all (or start cutover with -A)."),
        "{screen}"
    );
    // All namespaces watched: nothing to suggest.
    let mut app = App::new(Session::default(), now());
    app.update(Msg::View(Arc::new(demo_view(&[], Watching::default()))));
    assert!(!screen_text(&app, 120, 30).contains("To look in every namespace"));
}

fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let theme = Theme::builtin("default").expect("theme");
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
    terminal
        .draw(|f| cutover::console::draw::draw(app, &theme, f))
        .expect("drawing never fails");
    terminal
}

fn screen_text(app: &App, w: u16, h: u16) -> String {
    let terminal = render(app, w, h);
    let buffer = terminal.backend().buffer();
    buffer
        .content()
        .chunks(usize::from(w))
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
        .collect()
}

/// The header's two rows at `w` columns.
fn header(app: &App, w: u16) -> String {
    let screen = screen_text(app, w, 30);
    screen.lines().take(2).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_header_names_context_cluster_identity_and_the_namespaces_shown_and_why() {
    let session = Session {
        context: TEAM.into(),
        cluster: "demo-cluster".into(),
        user: "cutover-team".into(),
        watching: Some(Watching {
            namespaces: Some(vec!["shop".into(), "web".into(), "api".into()]),
            why: Some("no cluster-wide list permission".into()),
        }),
        ..Session::default()
    };
    let mut app = App::new(session, now());
    let mut view = demo_view(&["shop", "web"], app.session.watching());
    view.hidden = BTreeMap::from([(
        "api".to_string(),
        "no permission to list deployments".to_string(),
    )]);
    app.update(Msg::View(Arc::new(view)));
    let wide = header(&app, 160);
    for part in [
        "cutover-demo-team · cluster demo-cluster",
        "ns shop, web, api",
        "as cutover-team",
        "● live",
        "namespaces shop, web, api — no cluster-wide list permission",
        "⚠ not visible: api (no permission to list deployments)",
    ] {
        assert!(wide.contains(part), "{part:?} in {wide:?}");
    }
    // Who and where stay on a narrow screen.
    for part in ["cutover-demo-team", "as cutover-team"] {
        assert!(header(&app, 80).contains(part), "{part:?} at 80 columns");
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    for w in [160, 120, 80] {
        settings.set_snapshot_suffix(format!("{w}"));
        settings.bind(|| insta::assert_snapshot!("team_header", header(&app, w)));
    }
}

/// The real console (feed, event loop, headless screen) connected through the demo's
/// kubeconfig as `context`, able to switch.
struct Live {
    keys: common::console::Keys,
    frames: tokio::sync::watch::Receiver<String>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn live(kubeconfig: &std::path::Path, context: &str, read_only: bool) -> Live {
    live_in(kubeconfig, context, read_only, &[]).await
}

/// [`live`] in the `named` namespaces (none: all namespaces, or what the identity may read).
async fn live_in(
    kubeconfig: &std::path::Path,
    context: &str,
    read_only: bool,
    named: &[&str],
) -> Live {
    let at = Reconnect {
        target: cutover::cluster::Target {
            kubeconfig: Some(kubeconfig.to_path_buf()),
            context: Some(context.into()),
            namespace: Some(None),
            ..Default::default()
        },
        named: named.iter().map(|ns| ns.to_string()).collect(),
    };
    let (client, place) = cutover::console::connect(&at).await.expect("connect");
    let feed = Feed::start_in(
        client.clone(),
        place.watching.clone(),
        !read_only,
        Liveness::DEFAULT,
    );
    let session = cutover::console::switching_session(place, read_only, at);
    let (mut screen, frames) = Headless::new(120, 40).expect("screen");
    let (keys, keys_rx) = tokio::sync::mpsc::unbounded_channel();
    let theme = Theme::builtin("default").expect("theme");
    let writer = (!read_only).then(|| Writer::new(client));
    let task = tokio::spawn(async move {
        let keys = tokio_stream::wrappers::UnboundedReceiverStream::new(keys_rx);
        drive(&mut screen, keys, &feed, session, &theme, writer).await
    });
    Live { keys, frames, task }
}

impl Live {
    fn type_text(&self, text: &str) {
        for c in text.chars() {
            common::console::press(&self.keys, KeyCode::Char(c));
        }
    }

    /// Waits (20 s at most) for a frame for which `check` holds.
    async fn frame(&mut self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let wait = async {
            loop {
                let frame = self.frames.borrow_and_update().clone();
                if check(&frame) {
                    return frame;
                }
                if self.frames.changed().await.is_err() {
                    panic!("the console ended waiting for {what}");
                }
            }
        };
        match tokio::time::timeout(Duration::from_secs(20), wait).await {
            Ok(frame) => frame,
            Err(_) => panic!(
                "timed out waiting for {what}; last frame:\n{}",
                *self.frames.borrow()
            ),
        }
    }

    async fn quit(self) {
        common::console::press(&self.keys, KeyCode::Char('q'));
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("q quits")
            .expect("join")
            .expect("console");
    }
}

/// The first row of a frame: the header.
fn first_row(frame: &str) -> &str {
    frame.lines().next().unwrap_or("")
}

#[test]
fn the_team_console_shows_shop_and_web_and_ctx_switches_to_the_admin_and_back() {
    let k = common::kubectl::start(true);
    let kubeconfig = k.kubeconfig.clone();
    k.rt.block_on(async {
        let mut console = live(&kubeconfig, TEAM, false).await;
        let team = |f: &str| {
            first_row(f).contains("ns shop, web")
                && f.contains("shop/")
                && f.contains("web/")
                && f.contains("● live")
        };
        let frame = console.frame("shop and web as the team", team).await;
        assert!(!frame.contains("api/"), "{frame}");
        assert!(
            frame
                .lines()
                .nth(1)
                .unwrap_or("")
                .contains("namespaces shop, web — no cluster-wide list permission"),
            "{frame}"
        );
        assert!(first_row(&frame).contains("as cutover-team"), "{frame}");

        console.type_text(":ctx");
        console
            .frame("the contexts listed", |f| f.contains("› cutover-demo"))
            .await;
        common::console::press(&console.keys, KeyCode::Enter);
        let admin = |f: &str| {
            first_row(f).contains("all namespaces")
                && first_row(f).contains("cutover-demo ")
                && f.contains("api/")
                && f.contains("● live")
        };
        let frame = console.frame("every namespace as the admin", admin).await;
        assert!(first_row(&frame).contains("as cutover-admin"), "{frame}");

        console.type_text(":ctx team");
        common::console::press(&console.keys, KeyCode::Enter);
        let frame = console.frame("the team's again", team).await;
        assert!(!frame.contains("api/"), "{frame}");
        console.quit().await;
    });
}

#[test]
fn a_read_only_console_stays_read_only_across_a_live_switch() {
    let k = common::kubectl::start(true);
    let kubeconfig = k.kubeconfig.clone();
    let before = k.cluster.requests().len();
    k.rt.block_on(async {
        let mut console = live(&kubeconfig, "cutover-demo", true).await;
        console
            .frame("the admin's view", |f| {
                f.contains("READ-ONLY") && f.contains("api/")
            })
            .await;
        console.type_text(":ctx team");
        common::console::press(&console.keys, KeyCode::Enter);
        let frame = console
            .frame("the team's view", |f| {
                first_row(f).contains("ns shop, web") && f.contains("web/")
            })
            .await;
        assert!(first_row(&frame).contains("READ-ONLY"), "{frame}");
        console.type_text("s");
        console
            .frame("switch is off", |f| f.contains("read-only: switch is off"))
            .await;
        console.quit().await;
    });
    // Nothing but reads and the permission questions reads need.
    let writes: Vec<_> = k.cluster.requests()[before..]
        .iter()
        .filter(|r| !matches!(r.method.as_str(), "GET"))
        .filter(|r| !r.path.contains("selfsubjectaccessreviews"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

/// Point 1: one watch per kind and namespace; the namespace whose lists are forbidden is a
/// note on the header, and the others are live.
#[test]
fn a_forbidden_namespace_is_a_header_note_and_the_others_stay_live() {
    let k = common::kubectl::start(true);
    let kubeconfig = k.kubeconfig.clone();
    k.rt.block_on(async {
        let mut console = live_in(&kubeconfig, TEAM, true, &["shop", "api", "web"]).await;
        let frame = console
            .frame("shop and web live, api not visible", |f| {
                f.contains("shop/")
                    && f.contains("web/")
                    && f.contains("● live")
                    && f.lines()
                        .nth(1)
                        .unwrap_or("")
                        .contains("⚠ not visible: api")
            })
            .await;
        assert!(first_row(&frame).contains("ns shop, api, web"), "{frame}");
        assert!(!frame.contains("api/"), "{frame}");
        console.quit().await;
    });
}

/// Point 4: started on the team context in its own namespace (`shop`, as its kubeconfig
/// says), `:ns` offers every namespace the identity may read, as the context keeps them
/// (`cutover.dev/namespaces`), though only `shop` is watched: `web` too.
#[test]
fn colon_ns_on_the_team_context_offers_every_namespace_it_may_read() {
    let k = common::kubectl::start(true);
    let at = Reconnect {
        target: cutover::cluster::Target {
            kubeconfig: Some(k.kubeconfig.clone()),
            context: Some(TEAM.into()),
            ..Default::default()
        },
        named: Vec::new(),
    };
    let (_client, place) =
        k.rt.block_on(cutover::console::connect(&at))
            .expect("connect");
    assert_eq!(place.watching.one().as_deref(), Some("shop"));
    let session = cutover::console::switching_session(place, false, at);
    let mut app = App::new(session, now());
    type_text(&mut app, ":ns");
    let choices = app.command_line().expect("open").choices.clone();
    assert_eq!(choices, ["all", "shop", "web"]);
    // Arrived in `web` alone, `shop` is still offered.
    let web = Place {
        watching: Watching::scope(Some("web".into())),
        ..team_place()
    };
    app.update(Msg::Switched(Box::new(web)));
    type_text(&mut app, ":ns");
    assert_eq!(
        app.command_line().expect("open").choices,
        ["all", "shop", "web"]
    );
}
