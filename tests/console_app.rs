//! The console's update function, without a terminal or a cluster: keys, views and ticks in,
//! state and effects out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::sync::Arc;

use crossterm::event::KeyCode;
use cutover::cluster::feed::ClusterView;
use cutover::console::app::{App, Effect, Msg, Session};
use cutover::console::keymap::Key;
use cutover::release::Stage;
use serde_json::Value;

fn now() -> jiff::Timestamp {
    "2026-11-23T03:00:00Z".parse().expect("time")
}

/// The demo's objects with every Deployment's pods counted ready, as the controllers leave them.
fn demo_view() -> ClusterView {
    demo_view_with(|_| {})
}

/// `demo_view`, with `change` applied to each object first.
fn demo_view_with(change: impl Fn(&mut Value)) -> ClusterView {
    let objects: Vec<Value> = cutover::embedded::demo::objects()
        .into_iter()
        .map(|mut o| {
            o["metadata"]["resourceVersion"] = "7".into();
            if o["kind"] == "Deployment" {
                let n = o["spec"]["replicas"].clone();
                o["status"] = serde_json::json!({
                    "observedGeneration": 1, "replicas": n, "updatedReplicas": n,
                    "readyReplicas": n, "availableReplicas": n
                });
            }
            change(&mut o);
            o
        })
        .collect();
    common::view_of(&common::snapshot_of(&objects), now())
}

fn app(read_only: bool) -> App {
    let session = Session {
        context: "test".into(),
        server: "http://127.0.0.1:1".into(),
        scope: None,
        user: "tester".into(),
        read_only,
        keymap: None,
        ..Session::default()
    };
    let mut app = App::new(session, now());
    app.update(Msg::View(Arc::new(demo_view())));
    app
}

fn key(app: &mut App, k: Key) -> Vec<Effect> {
    app.update(Msg::Key(k))
}

fn select(app: &mut App, id: &str) {
    let at = app
        .rows
        .iter()
        .position(|r| r.id == id)
        .unwrap_or_else(|| panic!("no release {id}"));
    key(app, Key::plain(KeyCode::Home));
    for _ in 0..at {
        key(app, Key::plain(KeyCode::Down));
    }
    assert_eq!(app.cursor, at);
}

#[test]
fn the_list_holds_every_demo_release_most_urgent_first_and_focus_follows_the_selection() {
    let mut app = App::new(Session::default(), now());
    let effects = app.update(Msg::View(Arc::new(demo_view())));
    let ids: Vec<&str> = app.rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 6, "{ids:?}");
    assert!(
        app.rows
            .windows(2)
            .all(|w| w[0].attention <= w[1].attention)
    );
    // The first view selects the first row and asks for its pods and events.
    let Some(Effect::Focus(Some(focus))) = effects.first() else {
        panic!("no focus effect: {effects:?}");
    };
    assert_eq!(focus.release, app.rows[0].id);
    assert_eq!(app.selected.as_deref(), Some(app.rows[0].id.as_str()));
    let effects = key(&mut app, Key::char('j'));
    assert!(
        matches!(&effects[..], [Effect::Focus(Some(f))] if f.release == app.rows[1].id),
        "{effects:?}"
    );
    // A new view with the same releases keeps the selection and sends no new focus.
    let effects = app.update(Msg::View(Arc::new(demo_view())));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(app.cursor, 1);
}

#[test]
fn the_filter_narrows_the_list_and_esc_clears_it() {
    let mut app = app(false);
    key(&mut app, Key::char('/'));
    for c in "canary".chars() {
        key(&mut app, Key::char(c));
    }
    assert!(app.filtering());
    // Two nginx canaries and the HTTPRoute one.
    assert_eq!(app.rows.len(), 3, "{:?}", app.rows);
    key(&mut app, Key::plain(KeyCode::Enter));
    assert!(!app.filtering());
    assert_eq!(app.rows.len(), 3);
    // Typing `q` while filtering is text, not quit.
    key(&mut app, Key::char('/'));
    let effects = key(&mut app, Key::char('q'));
    assert!(!effects.contains(&Effect::Quit));
    assert_eq!(app.rows.len(), 0);
    key(&mut app, Key::plain(KeyCode::Esc));
    assert_eq!(app.rows.len(), 6);
}

#[test]
fn text_boxes_edit_like_a_shell_with_ctrl_u_ctrl_w_and_ctrl_a() {
    let mut app = app(false);
    key(&mut app, Key::char('/'));
    for c in "shop canary".chars() {
        key(&mut app, Key::char(c));
    }
    assert_eq!(app.rows.len(), 0, "{:?}", app.rows);
    // ctrl+w deletes the word before the cursor, ctrl+u the whole line: nothing is typed.
    key(&mut app, Key::ctrl('w'));
    assert_eq!(app.filter.value(), "shop ");
    key(&mut app, Key::ctrl('u'));
    assert_eq!(app.filter.value(), "");
    assert_eq!(app.rows.len(), 6);
    assert!(app.filtering());
    key(&mut app, Key::plain(KeyCode::Esc));

    // In the image prompt: ctrl+u clears the prefilled image, ctrl+a goes to the start.
    app.update(Msg::View(Arc::new(at_rest_view())));
    select(&mut app, "shop/nginx-service");
    key(&mut app, Key::char('n'));
    key(&mut app, Key::ctrl('u'));
    assert_eq!(app.prompt().map(|p| p.input.value()), Some(""));
    for c in "1.27".chars() {
        key(&mut app, Key::char(c));
    }
    key(&mut app, Key::ctrl('a'));
    for c in "nginx:".chars() {
        key(&mut app, Key::char(c));
    }
    let prompt = app.prompt().expect("the prompt stays open");
    assert_eq!(prompt.input.value(), "nginx:1.27");
    assert_eq!(prompt.version.as_deref(), Some("v1.27"));
    key(&mut app, Key::ctrl('e'));
    key(&mut app, Key::ctrl('w'));
    assert!(
        app.prompt()
            .is_some_and(|p| p.input.value().len() < "nginx:1.27".len()),
        "ctrl+w deleted a word: {:?}",
        app.prompt().map(|p| p.input.value())
    );
    // A key as the terminal sends it keeps every modifier: alt+backspace deletes a word too.
    let before = app.prompt().map(|p| p.input.value().len()).unwrap_or(0);
    app.update(Msg::Press(crossterm::event::KeyEvent::new(
        KeyCode::Backspace,
        crossterm::event::KeyModifiers::ALT,
    )));
    let after = app.prompt().map(|p| p.input.value().len()).unwrap_or(0);
    assert!(after < before, "{before} → {after}");
}

#[test]
fn the_canary_slider_moves_in_fives_ones_and_steps_and_applies_through_the_confirm_dialog() {
    let mut app = app(false);
    select(&mut app, "api/route1");
    let release = app.release().expect("selected").clone();
    let applied = release.traffic.candidate_percent;
    assert_eq!(applied, 30, "the demo canary starts at 30%");
    let cases: &[(Key, u32)] = &[
        (Key::plain(KeyCode::Right), 35),
        (Key::char('l'), 40),
        (Key::shift(KeyCode::Right), 41),
        (Key::char('H'), 40),
        (Key::plain(KeyCode::Left), 35),
        (Key::char(']'), 50),
        (Key::char(']'), 100),
        (Key::char(']'), 100),
        (Key::char('['), 50),
        (Key::char('['), 25),
    ];
    for (k, want) in cases {
        key(&mut app, *k);
        let pending = app.pending.as_ref().expect("pending weight");
        assert_eq!(pending.percent, *want, "after {}", k.label());
        assert_eq!(pending.release, release.id());
    }
    // esc drops the pending weight; nothing was planned.
    key(&mut app, Key::plain(KeyCode::Esc));
    assert_eq!(app.pending, None);
    for _ in 0..4 {
        key(&mut app, Key::char('l'));
    }
    let effects = key(&mut app, Key::plain(KeyCode::Enter));
    assert!(
        effects.is_empty(),
        "enter only opens the dialog: {effects:?}"
    );
    let confirm = app.confirm().expect("confirm dialog");
    assert_eq!(confirm.plan.op, cutover::release::plan::Op::SetWeight(50));
    let effects = key(&mut app, Key::char('y'));
    assert!(
        matches!(&effects[..], [Effect::Apply(plan)] if plan.op == cutover::release::plan::Op::SetWeight(50)),
        "{effects:?}"
    );
    assert!(app.confirm().is_none());
    assert!(app.pending.as_ref().is_some_and(|p| p.sent));
}

#[test]
fn esc_in_the_confirm_dialog_sends_nothing() {
    let mut app = app(false);
    select(&mut app, "shop/nginx-service");
    assert_eq!(app.release().map(|r| r.stage), Some(Stage::Staged));
    key(&mut app, Key::char('s'));
    assert!(app.confirm().is_some(), "status: {:?}", app.status);
    let effects = key(&mut app, Key::plain(KeyCode::Esc));
    assert!(effects.is_empty());
    assert!(app.confirm().is_none());
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.contains("nothing was sent"))
    );
}

/// Every key a user might press.
fn all_keys() -> Vec<Key> {
    let mut keys: Vec<Key> =
        " abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/?[]<>-+=:"
            .chars()
            .map(Key::char)
            .collect();
    for code in [
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::Backspace,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::PageUp,
        KeyCode::PageDown,
    ] {
        keys.push(Key::plain(code));
        keys.push(Key::shift(code));
    }
    keys
}

#[test]
fn read_only_mode_never_plans_or_applies_whatever_is_pressed() {
    let mut app = app(true);
    for round in 0..4 {
        for k in all_keys() {
            if k == Key::char('q') {
                continue;
            }
            for e in key(&mut app, k) {
                assert!(
                    !matches!(e, Effect::Apply(_)),
                    "round {round}, key {}",
                    k.label()
                );
            }
            assert!(app.confirm().is_none(), "key {} opened a dialog", k.label());
            assert!(app.pending.is_none(), "key {} moved the slider", k.label());
        }
        key(&mut app, Key::plain(KeyCode::Esc));
        key(&mut app, Key::plain(KeyCode::Down));
    }
}

#[test]
fn read_only_mode_selects_what_needs_attention_after_idling() {
    let mut app = app(true);
    key(&mut app, Key::plain(KeyCode::End));
    let last = app.cursor;
    assert!(last > 0);
    let first_attention = app.rows[0].attention;
    app.update(Msg::Tick(now() + jiff::SignedDuration::from_secs(5)));
    assert_eq!(app.cursor, last, "too soon to move");
    app.update(Msg::Tick(now() + jiff::SignedDuration::from_secs(60)));
    if first_attention <= cutover::console::app::Attention::Waiting {
        assert_eq!(app.cursor, 0);
    } else {
        assert_eq!(app.cursor, last);
    }
}

/// Random keys, views that come and go, and ticks: update never panics and the state stays
/// coherent.
#[test]
fn random_key_sequences_never_panic() {
    let keys = all_keys();
    let full = Arc::new(demo_view());
    let empty = Arc::new(ClusterView::new(now()));
    for seed in 0..300u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut app = app(rng.bool());
        let mut t = now();
        for _ in 0..200 {
            let msg = match rng.u8(0..20) {
                0 => Msg::View(if rng.bool() {
                    full.clone()
                } else {
                    empty.clone()
                }),
                1 => {
                    t += jiff::SignedDuration::from_secs(rng.i64(0..90));
                    Msg::Tick(t)
                }
                2 => Msg::Applied(cutover::console::app::Applied {
                    release: "shop/nginx-service".into(),
                    op: cutover::release::plan::Op::Switch,
                    ok: rng.bool(),
                    conflict: rng.bool(),
                    cancelled: false,
                    text: "outcome".into(),
                }),
                _ => Msg::Key(keys[rng.usize(0..keys.len())]),
            };
            let read_only = app.read_only();
            let effects = app.update(msg);
            if read_only {
                assert!(
                    !effects.iter().any(|e| matches!(e, Effect::Apply(_))),
                    "seed {seed}"
                );
            }
            if app.quit {
                break;
            }
            assert!(
                app.rows.is_empty() || app.cursor < app.rows.len(),
                "seed {seed}"
            );
            if let Some(row) = app.rows.get(app.cursor) {
                assert_eq!(
                    app.selected.as_deref(),
                    Some(row.id.as_str()),
                    "seed {seed}"
                );
            }
        }
    }
}

/// A view of the demo where the selector release is at rest: only `nginx` exists.
fn at_rest_view() -> ClusterView {
    let mut view = demo_view();
    let shop = view.namespaces.get_mut("shop").expect("shop");
    let mut snapshot = shop.snapshot().clone();
    snapshot
        .deployments
        .retain(|d| d.metadata.name.as_deref() == Some("nginx"));
    let releases = cutover::release::discover(&snapshot, now());
    *shop = cutover::cluster::feed::NamespaceView::new(snapshot, releases);
    view
}

#[test]
fn n_asks_for_the_image_with_the_tag_ready_to_edit_and_plans_the_stage() {
    let mut app = app(false);
    app.update(Msg::View(Arc::new(at_rest_view())));
    select(&mut app, "shop/nginx-service");
    assert_eq!(app.release().map(|r| r.stage), Some(Stage::AtRest));
    key(&mut app, Key::char('n'));
    let prompt = app.prompt().expect("the image prompt");
    assert_eq!(prompt.input.value(), "nginx:1.25");
    assert_eq!(
        prompt.input.cursor(),
        "nginx:".len(),
        "the cursor starts on the tag"
    );
    // Replace the tag: delete to the end, type the new one.
    for _ in 0..4 {
        key(&mut app, Key::plain(KeyCode::Delete));
    }
    for c in "1.27".chars() {
        key(&mut app, Key::char(c));
    }
    assert_eq!(app.prompt().map(|p| p.input.value()), Some("nginx:1.27"));
    key(&mut app, Key::plain(KeyCode::Enter));
    assert!(app.prompt().is_none());
    let confirm = app.confirm().expect("the stage plan to confirm");
    assert_eq!(
        confirm.plan.op,
        cutover::release::plan::Op::Stage {
            image: "nginx:1.27".into(),
            version: "v1.27".into()
        }
    );
    // esc in the prompt cancels without a plan.
    key(&mut app, Key::plain(KeyCode::Esc));
    key(&mut app, Key::char('n'));
    let effects = key(&mut app, Key::plain(KeyCode::Esc));
    assert!(effects.is_empty() && app.prompt().is_none() && app.confirm().is_none());
}

#[test]
fn a_risky_change_is_confirmed_only_by_typing_the_release_name() {
    let mut app = app(false);
    select(&mut app, "shop/nginx-service");
    // A view where the candidate has no ready pod: switching to it is risky.
    let mut view = demo_view();
    let shop = view.namespaces.get_mut("shop").expect("shop");
    let mut snapshot = shop.snapshot().clone();
    for d in &mut snapshot.deployments {
        if d.metadata.name.as_deref() == Some("nginx-v2")
            && let Some(s) = d.status.as_mut()
        {
            s.ready_replicas = Some(0);
            s.available_replicas = Some(0);
        }
    }
    let releases = cutover::release::discover(&snapshot, now());
    *shop = cutover::cluster::feed::NamespaceView::new(snapshot, releases);
    app.update(Msg::View(Arc::new(view)));
    key(&mut app, Key::char('s'));
    let confirm = app.confirm().expect("a confirm dialog");
    assert!(
        confirm.plan.risk.is_some(),
        "switching to 0 ready pods is risky"
    );
    assert!(confirm.typed.is_some());
    // y is text here, and enter without the name does nothing.
    let effects = key(&mut app, Key::char('y'));
    assert!(effects.is_empty());
    let effects = key(&mut app, Key::plain(KeyCode::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.contains("type shop/nginx-service"))
    );
    key(&mut app, Key::plain(KeyCode::Backspace));
    for c in "nginx-service".chars() {
        key(&mut app, Key::char(c));
    }
    let effects = key(&mut app, Key::plain(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::Apply(_)]), "{effects:?}");
}

#[test]
fn a_typed_confirmation_takes_every_letter_of_the_name_even_n_and_y() {
    let mut app = app(false);
    select(&mut app, "shop/nginx-service");
    let mut view = demo_view();
    let shop = view.namespaces.get_mut("shop").expect("shop");
    let mut snapshot = shop.snapshot().clone();
    for d in &mut snapshot.deployments {
        if d.metadata.name.as_deref() == Some("nginx-v2")
            && let Some(s) = d.status.as_mut()
        {
            s.ready_replicas = Some(0);
        }
    }
    let releases = cutover::release::discover(&snapshot, now());
    *shop = cutover::cluster::feed::NamespaceView::new(snapshot, releases);
    app.update(Msg::View(Arc::new(view)));
    key(&mut app, Key::char('s'));
    assert!(app.confirm().is_some_and(|c| c.typed.is_some()));
    // `n` (cancel) and `y` (confirm) are letters of the name here, not commands.
    for c in "nginx-servicey".chars() {
        key(&mut app, Key::char(c));
    }
    let typed = app
        .confirm()
        .and_then(|c| c.typed.as_ref())
        .map(|t| t.value());
    assert_eq!(typed, Some("nginx-servicey"));
    key(&mut app, Key::plain(KeyCode::Backspace));
    let effects = key(&mut app, Key::plain(KeyCode::Enter));
    let [Effect::Apply(plan)] = &effects[..] else {
        panic!("{effects:?}")
    };
    assert_eq!(plan.release, "shop/nginx-service");
    assert_eq!(plan.op, cutover::release::plan::Op::Switch);
}

#[test]
fn a_denied_permission_greys_the_action_and_names_what_is_missing() {
    let mut app = app(false);
    select(&mut app, "shop/nginx-service");
    let mut view = demo_view();
    view.permissions = Some(cutover::cluster::feed::Permissions {
        namespace: "shop".into(),
        denied: [("patch".to_string(), "services".to_string())].into(),
    });
    app.update(Msg::View(Arc::new(view)));
    let switch = app
        .actions
        .iter()
        .find(|a| a.command == cutover::console::keymap::Command::Switch)
        .expect("switch listed");
    assert_eq!(
        switch.allowed,
        cutover::console::app::Allowed::Denied(
            "no permission to patch services in shop (as tester)".into()
        )
    );
    let effects = key(&mut app, Key::char('s'));
    assert!(effects.is_empty() && app.confirm().is_none());
    assert_eq!(
        app.status.as_ref().map(|s| s.text.as_str()),
        Some("no permission to patch services in shop (as tester)")
    );
}

#[test]
fn a_conflict_plans_again_on_the_fresh_objects_and_asks_again() {
    let mut app = app(false);
    select(&mut app, "shop/nginx-service");
    key(&mut app, Key::char('s'));
    let effects = key(&mut app, Key::char('y'));
    let [Effect::Apply(plan)] = &effects[..] else {
        panic!("{effects:?}")
    };
    app.update(Msg::Applied(cutover::console::app::Applied {
        release: plan.release.clone(),
        op: plan.op.clone(),
        ok: false,
        conflict: true,
        cancelled: false,
        text: "Service shop/nginx-service was changed by someone else".into(),
    }));
    assert!(
        app.confirm().is_none(),
        "asked again only on the fresh view"
    );
    // The other change, as the watch brings it: its author recorded on the Service.
    let fresh = demo_view_with(|o| {
        if o["kind"] == "Service" && o["metadata"]["name"] == "nginx-service" {
            o["metadata"]["annotations"]["cutover.dev/last-action"] = serde_json::json!({
                "action": "weight", "actor": "alice", "time": "2026-11-23T02:59:00Z",
                "from": "v1", "to": "v1"
            })
            .to_string()
            .into();
        }
    });
    app.update(Msg::View(Arc::new(fresh)));
    let confirm = app.confirm().expect("asked again");
    assert_eq!(confirm.plan.op, cutover::release::plan::Op::Switch);
    assert_eq!(
        confirm.note.as_deref(),
        Some(
            "Service shop/nginx-service was changed by someone else. Last change recorded on \
             Service shop/nginx-service: weight by alice at 2026-11-23T02:59:00Z (v1 → v1)."
        )
    );
}

#[test]
fn a_conflict_asked_again_while_filtering_opens_over_the_filter_and_returns_to_it() {
    let mut app = app(false);
    select(&mut app, "shop/nginx-service");
    key(&mut app, Key::char('s'));
    let effects = key(&mut app, Key::char('y'));
    let [Effect::Apply(plan)] = &effects[..] else {
        panic!("{effects:?}")
    };
    app.update(Msg::Applied(cutover::console::app::Applied {
        release: plan.release.clone(),
        op: plan.op.clone(),
        ok: false,
        conflict: true,
        cancelled: false,
        text: "Service shop/nginx-service was changed by someone else".into(),
    }));
    key(&mut app, Key::char('/'));
    key(&mut app, Key::char('s'));
    app.update(Msg::View(Arc::new(demo_view())));
    // The dialog has the keyboard; the filter is still open under it.
    assert!(app.confirm().is_some() && app.filtering());
    key(&mut app, Key::plain(KeyCode::Esc));
    assert!(app.confirm().is_none() && app.filtering());
    key(&mut app, Key::char('h'));
    assert_eq!(app.filter.value(), "sh");
}

#[test]
fn p_shows_the_next_action_as_a_dry_run_that_sends_nothing() {
    let mut app = app(false);
    select(&mut app, "shop/nginx-service");
    key(&mut app, Key::char('p'));
    assert!(app.dry_run_armed);
    key(&mut app, Key::char('s'));
    let confirm = app.confirm().expect("the dry run dialog");
    assert!(confirm.dry_run);
    for k in [Key::char('y'), Key::plain(KeyCode::Enter)] {
        let effects = key(&mut app, k);
        assert!(effects.is_empty(), "{effects:?}");
    }
    key(&mut app, Key::plain(KeyCode::Esc));
    assert!(app.confirm().is_none() && !app.dry_run_armed);
    // The next action is a real one again.
    key(&mut app, Key::char('s'));
    assert!(app.confirm().is_some_and(|c| !c.dry_run));
}

#[test]
fn c_cancels_a_running_plan_of_the_selected_release() {
    let mut app = app(false);
    select(&mut app, "shop/nginx-service");
    let effects = key(&mut app, Key::char('c'));
    assert!(effects.is_empty(), "nothing running: {effects:?}");
    key(&mut app, Key::char('s'));
    let effects = key(&mut app, Key::char('y'));
    assert!(matches!(&effects[..], [Effect::Apply(_)]));
    let effects = key(&mut app, Key::char('c'));
    assert_eq!(effects, vec![Effect::Cancel("shop/nginx-service".into())]);
}

/// The app with shop/nginx-service selected and its candidate v2 without a ready pod, so a
/// switch to it is risky (typed confirmation).
fn with_unready_candidate() -> App {
    let mut app = app(false);
    select(&mut app, "shop/nginx-service");
    app.update(Msg::View(Arc::new(demo_view_with(|o| {
        if o["kind"] == "Deployment" && o["metadata"]["name"] == "nginx-v2" {
            o["status"]["readyReplicas"] = 0.into();
            o["status"]["availableReplicas"] = 0.into();
        }
    }))));
    app
}

/// The screen at 120×40, one string per row.
fn screen(app: &App) -> Vec<String> {
    let theme = cutover::console::theme::Theme::builtin("default").expect("the default theme");
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).expect("a terminal");
    terminal
        .draw(|f| cutover::console::draw::draw(app, &theme, f))
        .expect("drawing never fails");
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

#[test]
fn a_typed_confirmation_shows_what_to_type_and_a_wrong_answer_keeps_the_dialog() {
    let mut app = with_unready_candidate();
    key(&mut app, Key::char('s'));
    assert!(app.confirm().is_some_and(|c| c.typed.is_some()));
    // The footer and the dialog's edge say exactly what to type; never `y confirm`/`n cancel`.
    let rows = screen(&app);
    let footer = rows.last().expect("a footer");
    assert_eq!(
        footer.trim_end(),
        " type nginx-service and Enter to confirm · esc cancel"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("╚ type nginx-service and Enter to confirm · esc cancel ═")),
        "{rows:#?}"
    );
    assert!(
        !rows
            .iter()
            .any(|r| r.contains("y confirm") || r.contains("n cancel")),
        "{rows:#?}"
    );
    for c in "ngi".chars() {
        key(&mut app, Key::char(c));
    }
    let effects = key(&mut app, Key::plain(KeyCode::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(
        app.status.as_ref().map(|s| s.text.as_str()),
        Some(r#"type shop/nginx-service or nginx-service to confirm (you typed "ngi")"#)
    );
    assert!(app.confirm().is_some(), "the dialog stays");
    // The whole `namespace/name` confirms as well as the bare name (as the CLI accepts).
    for _ in 0..3 {
        key(&mut app, Key::plain(KeyCode::Backspace));
    }
    for c in "shop/nginx-service".chars() {
        key(&mut app, Key::char(c));
    }
    let effects = key(&mut app, Key::plain(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::Apply(_)]), "{effects:?}");
}

/// ingress-nginx sends a podless canary's rule-picked requests to the primary (no balancer
/// for a backend without endpoints): the warning says so, naming the Service, instead of
/// calling them failed.
#[test]
fn a_rule_to_a_canary_without_ready_pods_says_its_requests_go_to_the_primary() {
    let mut app = app(false);
    app.update(Msg::View(Arc::new(demo_view_with(|o| {
        if o["kind"] == "Deployment" && o["metadata"]["name"] == "frontend-v2" {
            o["status"]["readyReplicas"] = 0.into();
            o["status"]["availableReplicas"] = 0.into();
        }
    }))));
    select(&mut app, "grey/frontend");
    let r = app.release().expect("grey/frontend");
    assert!(
        r.warnings.iter().any(|w| w
            == "grey/frontend would send the requests its header and cookie rules pick to frontend-v2 (Service grey/frontend-v2), which has no ready pods: ingress-nginx sends them to v1 instead (a canary backend without endpoints gets no balancer), so v2 takes no requests. Scale frontend-v2 up, or remove the rules from the canary Ingress grey/frontend-grey (its canary-by-header/cookie annotations)."),
        "{:#?}",
        r.warnings
    );
    assert!(
        !r.warnings
            .iter()
            .any(|w| w.contains("fail whatever the weight")),
        "{:#?}",
        r.warnings
    );
}

#[test]
fn a_weight_already_applied_is_nothing_to_do_and_opens_no_dialog() {
    let mut app = app(false);
    select(&mut app, "api/route1");
    // 30 → 35 → 30: the slider is back where the canary is.
    key(&mut app, Key::char('l'));
    key(&mut app, Key::char('h'));
    let effects = key(&mut app, Key::plain(KeyCode::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(app.confirm().is_none());
    let status = app.status.as_ref().expect("a status line");
    assert_eq!(
        (status.level, status.text.as_str()),
        (
            cutover::console::app::Level::Info,
            "api/route1 is already at 30 %: nothing to do"
        )
    );
}

#[test]
fn weighting_a_canary_to_100_onto_fewer_ready_pods_asks_for_the_name() {
    let mut app = app(false);
    select(&mut app, "api/route1");
    // 30 → 50 → 100 on the slider: v2 has 1 ready pod, v1 has 2.
    key(&mut app, Key::char(']'));
    key(&mut app, Key::char(']'));
    key(&mut app, Key::plain(KeyCode::Enter));
    let confirm = app.confirm().expect("a confirm dialog");
    assert_eq!(confirm.plan.op, cutover::release::plan::Op::SetWeight(100));
    assert_eq!(
        confirm.plan.risk.as_deref(),
        Some("v2 has fewer ready pods (1) than v1 (2); a jump of 70 points at once (30 % → 100 %)")
    );
    assert!(confirm.typed.is_some(), "a risky weight is typed");
    // 50 % on 1 of v1's 2 ready pods is its share: no risk, `y` confirms.
    key(&mut app, Key::plain(KeyCode::Esc));
    select(&mut app, "api/route1");
    key(&mut app, Key::char(']'));
    key(&mut app, Key::plain(KeyCode::Enter));
    let confirm = app.confirm().expect("a confirm dialog");
    assert_eq!(confirm.plan.op, cutover::release::plan::Op::SetWeight(50));
    assert_eq!(confirm.plan.risk, None);
    assert!(confirm.typed.is_none());
}

/// A dry run's dialog sends nothing and takes only esc, the scroll keys and nothing else:
/// j/k and PgUp/PgDn move through it, y, enter and n do nothing (issue 12, point 12).
#[test]
fn a_dry_run_dialog_scrolls_with_j_k_and_pages_and_closes_only_with_esc() {
    let mut app = app(false);
    select(&mut app, "shop/nginx-service");
    key(&mut app, Key::char('p'));
    key(&mut app, Key::char('s'));
    assert_eq!(app.scopes(), vec![cutover::console::keymap::Scope::DryRun]);
    let scroll = |app: &App| app.confirm().map(|c| c.scroll);
    key(&mut app, Key::char('j'));
    key(&mut app, Key::plain(KeyCode::Down));
    assert_eq!(scroll(&app), Some(2));
    key(&mut app, Key::char('k'));
    assert_eq!(scroll(&app), Some(1));
    key(&mut app, Key::plain(KeyCode::PageDown));
    assert_eq!(scroll(&app), Some(11));
    key(&mut app, Key::plain(KeyCode::PageUp));
    key(&mut app, Key::plain(KeyCode::PageUp));
    assert_eq!(scroll(&app), Some(0));
    // Scrolling stops at what there is to scroll.
    for _ in 0..500 {
        key(&mut app, Key::char('j'));
    }
    assert!(scroll(&app).is_some_and(|s| s < 100), "{:?}", scroll(&app));
    for k in [Key::char('y'), Key::plain(KeyCode::Enter), Key::char('n')] {
        let effects = key(&mut app, k);
        assert!(effects.is_empty() && app.confirm().is_some(), "{k:?}");
    }
    key(&mut app, Key::plain(KeyCode::Esc));
    assert!(app.confirm().is_none());
}

/// A view of the demo where switching shop/nginx-service is risky (its candidate has no
/// ready pod), so the switch asks for the name to be typed.
fn risky_switch_view() -> ClusterView {
    demo_view_with(|o| {
        if o["kind"] == "Deployment" && o["metadata"]["name"] == "nginx-v2" {
            o["status"]["readyReplicas"] = 0.into();
            o["status"]["availableReplicas"] = 0.into();
        }
    })
}

/// The three kinds of text box, each opened empty: the filter, the image prompt and the
/// typed confirmation.
#[derive(Debug, Clone, Copy)]
enum TextBox {
    Filter,
    Prompt,
    Typed,
}

impl TextBox {
    fn open(self) -> App {
        let mut app = app(false);
        match self {
            TextBox::Filter => {
                key(&mut app, Key::char('/'));
            }
            TextBox::Prompt => {
                app.update(Msg::View(Arc::new(at_rest_view())));
                select(&mut app, "shop/nginx-service");
                key(&mut app, Key::char('n'));
                key(&mut app, Key::ctrl('u'));
            }
            TextBox::Typed => {
                app.update(Msg::View(Arc::new(risky_switch_view())));
                select(&mut app, "shop/nginx-service");
                key(&mut app, Key::char('s'));
            }
        }
        assert_eq!(self.state(&app), (String::new(), 0), "{self:?} opens empty");
        app
    }

    /// The box's text and cursor (in chars).
    fn state(self, app: &App) -> (String, usize) {
        let input = match self {
            TextBox::Filter => Some(&app.filter),
            TextBox::Prompt => app.prompt().map(|p| &p.input),
            TextBox::Typed => app.confirm().and_then(|c| c.typed.as_ref()),
        };
        let input = input.unwrap_or_else(|| panic!("{self:?} is closed"));
        (input.value().to_string(), input.cursor())
    }
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, Key::char(c));
    }
}

/// Every text box edits like a shell: ctrl+a and ctrl+e go to the start and the end, ctrl+w
/// deletes the word before the cursor, ctrl+k to the end, ctrl+u the line; none of them is
/// typed or taken by a binding of the screen under the box (issue 12, point 16).
#[test]
fn every_text_box_takes_ctrl_a_e_w_k_and_u() {
    for kind in [TextBox::Filter, TextBox::Prompt, TextBox::Typed] {
        let mut app = kind.open();
        type_text(&mut app, "ab cd");
        assert_eq!(kind.state(&app), ("ab cd".into(), 5), "{kind:?}");
        key(&mut app, Key::ctrl('a'));
        assert_eq!(kind.state(&app), ("ab cd".into(), 0), "{kind:?}: ctrl+a");
        key(&mut app, Key::ctrl('e'));
        assert_eq!(kind.state(&app), ("ab cd".into(), 5), "{kind:?}: ctrl+e");
        key(&mut app, Key::ctrl('w'));
        assert_eq!(kind.state(&app), ("ab ".into(), 3), "{kind:?}: ctrl+w");
        type_text(&mut app, "cd");
        key(&mut app, Key::ctrl('a'));
        key(&mut app, Key::plain(KeyCode::Right));
        key(&mut app, Key::plain(KeyCode::Right));
        key(&mut app, Key::ctrl('k'));
        assert_eq!(kind.state(&app), ("ab".into(), 2), "{kind:?}: ctrl+k");
        type_text(&mut app, " cd");
        key(&mut app, Key::ctrl('u'));
        assert_eq!(kind.state(&app), (String::new(), 0), "{kind:?}: ctrl+u");
        assert!(!app.quit, "{kind:?}");
    }
}

/// The `n` prompt opens with the old tag selected: the first printable key replaces it,
/// backspace removes it, and arrows, home and end keep it to edit (issue 12, point 16).
#[test]
fn the_new_release_prompt_selects_the_old_tag_so_typing_replaces_it() {
    let open = || {
        let mut app = app(false);
        app.update(Msg::View(Arc::new(at_rest_view())));
        select(&mut app, "shop/nginx-service");
        key(&mut app, Key::char('n'));
        let prompt = app.prompt().expect("the prompt");
        assert_eq!(prompt.input.value(), "nginx:1.25");
        assert_eq!(prompt.selected, Some((6, 10)), "the old tag is selected");
        app
    };
    let value = |app: &App| app.prompt().map(|p| p.input.value().to_string());

    let mut app = open();
    type_text(&mut app, "1.29");
    assert_eq!(value(&app).as_deref(), Some("nginx:1.29"));
    assert_eq!(
        app.prompt().and_then(|p| p.version.clone()).as_deref(),
        Some("v1.29")
    );
    assert_eq!(app.prompt().and_then(|p| p.selected), None);

    let mut app = open();
    key(&mut app, Key::plain(KeyCode::Backspace));
    assert_eq!(value(&app).as_deref(), Some("nginx:"));

    let mut app = open();
    key(&mut app, Key::plain(KeyCode::End));
    type_text(&mut app, "-r1");
    assert_eq!(
        value(&app).as_deref(),
        Some("nginx:1.25-r1"),
        "end keeps the tag"
    );

    let mut app = open();
    key(&mut app, Key::plain(KeyCode::Left));
    type_text(&mut app, "x");
    assert_eq!(
        value(&app).as_deref(),
        Some("nginxx:1.25"),
        "left keeps the tag"
    );

    let mut app = open();
    key(&mut app, Key::plain(KeyCode::Right));
    type_text(&mut app, "0");
    assert_eq!(
        value(&app).as_deref(),
        Some("nginx:10.25"),
        "right keeps the tag"
    );

    let mut app = open();
    key(&mut app, Key::plain(KeyCode::Home));
    type_text(&mut app, "r/");
    assert_eq!(
        value(&app).as_deref(),
        Some("r/nginx:1.25"),
        "home keeps the tag"
    );
    key(&mut app, Key::plain(KeyCode::Enter));
    let confirm = app.confirm().expect("the stage plan");
    assert_eq!(
        confirm.plan.op,
        cutover::release::plan::Op::Stage {
            image: "r/nginx:1.25".into(),
            version: "v1.25".into()
        }
    );
}

/// With the events pane focused, enter opens the event, never the canary's pending weight:
/// the events pane's keys come before the canary's (issue 12, point 13).
#[test]
fn enter_on_the_events_pane_is_not_the_canary_apply_key() {
    let mut app = app(false);
    select(&mut app, "api/route1");
    key(&mut app, Key::plain(KeyCode::Right));
    assert!(app.pending.is_some(), "a pending weight");
    key(&mut app, Key::plain(KeyCode::Tab));
    assert_eq!(
        app.scopes().first(),
        Some(&cutover::console::keymap::Scope::Events)
    );
    let effects = key(&mut app, Key::plain(KeyCode::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(app.confirm().is_none(), "enter did not apply the weight");
    key(&mut app, Key::plain(KeyCode::Tab));
    key(&mut app, Key::plain(KeyCode::Enter));
    assert!(
        app.confirm().is_some(),
        "on the list, enter applies the weight"
    );
}

fn secs(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_secs(n)
}

/// Gives the demo object `o`, where it is `shop/nginx-service`, the record of a release rolled
/// back: traffic on v1 again, v2 still running.
fn roll_back_nginx(o: &mut Value) {
    if o["kind"] == "Service" && o["metadata"]["name"] == "nginx-service" {
        let record = serde_json::json!({
            "stage": "rolled-back",
            "live": {"deployments": ["nginx"], "version": "v1"},
            "candidate": {"deployments": ["nginx-v2"], "version": "v2"},
            "previous": {},
            "started_by": "ana",
        });
        o["metadata"]["annotations"] =
            serde_json::json!({"cutover.dev/release": record.to_string()});
    }
}

/// The demo with `shop/nginx-service` rolled back: traffic on v1 again, v2 still running.
fn rolled_back_view() -> ClusterView {
    demo_view_with(|o| {
        roll_back_nginx(o);
    })
}

/// Issue 12, point 7: read-write, the selection is the user's: it stays on its release (by
/// id) when another release becomes the most urgent, without the user touching a key.
#[test]
fn read_write_selection_stays_on_its_release_when_another_becomes_urgent() {
    let mut app = app(false);
    let first = app.selected.clone().expect("a selection");
    // The live Deployment of another release loses its ready pods: it sorts first now.
    let (victim, deployment) = [
        ("api/route1", "http-server-v1"),
        ("shop/nginx-service", "nginx"),
    ]
    .into_iter()
    .find(|(id, _)| *id != first)
    .expect("another release");
    app.update(Msg::View(Arc::new(demo_view_with(|o| {
        if o["kind"] == "Deployment" && o["metadata"]["name"] == deployment {
            o["status"]["readyReplicas"] = 0.into();
            o["status"]["availableReplicas"] = 0.into();
        }
    }))));
    assert_eq!(app.rows[0].id, victim, "the unhealthy release sorts first");
    assert_eq!(app.selected.as_deref(), Some(first.as_str()));
    assert_eq!(app.release().map(|r| r.id()), Some(first));
}

/// Issue 12, point 7: a dialog whose objects change on the cluster while it is open is
/// planned again on the fresh objects; an unchanged view leaves it alone. When the fresh plan
/// reads the same (only a resourceVersion moved, as controllers write status all the time),
/// it takes the open one's place without a word and `y` sends it with the fresh
/// precondition; when its summary, steps or risk read otherwise, the dialog says so.
#[test]
fn an_open_dialog_whose_release_changed_is_planned_again_and_says_so() {
    let mut app = app(false);
    select(&mut app, "shop/nginx-service");
    key(&mut app, Key::char('s'));
    let before = app.confirm().expect("the switch's dialog").plan.clone();
    app.update(Msg::View(Arc::new(demo_view())));
    let same = app.confirm().expect("still open");
    assert_eq!(same.note, None, "nothing changed");
    assert_eq!(same.plan, before);

    let service_at = |version: &'static str| {
        move |o: &mut serde_json::Value| {
            if o["kind"] == "Service" && o["metadata"]["name"] == "nginx-service" {
                o["metadata"]["resourceVersion"] = version.into();
            }
        }
    };
    app.update(Msg::View(Arc::new(demo_view_with(service_at("8")))));
    let again = app.confirm().expect("still open, planned again").clone();
    assert_eq!(again.note, None, "it reads the same: nothing to read again");
    assert_eq!(
        again.plan.steps[0].precondition,
        cutover::release::plan::Precondition::ResourceVersion("8".into()),
        "made on the fresh objects"
    );
    let lines = |p: &cutover::release::plan::Plan| -> Vec<String> {
        p.steps.iter().map(|s| s.description.clone()).collect()
    };
    assert_eq!(lines(&again.plan), lines(&before));
    assert_eq!(again.plan.summary, before.summary);
    let effects = key(&mut app, Key::char('y'));
    let sent = effects.iter().find_map(|e| match e {
        Effect::Apply(plan) => Some(plan.as_ref().clone()),
        _ => None,
    });
    assert_eq!(sent, Some(again.plan.clone()), "the fresh plan is sent");

    // The candidate was scaled up to 4 ready pods: the summary reads otherwise.
    let mut app = self::app(false);
    select(&mut app, "shop/nginx-service");
    key(&mut app, Key::char('s'));
    app.update(Msg::View(Arc::new(demo_view_with(|o| {
        service_at("8")(o);
        if o["kind"] == "Deployment" && o["metadata"]["name"] == "nginx-v2" {
            o["spec"]["replicas"] = 4.into();
            for field in [
                "replicas",
                "readyReplicas",
                "availableReplicas",
                "updatedReplicas",
            ] {
                o["status"][field] = 4.into();
            }
        }
    }))));
    let counted = app.confirm().expect("still open, re-made");
    assert_eq!(
        counted.note.as_deref(),
        Some("shop/nginx-service changed while this was open: plan re-made.")
    );
    assert!(
        counted.plan.summary.contains("v2 (4 ready pods)"),
        "{}",
        counted.plan.summary
    );

    // The candidate lost its ready pods: the plan is risky now, and says so; a name typed
    // into it, and the note, outlast a later change that reads the same.
    let mut app = self::app(false);
    select(&mut app, "shop/nginx-service");
    key(&mut app, Key::char('s'));
    let unready = |version: &'static str| {
        move |o: &mut serde_json::Value| {
            service_at(version)(o);
            if o["kind"] == "Deployment" && o["metadata"]["name"] == "nginx-v2" {
                o["status"]["readyReplicas"] = 0.into();
                o["status"]["availableReplicas"] = 0.into();
            }
        }
    };
    app.update(Msg::View(Arc::new(demo_view_with(unready("8")))));
    let remade = app.confirm().expect("still open, re-made").clone();
    let note = "shop/nginx-service changed while this was open: plan re-made.";
    assert_eq!(remade.note.as_deref(), Some(note));
    assert!(remade.plan.risk.is_some(), "{:?}", remade.plan);
    for c in "shop/ng".chars() {
        key(&mut app, Key::char(c));
    }
    app.update(Msg::View(Arc::new(demo_view_with(unready("9")))));
    let kept = app.confirm().expect("still open");
    assert_eq!(kept.note.as_deref(), Some(note));
    assert_eq!(kept.typed.as_ref().map(|t| t.value()), Some("shop/ng"));
    assert_eq!(
        kept.plan.steps[0].precondition,
        cutover::release::plan::Precondition::ResourceVersion("9".into())
    );
}

/// Issue 12, point 15: read-only, an action key says it is off (by its command's name);
/// every status line carries its time and fades after a while.
#[test]
fn read_only_action_keys_say_they_are_off_and_status_lines_fade() {
    let mut app = app(true);
    for (k, name) in [('a', "approve"), ('s', "switch"), ('n', "new")] {
        app.update(Msg::Tick(now()));
        key(&mut app, Key::char(k));
        let status = app.status.clone().expect("a status line");
        assert_eq!(status.text, format!("read-only: {name} is off"));
        assert_eq!(status.at, now());
        assert!(!status.faded(now() + secs(9)));
        assert!(status.faded(now() + secs(cutover::console::app::STATUS_FADE_SECONDS)));
    }
    key(&mut app, Key::char('j'));
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.contains("approve") || s.text.contains("new")),
        "a key that reads says nothing new"
    );
}

/// Issue 12, point 15: `w` shows the last actions on the selected release (who, what, when)
/// from the audit Events cutover wrote, and says when there are none.
#[test]
fn w_shows_the_last_actions_on_the_selected_release() {
    use cutover::cluster::feed::EventLine;
    let mut app = app(false);
    select(&mut app, "shop/nginx-service");
    key(&mut app, Key::char('w'));
    assert_eq!(
        app.status.as_ref().map(|s| s.text.as_str()),
        Some("shop/nginx-service: no action by cutover is recorded.")
    );
    let mut view = demo_view();
    let release = view
        .release("shop/nginx-service")
        .expect("the release")
        .clone();
    view.focus = Some(cutover::console::app::focus_of(&release));
    let event = |source: &str, ago: i64, message: &str| EventLine {
        time: Some(now() - secs(ago)),
        warning: false,
        reason: "CutoverSwitch".into(),
        object: "Service/nginx-service".into(),
        message: message.into(),
        count: 1,
        source: source.into(),
    };
    view.events = Arc::new(vec![
        event("cutover", 60, "ana switch shop/nginx-service: v1 → v2"),
        event("kubelet", 90, "Started container nginx"),
        event("cutover", 600, "bob stage shop/nginx-service: nginx:1.27"),
    ]);
    app.update(Msg::View(Arc::new(view)));
    key(&mut app, Key::char('w'));
    assert_eq!(
        app.status.as_ref().map(|s| s.text.as_str()),
        Some(
            "shop/nginx-service, last actions: 02:59:00 ana switch shop/nginx-service: v1 → v2 · 02:50:00 bob stage shop/nginx-service: nginx:1.27"
        )
    );
}

/// Issue 12, point 17: after a rollback, approve and new both point to what works (switch
/// again, or retire the candidate first), never to "stage it again".
#[test]
fn after_a_rollback_approve_and_new_point_to_what_works() {
    let mut app = app(false);
    app.update(Msg::View(Arc::new(rolled_back_view())));
    select(&mut app, "shop/nginx-service");
    assert_eq!(app.release().map(|r| r.stage), Some(Stage::RolledBack));
    key(&mut app, Key::char('a'));
    let approve = app.status.clone().expect("why not").text;
    assert!(
        approve.contains("switch") && approve.contains("retire"),
        "{approve}"
    );
    key(&mut app, Key::char('n'));
    let new = app.status.clone().expect("why not").text;
    assert_eq!(
        new,
        "shop/nginx-service already has a candidate, v2 (rolled back): s switches to it again; d retires it so a new one can be staged."
    );
    assert!(!approve.contains("stage it again") && !app.next_step.contains("stage again"));
    // What they point at is what the planner accepts.
    let allowed = |c| {
        app.actions
            .iter()
            .find(|a| a.command == c)
            .map(|a| a.allowed.clone())
    };
    use cutover::console::app::Allowed;
    use cutover::console::keymap::Command;
    assert!(matches!(
        allowed(Command::Switch),
        Some(Allowed::Yes | Allowed::Risky(_))
    ));
    assert!(matches!(
        allowed(Command::Retire),
        Some(Allowed::Yes | Allowed::Risky(_))
    ));
}

/// Issue 12, point 17: `↻ moving` only for a release whose traffic or pods move: a canary
/// held at a step waits for approval; pods not yet ready are moving.
#[test]
fn moving_only_while_pods_or_traffic_move() {
    use cutover::console::app::{Attention, attention};
    let view = demo_view();
    // (The demo's objects come without pods here: their warning is not what is tested.)
    let mut canary = view.release("api/route1").expect("the canary").clone();
    canary.warnings.clear();
    assert_eq!(canary.stage, Stage::Shifting);
    assert_eq!(
        attention(&canary),
        Attention::Waiting,
        "held at a step: {:?}",
        canary.warnings
    );
    let at_rest = view
        .release("shop/nginx-service")
        .expect("a staged release");
    assert_ne!(attention(at_rest), Attention::Moving);
    let rolling = demo_view_with(|o| {
        if o["kind"] == "Deployment" && o["metadata"]["name"] == "nginx-v2" {
            o["status"]["updatedReplicas"] = 1.into();
        }
    });
    let r = rolling.release("shop/nginx-service").expect("the release");
    let rolled_back = rolled_back_view();
    let mut quiet = rolled_back
        .release("shop/nginx-service")
        .expect("the release")
        .clone();
    quiet.warnings.clear();
    assert_eq!(attention(&quiet), Attention::Quiet, "rolled back, at rest");
    let mut r = r.clone();
    r.stage = Stage::RolledBack;
    r.warnings.clear();
    assert_eq!(attention(&r), Attention::Moving, "pods are being replaced");
}

/// The demo with `shop/nginx-service` rolled back (nothing to do), every Deployment rolled
/// out as kube's controller says it (`Available=True`, `Progressing=True,
/// NewReplicaSetAvailable`), `change` applied to the Deployment `nginx`'s status, and pods
/// watched only for `grey/frontend` (the selected release), as the console's feed holds them.
fn scoped_view_with_nginx(change: impl Fn(&mut Value)) -> ClusterView {
    let objects: Vec<Value> = cutover::embedded::demo::objects()
        .into_iter()
        .map(|mut o| {
            o["metadata"]["resourceVersion"] = "7".into();
            roll_back_nginx(&mut o);
            if o["kind"] == "Deployment" {
                let n = o["spec"]["replicas"].clone();
                let condition = |type_: &str, reason: &str| {
                    serde_json::json!({"type": type_, "status": "True", "reason": reason})
                };
                o["status"] = serde_json::json!({
                    "observedGeneration": 1, "replicas": n, "updatedReplicas": n,
                    "readyReplicas": n, "availableReplicas": n,
                    "conditions": [
                        condition("Available", "MinimumReplicasAvailable"),
                        condition("Progressing", "NewReplicaSetAvailable"),
                    ],
                });
                if o["metadata"]["name"] == "nginx" {
                    change(&mut o["status"]);
                }
            }
            o
        })
        .collect();
    let mut snapshot = common::snapshot_of(&objects);
    snapshot.pod_scope = cutover::release::PodScope::Only(
        [("grey", "frontend-v1"), ("grey", "frontend-v2")]
            .map(|(ns, d)| (ns.to_string(), d.to_string()))
            .into(),
    );
    common::view_of(&snapshot, now())
}

/// Issue 16 follow-up, point 1: a release whose pods are not watched (not selected) is
/// marked from its Deployments' status, one rule for the mark, its legend and the sort: pods
/// missing with no rollout to explain them are `✖`, a rollout not yet done is `?`
/// (unconfirmed), never `✔ quiet`; either sorts before the quiet ones and the gates.
#[test]
fn a_release_whose_pods_are_not_watched_is_marked_by_its_deployments() {
    use cutover::console::app::Attention;
    let row = |view: ClusterView| {
        let mut app = App::new(Session::default(), now());
        app.update(Msg::View(Arc::new(view)));
        select(&mut app, "grey/frontend");
        let at = app.rows.iter().position(|r| r.id == "shop/nginx-service");
        let at = at.expect("shop/nginx-service in the list");
        let r = app.row_release(&app.rows[at]).expect("its release");
        assert!(!r.live.pods_known, "its pods are not watched");
        (at, app.rows[at].attention, app.rows.len())
    };
    // Rolled out and every pod available: nothing to do, last in the list.
    let (at, attention, rows) = row(scoped_view_with_nginx(|_| {}));
    assert_eq!((attention, at), (Attention::Quiet, rows - 1));
    // Its last rollout completed, yet one of its 3 pods is not available (crash-looping
    // since, say): unhealthy, first.
    let lost = scoped_view_with_nginx(|s| {
        s["availableReplicas"] = 2.into();
        s["unavailableReplicas"] = 1.into();
    });
    assert_eq!(row(lost), (0, Attention::Unhealthy, rows));
    // A new image rolled out whose pod never becomes available (the reviewer's `-oom`): the
    // counts kubectl shows all match, but an old pod is pending termination and the rollout
    // goes on. Neither quiet nor waiting: unconfirmed, before the gates.
    let rolling = scoped_view_with_nginx(|s| {
        s["replicas"] = 4.into();
        s["conditions"][1]["reason"] = "ReplicaSetUpdated".into();
    });
    assert_eq!(row(rolling), (0, Attention::Unconfirmed, rows));
    // Past its progress deadline: unhealthy.
    let stalled = scoped_view_with_nginx(|s| {
        s["replicas"] = 4.into();
        s["conditions"][1] = serde_json::json!({"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded"});
    });
    assert_eq!(row(stalled), (0, Attention::Unhealthy, rows));
}

/// A canary rolled back with its header rule in place: ordinary traffic is back on v1, but
/// the header's requests still reach v2, and the next step says so rather than "traffic is
/// back" (found by a new-user review).
#[test]
fn a_rolled_back_canary_with_a_header_rule_says_those_requests_still_reach_the_candidate() {
    let mut app = app(false);
    app.update(Msg::View(Arc::new(demo_view_with(|o| {
        if o["kind"] == "Ingress" && o["metadata"]["name"] == "frontend-grey" {
            let record = serde_json::json!({
                "stage": "rolled-back",
                "live": {"deployments": ["frontend-v1"], "version": "v1"},
                "candidate": {"deployments": ["frontend-v2"], "version": "v2"},
                "previous": {},
                "started_by": "ana",
            });
            o["metadata"]["annotations"]["cutover.dev/release"] =
                serde_json::json!(record.to_string());
        }
    }))));
    select(&mut app, "grey/frontend");
    assert_eq!(app.release().map(|r| r.stage), Some(Stage::RolledBack));
    assert_eq!(
        app.next_step,
        "ordinary traffic is back on v1, but requests with header _env=grey still go to v2: remove the rules from the canary Ingress grey/frontend-grey (its canary-by-header/cookie annotations) to end that"
    );
}

/// `n` on a release whose candidate runs names only the keys the planner accepts for it: on
/// a staged canary, approve and switch, not retire (found by a new-user review).
#[test]
fn n_on_a_staged_canary_points_only_at_actions_that_work() {
    let mut app = app(false);
    select(&mut app, "grey/frontend");
    assert_eq!(app.release().map(|r| r.stage), Some(Stage::Staged));
    key(&mut app, Key::char('n'));
    let said = app.status.clone().expect("why not").text;
    assert_eq!(
        said,
        "grey/frontend already has a candidate, v2: end that release first (a approves · s switches to it)."
    );
    use cutover::console::app::Allowed;
    use cutover::console::keymap::Command;
    let retire = app.actions.iter().find(|a| a.command == Command::Retire);
    assert!(
        matches!(retire.map(|a| &a.allowed), Some(Allowed::No(_))),
        "{retire:?}"
    );
}

/// An open dialog whose risk changes with the pods (the plan's objects unchanged) is made
/// again: a weight that was safe asks for the name once the candidate has no ready pod
/// (found by a new-user review: the risk line went stale).
#[test]
fn an_open_dialog_is_planned_again_when_its_risk_changes() {
    let mut app = app(false);
    select(&mut app, "api/route1");
    key(&mut app, Key::char(']'));
    key(&mut app, Key::plain(KeyCode::Enter));
    let confirm = app.confirm().expect("a confirm dialog");
    assert_eq!(confirm.plan.op, cutover::release::plan::Op::SetWeight(50));
    assert_eq!(confirm.plan.risk, None);
    app.update(Msg::View(Arc::new(demo_view_with(|o| {
        if o["kind"] == "Deployment" && o["metadata"]["name"] == "http-server-v2" {
            o["status"]["readyReplicas"] = serde_json::json!(0);
            o["status"]["availableReplicas"] = serde_json::json!(0);
        }
    }))));
    let confirm = app.confirm().expect("the dialog, made again");
    assert_eq!(
        confirm.plan.risk.as_deref(),
        Some("v2 has no ready pods: ingress-nginx would send 50 % of requests to v1 instead")
    );
    assert!(confirm.typed.is_some(), "now risky: typed");
    assert!(
        confirm
            .note
            .as_deref()
            .is_some_and(|n| n.contains("changed while this was open: plan re-made")),
        "{:?}",
        confirm.note
    );
}

/// A dialog opened while the view is stale says so: the plan was made from what was read
/// before the link went quiet (found by a new-user review).
#[test]
fn a_dialog_opened_over_a_stale_view_says_it_is_stale() {
    let mut app = app(false);
    let mut view = demo_view();
    view.connection = cutover::cluster::feed::Connection::Stale {
        since: "2026-11-23T02:59:10Z".parse().expect("time"),
        relisting: false,
    };
    app.update(Msg::View(Arc::new(view)));
    select(&mut app, "shop/nginx-service");
    key(&mut app, Key::char('s'));
    let confirm = app.confirm().expect("a confirm dialog");
    assert!(
        confirm
            .note
            .as_deref()
            .is_some_and(|n| n
                .starts_with("The view is stale: planned from objects read before 02:59:10 UTC")),
        "{:?}",
        confirm.note
    );
    // Live again, a dialog says nothing of the kind.
    key(&mut app, Key::plain(KeyCode::Esc));
    app.update(Msg::View(Arc::new(demo_view())));
    key(&mut app, Key::char('s'));
    let confirm = app.confirm().expect("a confirm dialog");
    assert!(
        !confirm.note.as_deref().unwrap_or("").contains("stale"),
        "{:?}",
        confirm.note
    );
}

/// Namespace `gw`: Deployments and Services `web-v1` (4 ready) and `web-v2` (2 ready), and
/// the HTTPRoute `web` (resourceVersion 7) whose rule 0 sends `X-Canary: always` to web-v2 and
/// whose rule 1 splits `/` 90/10 between them; `annotations` on the route.
fn route_objects(annotations: Value) -> Vec<Value> {
    let mut objects = Vec::new();
    for (v, n) in [("v1", 4), ("v2", 2)] {
        let name = format!("web-{v}");
        let labels = serde_json::json!({"app": "web", "version": v});
        objects.push(serde_json::json!({
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "gw", "resourceVersion": "7"},
            "spec": {"replicas": n, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": format!("web:{v}")}]}}},
            "status": {"observedGeneration": 1, "replicas": n, "updatedReplicas": n,
                       "readyReplicas": n, "availableReplicas": n}
        }));
        objects.push(serde_json::json!({
            "kind": "Service",
            "metadata": {"name": name, "namespace": "gw", "resourceVersion": "7"},
            "spec": {"selector": labels, "ports": [{"port": 80}]}
        }));
    }
    objects.push(serde_json::json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": "gw", "resourceVersion": "7",
                     "annotations": annotations},
        "spec": {
            "parentRefs": [{"name": "public"}],
            "hostnames": ["web.example"],
            "rules": [
                {"matches": [{"headers": [{"name": "X-Canary", "value": "always"}]}],
                 "backendRefs": [{"name": "web-v2", "port": 80}]},
                {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                 "backendRefs": [{"name": "web-v1", "port": 80, "weight": 90},
                                 {"name": "web-v2", "port": 80, "weight": 10}]}
            ]
        },
        "status": {"parents": [{"parentRef": {"name": "public"}, "controllerName": "x",
            "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted"},
                           {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs"}]}]}
    }));
    objects
}

fn route_app(annotations: Value) -> App {
    let view = common::view_of(&common::snapshot_of(&route_objects(annotations)), now());
    let mut app = App::new(Session::default(), now());
    app.update(Msg::View(Arc::new(view)));
    select(&mut app, "gw/web");
    app
}

/// The weight ops of a JSON patch: (path, value) of every op but the resourceVersion's.
fn weight_ops(action: &cutover::release::plan::Action) -> Vec<(String, Value)> {
    let cutover::release::plan::Action::JsonPatch(ops) = action else {
        panic!("not a JSON patch: {action:?}")
    };
    let ops = ops.as_array().expect("an array of ops");
    assert_eq!(
        ops[0],
        serde_json::json!({"op": "replace", "path": "/metadata/resourceVersion", "value": "7"}),
        "the first op is the resourceVersion precondition"
    );
    ops.iter()
        .filter(|op| op["path"].as_str().is_some_and(|p| p.ends_with("/weight")))
        .map(|op| {
            (
                op["path"].as_str().unwrap_or("").to_string(),
                op["value"].clone(),
            )
        })
        .collect()
}

/// The slider's keys work on an HTTPRoute canary exactly as on an nginx one: `]` and `[` move
/// the pending weight by the steps, `l` by 5, enter opens the dialog, y applies; the plan is a
/// JSON patch of the split rule's two weights on the route's own scale of 100, with the
/// resourceVersion first, and the header rule is left alone.
/// Source: Gateway API `apis/v1/shared_types.go`, `BackendRef.Weight` (relative weights).
#[test]
fn the_canary_keys_on_an_httproute_plan_a_json_patch_of_the_routes_weights() {
    let mut app = route_app(serde_json::json!({}));
    let release = app.release().expect("selected").clone();
    assert_eq!(
        (release.pattern.as_str(), release.traffic.candidate_percent),
        ("httproute-canary", 10)
    );
    for (k, want) in [
        (Key::char(']'), 25),
        (Key::char(']'), 50),
        (Key::char('['), 25),
        (Key::char('l'), 30),
        (Key::char('h'), 25),
    ] {
        key(&mut app, k);
        let pending = app.pending.as_ref().expect("pending weight");
        assert_eq!(pending.percent, want, "after {}", k.label());
    }
    assert!(key(&mut app, Key::plain(KeyCode::Enter)).is_empty());
    let confirm = app.confirm().expect("confirm dialog");
    assert_eq!(confirm.plan.op, cutover::release::plan::Op::SetWeight(25));
    assert!(
        confirm
            .plan
            .summary
            .contains("header X-Canary=always still go to"),
        "the dialog says what happens to the header rule: {}",
        confirm.plan.summary
    );
    let effects = key(&mut app, Key::char('y'));
    let [Effect::Apply(plan)] = &effects[..] else {
        panic!("{effects:?}")
    };
    let route_steps: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.kind == cutover::release::plan::Kind::HttpRoute)
        .collect();
    assert_eq!(route_steps.len(), 1, "one write to the route: {plan:#?}");
    assert_eq!(
        weight_ops(&route_steps[0].action),
        vec![
            ("/spec/rules/1/backendRefs/0/weight".to_string(), 75.into()),
            ("/spec/rules/1/backendRefs/1/weight".to_string(), 25.into()),
        ]
    );
}

/// A conflict on an HTTPRoute asks again naming who changed the route last, read from the
/// route's `cutover.dev/last-action` (the console looked among the Ingresses for it).
#[test]
fn a_conflict_on_an_httproute_names_who_changed_the_route_last() {
    let mut app = route_app(serde_json::json!({}));
    key(&mut app, Key::char(']'));
    key(&mut app, Key::plain(KeyCode::Enter));
    let effects = key(&mut app, Key::char('y'));
    let [Effect::Apply(plan)] = &effects[..] else {
        panic!("{effects:?}")
    };
    app.update(Msg::Applied(cutover::console::app::Applied {
        release: plan.release.clone(),
        op: plan.op.clone(),
        ok: false,
        conflict: true,
        cancelled: false,
        text: "HTTPRoute gw/web was changed by someone else".into(),
    }));
    let last = serde_json::json!({
        "action": "weight", "actor": "alice", "time": "2026-11-23T02:59:00Z",
        "from": "10%", "to": "20%"
    });
    let objects = route_objects(serde_json::json!({"cutover.dev/last-action": last.to_string()}));
    let view = common::view_of(&common::snapshot_of(&objects), now());
    app.update(Msg::View(Arc::new(view)));
    let confirm = app.confirm().expect("asked again");
    let note = confirm.note.as_deref().unwrap_or("");
    assert!(
        note.contains("Last change recorded on HTTPRoute gw/web: weight by alice"),
        "{note}"
    );
}

/// Where the planner refuses approve, the stage line says why instead of offering the step:
/// the Ingress switch's candidate Service selects no Deployment (a typo'd selector).
#[test]
fn the_next_step_says_approve_is_refused_rather_than_offer_it() {
    let view = demo_view_with(|o| {
        if o["kind"] == "Service" && o["metadata"]["name"] == "green-service" {
            o["spec"]["selector"]["color"] = "gren".into();
        }
    });
    let mut app = app(false);
    app.update(Msg::View(Arc::new(view)));
    select(&mut app, "web/demo-ingress");
    assert_eq!(
        app.next_step,
        "approve is refused: The candidate Service web/green-service selects no Deployment: there is no pod to send traffic to. Fix its selector, or deploy the candidate first."
    );
    // Mended, the step is offered again.
    app.update(Msg::View(Arc::new(demo_view())));
    assert_eq!(app.next_step, "approve to switch all traffic to green");
}

/// An identity that may not list HTTPRoutes sees checkout's payments Services as a selector
/// switch: with the snapshot saying the routes could not be read (as the feed says it,
/// `connection::httproutes_not_readable_are_one_note_and_the_rest_stays_live`), approving (a
/// selector switch onto pods the twin Service already selects) is refused, not offered.
#[test]
fn without_routes_a_switch_onto_a_twin_service_is_refused_in_the_console() {
    let objects: Vec<Value> = cutover::embedded::demo::objects()
        .into_iter()
        .filter(|o| o["kind"] != "HTTPRoute")
        .map(|mut o| {
            o["metadata"]["resourceVersion"] = "7".into();
            o
        })
        .collect();
    let mut snapshot = common::snapshot_of(&objects);
    snapshot.unread.insert(
        cutover::release::model::Kind::HttpRoute,
        "may not list httproutes.gateway.networking.k8s.io".into(),
    );
    let mut view = common::view_of(&snapshot, now());
    view.gateway_api = cutover::cluster::feed::GatewayApi::Forbidden("403".into());
    let mut app = app(false);
    app.update(Msg::View(Arc::new(view)));
    select(&mut app, "checkout/payments-blue");
    assert!(
        app.next_step.starts_with(
            "approve is refused: Service checkout/payments-green already selects green with the selector this switch gives checkout/payments-blue, and HTTPRoutes could not be read (may not list httproutes.gateway.networking.k8s.io)"
        ),
        "{}",
        app.next_step
    );
}

/// Issue 15, security: every key in every mode a key opens (filter, help, command line,
/// events, pickers, …) on a read-only console: nothing plans, applies or opens a dialog, and
/// the console is still read-only afterwards.
#[test]
fn read_only_mode_writes_nothing_from_any_mode_whatever_is_pressed() {
    let keys: Vec<Key> = all_keys()
        .into_iter()
        .chain([Key::ctrl('c'), Key::ctrl('d'), Key::ctrl('u')])
        .filter(|k| *k != Key::char('q') && *k != Key::ctrl('c'))
        .collect();
    for opener in &keys {
        for then in [Key::char(':'), Key::plain(KeyCode::Enter), Key::char('x')] {
            let mut app = app(true);
            key(&mut app, *opener);
            key(&mut app, then);
            for k in &keys {
                for e in key(&mut app, *k) {
                    assert!(
                        !matches!(e, Effect::Apply(_) | Effect::Cancel(_)),
                        "after {} {}: key {}",
                        opener.label(),
                        then.label(),
                        k.label()
                    );
                }
                assert!(app.confirm().is_none(), "key {} opened a dialog", k.label());
                assert!(app.pending.is_none(), "key {} moved the slider", k.label());
            }
            assert!(app.read_only());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Golden signals (issue 16): kept for the selected release only; worse fresh signals make
// approve risky at a gate, stale or failed ones never do.
// ---------------------------------------------------------------------------------------

use cutover::console::app::{Allowed, SignalsAnswer};
use cutover::console::keymap::Command;
use cutover::release::signals::{ReleaseSignals, Series, Signals, TrackSignals};

/// A track's three signals, flat over the last ten minutes at `rate` req/s, `errors` (0–1)
/// and `p99` seconds.
fn track_signals(name: &str, rate: f64, errors: f64, p99: f64) -> TrackSignals {
    let flat = |v: f64| {
        Some(Series {
            points: (0..20).map(|i| (i * 30, v)).collect(),
        })
    };
    TrackSignals {
        track: name.into(),
        request_rate: flat(rate),
        error_ratio: flat(errors),
        latency_p99: flat(p99),
    }
}

/// `release`'s signals evaluated at `at`: live v1 healthy, candidate v2 failing `errors` of
/// its requests.
fn signals_at(release: &str, errors: f64, at: jiff::Timestamp) -> ReleaseSignals {
    ReleaseSignals {
        release: release.into(),
        live: track_signals("v1", 9.0, 0.001, 0.12),
        candidate: Some(track_signals("v2", 3.0, errors, 0.12)),
        at,
        window_seconds: 600,
        step_seconds: 30,
        unanswered: Vec::new(),
        basis: None,
    }
}

fn answer(app: &mut App, release: &str, signals: Signals) -> Vec<Effect> {
    app.update(Msg::Signals(Box::new(SignalsAnswer {
        release: release.into(),
        signals,
    })))
}

/// The demo app with a Prometheus configured, `id` selected.
fn metrics_app(id: &str) -> App {
    let mut app = app(false);
    app.session.metrics = Some(cutover::cluster::metrics::Settings::new(
        cutover::cluster::metrics::Source::Url("http://prometheus.test:9090".into()),
    ));
    select(&mut app, "api/route1");
    select(&mut app, id);
    app
}

fn approve(app: &App) -> Allowed {
    app.actions
        .iter()
        .find(|a| a.command == Command::Approve)
        .map(|a| a.allowed.clone())
        .expect("approve is offered")
}

/// How `cluster::metrics` says a fetch timed out; the pane shows it as it is.
const TIMED_OUT: &str = "Prometheus at http://203.0.113.20:9090 did not answer within 2s: check \
                         that it is up, or raise [prometheus] timeout in metrics.toml";

const WORSE: &str = "v2 fails 12.0% of requests against 0.1% on v1 (margin 1.0 point)";

/// Approve while the first answer is awaited: a step on figures nobody has seen.
const ASKING: &str = "the golden signals are not judged yet: asking Prometheus";

#[test]
fn signals_for_another_release_are_dropped_and_a_new_selection_waits_for_its_own() {
    let mut app = metrics_app("shop/nginx-service");
    assert_eq!(app.signals, Signals::Waiting);
    let late = signals_at("api/route1", 0.12, now());
    answer(&mut app, "api/route1", Signals::Ready(late));
    assert_eq!(
        app.signals,
        Signals::Waiting,
        "an answer for another release"
    );
    let mine = signals_at("shop/nginx-service", 0.001, now());
    answer(&mut app, "shop/nginx-service", Signals::Ready(mine.clone()));
    assert_eq!(app.signals, Signals::Ready(mine.clone()));
    // A failure without its own last answer keeps the one held, shown as of its time.
    let why = TIMED_OUT.to_string();
    let failed = Signals::Failed {
        why: why.clone(),
        last: None,
    };
    answer(&mut app, "shop/nginx-service", failed);
    let held = Signals::Failed {
        why,
        last: Some(mine),
    };
    assert_eq!(app.signals, held);
    select(&mut app, "api/route1");
    assert_eq!(app.signals, Signals::Waiting, "a new selection asks again");
}

#[test]
fn without_prometheus_a_new_selection_stays_not_configured() {
    let mut quiet = app(false);
    select(&mut quiet, "api/route1");
    select(&mut quiet, "shop/nginx-service");
    assert_eq!(quiet.signals, Signals::NotConfigured);
}

#[test]
fn approve_on_worse_signals_asks_for_the_typed_name_and_the_dialog_holds_the_figures() {
    let mut app = metrics_app("shop/nginx-service");
    assert_eq!(approve(&app), Allowed::Risky(ASKING.into()));
    let worse = signals_at("shop/nginx-service", 0.12, now());
    answer(&mut app, "shop/nginx-service", Signals::Ready(worse));
    assert_eq!(approve(&app), Allowed::Risky(WORSE.into()));
    assert_eq!(app.signals_risk.as_deref(), Some(WORSE));
    let rows = screen(&app).join("\n");
    assert!(
        rows.contains("⚠ approve is risky: v2 fails 12.0%"),
        "{rows}"
    );
    assert!(rows.contains("+11.9 pts"), "{rows}");
    key(&mut app, Key::char('a'));
    let confirm = app.confirm().expect("a confirm dialog");
    assert_eq!(confirm.plan.risk.as_deref(), Some(WORSE));
    assert!(confirm.typed.is_some(), "risky: the name is typed");
    let rows = screen(&app).join("\n");
    assert!(rows.contains("v2 fails 12.0% of requests"), "{rows}");
    let effects = key(&mut app, Key::plain(KeyCode::Enter));
    assert!(effects.is_empty(), "enter without the name sends nothing");
    for c in "nginx-service".chars() {
        key(&mut app, Key::char(c));
    }
    let effects = key(&mut app, Key::plain(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::Apply(_)]), "{effects:?}");
}

#[test]
fn approve_on_good_signals_asks_only_for_y() {
    let mut app = metrics_app("api/route1");
    let good = signals_at("api/route1", 0.005, now());
    answer(&mut app, "api/route1", Signals::Ready(good));
    assert_eq!(approve(&app), Allowed::Yes);
    assert_eq!(app.signals_risk, None);
    key(&mut app, Key::char('a'));
    let confirm = app.confirm().expect("a confirm dialog");
    assert_eq!(confirm.plan.risk, None);
    assert!(confirm.typed.is_none());
}

/// Signals that judge nothing (old, failed, asked before the release changed, or with no
/// series for live) make approve risky with why, never with their figures: an approve is not
/// waved through on figures nobody saw, as an analysis that could not run halts Argo Rollouts.
#[test]
fn stale_failed_or_outdated_signals_make_approve_risky_as_not_judged() {
    let id = "shop/nginx-service";
    let mut app = metrics_app(id);
    let old = now() - jiff::SignedDuration::from_secs(300);
    answer(&mut app, id, Signals::Ready(signals_at(id, 0.12, old)));
    let five = "the golden signals are 5m old: not judged";
    assert_eq!(
        approve(&app),
        Allowed::Risky(five.into()),
        "five minutes old"
    );
    assert!(screen(&app).join("\n").contains("as of 5m ago"));
    // Fresh, then old by the console's clock: approve is planned again each time.
    answer(&mut app, id, Signals::Ready(signals_at(id, 0.12, now())));
    assert_eq!(approve(&app), Allowed::Risky(WORSE.into()));
    app.update(Msg::Tick(
        now() + jiff::SignedDuration::from_secs(cutover::console::app::SIGNALS_STALE_SECONDS),
    ));
    let stale = "the golden signals are 1m old: not judged";
    assert_eq!(
        approve(&app),
        Allowed::Risky(stale.into()),
        "stale by the clock"
    );
    app.update(Msg::Tick(now()));
    assert_eq!(approve(&app), Allowed::Risky(WORSE.into()));
    let failed = Signals::Failed {
        why: TIMED_OUT.into(),
        last: None,
    };
    answer(&mut app, id, failed);
    let not_judged = format!("the golden signals are not judged: {TIMED_OUT}");
    assert_eq!(
        approve(&app),
        Allowed::Risky(not_judged),
        "the last query failed"
    );
    let rows = screen(&app).join("\n");
    assert!(
        rows.contains("Prometheus at http://203.0.113.20:9090"),
        "the pane says why: {rows}"
    );
    // Asked for the release as it was before a change (another basis): not its figures now.
    let release = app.release().expect("selected").clone();
    let mut before = signals_at(id, 0.12, now());
    before.basis = Some(cutover::release::signals::basis(&release).wrapping_add(1));
    answer(&mut app, id, Signals::Ready(before));
    let outdated =
        "the golden signals are from before the release changed (0s ago): not judged yet";
    assert_eq!(approve(&app), Allowed::Risky(outdated.into()));
    assert!(
        screen(&app)
            .join("\n")
            .contains("before the release changed")
    );
    let mut current = signals_at(id, 0.001, now());
    current.basis = Some(cutover::release::signals::basis(&release));
    answer(&mut app, id, Signals::Ready(current.clone()));
    assert_eq!(approve(&app), Allowed::Yes, "current and good");
    // Prometheus answers, but has no series for live: the queries match nothing.
    current.live.request_rate = None;
    answer(&mut app, id, Signals::Ready(current));
    let Allowed::Risky(why) = approve(&app) else {
        panic!("no series for live judges nothing")
    };
    assert!(
        why.contains("Prometheus has no request rate for v1 (live)"),
        "{why}"
    );
}

/// A blue-green candidate that takes no requests yet has no figures by nature: the pane says
/// the signals cannot judge it before the switch, rather than only "no series".
#[test]
fn a_candidate_without_requests_is_said_to_be_unmeasured() {
    let id = "shop/nginx-service";
    let mut app = metrics_app(id);
    let mut s = signals_at(id, 0.0, now());
    if let Some(c) = s.candidate.as_mut() {
        (c.request_rate, c.error_ratio, c.latency_p99) = (None, None, None);
    }
    answer(&mut app, id, Signals::Ready(s));
    let rows = screen(&app).join("\n");
    assert!(rows.contains("v2 takes no requests yet"), "{rows}");
}

/// A Prometheus URL watches the context the console started in: in another context the
/// signals are off, and the pane says whose Prometheus it is; back home they are on again.
#[test]
fn a_prometheus_url_is_off_in_other_contexts_and_says_so() {
    let mut app = metrics_app("shop/nginx-service");
    app.session.metrics_home = "one".into();
    app.session.context = "two".into();
    assert!(!app.session.metrics_configured());
    select(&mut app, "api/route1");
    assert_eq!(app.signals, Signals::NotConfigured);
    assert_eq!(approve(&app), Allowed::Yes, "no Prometheus here to judge");
    let rows = screen(&app).join("\n");
    assert!(
        rows.contains("off here: Prometheus watches context one (http://"),
        "{rows}"
    );
    app.session.context = "one".into();
    select(&mut app, "shop/nginx-service");
    assert_eq!(app.signals, Signals::Waiting, "back home, asked again");
}

#[test]
fn an_open_approve_dialog_is_planned_again_when_worse_signals_arrive() {
    let id = "shop/nginx-service";
    let mut app = metrics_app(id);
    key(&mut app, Key::char('a'));
    assert!(
        app.confirm()
            .is_some_and(|c| c.plan.risk.as_deref() == Some(ASKING))
    );
    answer(&mut app, id, Signals::Ready(signals_at(id, 0.12, now())));
    let confirm = app.confirm().expect("the dialog, made again");
    assert_eq!(confirm.plan.risk.as_deref(), Some(WORSE));
    assert!(confirm.typed.is_some(), "now risky: typed");
}

/// Keys, ticks and answers for any release in any order: the held signals are always the
/// selected release's, and only fresh ones ever make approve risky.
#[test]
fn random_signals_stay_with_the_selected_release_and_never_judge_when_stale() {
    let keys = all_keys();
    let ids: Vec<String> = app(false).rows.iter().map(|r| r.id.clone()).collect();
    for seed in 0..100u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut app = metrics_app("shop/nginx-service");
        let mut t = now();
        for _ in 0..150 {
            let id = ids[rng.usize(0..ids.len())].clone();
            let at = t - jiff::SignedDuration::from_secs(rng.i64(0..200));
            let signals = match rng.u8(0..3) {
                0 => Signals::Ready(signals_at(&id, rng.f64() * 0.2, at)),
                1 => Signals::Failed {
                    why: TIMED_OUT.into(),
                    last: rng.bool().then(|| signals_at(&id, 0.12, at)),
                },
                _ => Signals::Waiting,
            };
            match rng.u8(0..4) {
                0 => answer(&mut app, &id, signals),
                1 => {
                    t += jiff::SignedDuration::from_secs(rng.i64(0..60));
                    app.update(Msg::Tick(t))
                }
                _ => key(&mut app, keys[rng.usize(0..keys.len())]),
            };
            if app.quit {
                break;
            }
            let about = |s: &ReleaseSignals| Some(s.release.as_str()) == app.selected.as_deref();
            match &app.signals {
                Signals::Ready(s) => assert!(about(s), "seed {seed}"),
                Signals::Failed { last: Some(s), .. } => assert!(about(s), "seed {seed}"),
                _ => {}
            }
            let fresh = matches!(&app.signals, Signals::Ready(s)
                if cutover::console::app::fresh(s, app.now));
            assert!(app.signals_risk.is_none() || fresh, "seed {seed}");
            // No demo release's approve is risky on its own: only the signals make it so.
            let risky = app
                .actions
                .iter()
                .any(|a| a.command == Command::Approve && matches!(a.allowed, Allowed::Risky(_)));
            let judged = app.signals_risk.is_some() || app.signals_unjudged.is_some();
            assert!(!risky || judged, "seed {seed}");
        }
    }
}

/// The demo with pods for shop's selector switch: one for the live track (nginx), and those
/// named `<suffix>` for the candidate (nginx-v2), crash-looping (running where the suffix
/// starts with `ok`).
fn nginx_pods_view(candidate: &[&str]) -> ClusterView {
    let mut view = demo_view();
    let shop = view.namespaces.get_mut("shop").expect("shop");
    let mut snapshot = shop.snapshot().clone();
    let owned = |kind: &str, name: &str| {
        serde_json::json!([{"apiVersion": "v1", "kind": kind, "name": name,
            "uid": format!("uid-{name}"), "controller": true}])
    };
    for (deployment, pods) in [("nginx", &["live1"][..]), ("nginx-v2", candidate)] {
        let rs = format!("{deployment}-5d4f8b7c9");
        let replica_set = serde_json::json!({"metadata": {"name": rs, "namespace": "shop",
            "ownerReferences": owned("Deployment", deployment)}, "spec": {"replicas": 1,
            "selector": {}}, "status": {"replicas": 1}});
        snapshot
            .replica_sets
            .push(serde_json::from_value(replica_set).expect("a ReplicaSet"));
        for suffix in pods {
            let state = match suffix.starts_with("ok") {
                true => serde_json::json!({"running": {"startedAt": "2026-11-30T02:00:00Z"}}),
                false => serde_json::json!({"waiting": {"reason": "CrashLoopBackOff"}}),
            };
            let pod = serde_json::json!({"metadata": {"name": format!("{rs}-{suffix}"),
                "namespace": "shop", "ownerReferences": owned("ReplicaSet", &rs)},
                "spec": {"nodeName": "node-1", "containers": [{"name": "app"}]},
                "status": {"phase": "Running", "containerStatuses": [{"name": "app",
                    "image": "nginx", "imageID": "", "ready": false, "restartCount": 3,
                    "state": state,
                    "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}});
            snapshot
                .pods
                .push(serde_json::from_value(pod).expect("a Pod"));
        }
    }
    let releases = cutover::release::discover(&snapshot, now());
    *shop = cutover::cluster::feed::NamespaceView::new(snapshot, releases);
    view
}

/// The app on shop's selector switch with `candidate` pods, the pod detail open.
fn pods_open(read_only: bool, candidate: &[&str]) -> App {
    let mut app = app(read_only);
    app.update(Msg::View(Arc::new(nginx_pods_view(candidate))));
    let id = app
        .rows
        .iter()
        .find(|r| r.id.starts_with("shop/"))
        .map(|r| r.id.clone())
        .expect("shop's release");
    select(&mut app, &id);
    let effects = key(&mut app, Key::char('i'));
    assert!(effects.is_empty(), "{effects:?}");
    app
}

/// The track and pod the pod detail shows: (`live`/`candidate`, the pod's name).
fn pods_shown(app: &App) -> Option<(&'static str, String)> {
    let view = app.pods_view()?;
    let (side, track) = view.track(app.release()?);
    let row = view.selected(&track.pods)?;
    Some((side.as_str(), track.pods[row].name.to_string()))
}

#[test]
fn i_shows_the_candidates_pods_first_and_tab_and_arrows_switch_track_and_pod() {
    let mut app = pods_open(false, &["a", "b", "c"]);
    let shown =
        |app: &App| pods_shown(app).map(|(side, pod)| (side, pod.replace("-5d4f8b7c9", "")));
    assert_eq!(shown(&app), Some(("candidate", "nginx-v2-a".into())));
    key(&mut app, Key::plain(KeyCode::Down));
    key(&mut app, Key::char('j'));
    assert_eq!(shown(&app), Some(("candidate", "nginx-v2-c".into())));
    // The last pod stays selected on down; up goes back.
    key(&mut app, Key::plain(KeyCode::Down));
    assert_eq!(shown(&app), Some(("candidate", "nginx-v2-c".into())));
    key(&mut app, Key::plain(KeyCode::Up));
    assert_eq!(shown(&app), Some(("candidate", "nginx-v2-b".into())));
    key(&mut app, Key::plain(KeyCode::Tab));
    assert_eq!(shown(&app), Some(("live", "nginx-live1".into())));
    key(&mut app, Key::plain(KeyCode::Right));
    assert_eq!(shown(&app), Some(("candidate", "nginx-v2-a".into())));
    key(&mut app, Key::plain(KeyCode::Left));
    assert_eq!(shown(&app).map(|s| s.0), Some("live"));
    // Scrolling moves the containers, not the selection.
    key(&mut app, Key::plain(KeyCode::PageDown));
    assert_eq!(shown(&app), Some(("live", "nginx-live1".into())));
    // q closes the pod detail; it does not quit.
    let effects = key(&mut app, Key::char('q'));
    assert!(!effects.contains(&Effect::Quit), "{effects:?}");
    assert!(app.pods_view().is_none());
    key(&mut app, Key::char('i'));
    key(&mut app, Key::plain(KeyCode::Esc));
    assert!(app.pods_view().is_none());
    assert!(!app.quit);
    // It opens on the first failing pod: the one the engineer came for.
    let app = pods_open(false, &["ok1", "ok2", "b"]);
    assert_eq!(shown(&app), Some(("candidate", "nginx-v2-b".into())));
}

#[test]
fn the_pod_detail_follows_the_view_and_keeps_its_pod_by_name() {
    let mut app = pods_open(false, &["a", "b", "c"]);
    key(&mut app, Key::plain(KeyCode::Down));
    let name = |app: &App| pods_shown(app).map(|(_, pod)| pod.replace("nginx-v2-5d4f8b7c9-", ""));
    assert_eq!(name(&app).as_deref(), Some("b"));
    // `a` is gone and `0` came before it: the selection stays on `b`, now another row.
    app.update(Msg::View(Arc::new(nginx_pods_view(&["0", "b", "c", "d"]))));
    assert_eq!(name(&app).as_deref(), Some("b"));
    key(&mut app, Key::plain(KeyCode::Down));
    assert_eq!(name(&app).as_deref(), Some("c"));
    // `c` is gone: the selection falls to the row it was on.
    app.update(Msg::View(Arc::new(nginx_pods_view(&["0", "b", "d"]))));
    assert_eq!(name(&app).as_deref(), Some("d"));
    // No pods at all: nothing selected, and the keys still work.
    app.update(Msg::View(Arc::new(nginx_pods_view(&[]))));
    assert_eq!(name(&app), None);
    key(&mut app, Key::plain(KeyCode::Down));
    assert!(app.pods_view().is_some());
}

#[test]
fn the_pod_detail_works_read_only_and_sends_nothing() {
    let mut app = pods_open(true, &["a", "b"]);
    assert!(app.pods_view().is_some(), "status: {:?}", app.status);
    for k in [
        Key::plain(KeyCode::Down),
        Key::plain(KeyCode::Tab),
        Key::plain(KeyCode::PageDown),
        Key::char('s'),
        Key::plain(KeyCode::Enter),
    ] {
        let effects = key(&mut app, k);
        assert!(effects.is_empty(), "{k:?}: {effects:?}");
    }
    assert!(app.pods_view().is_some());
}

// ---- Issue 16: the logs pane ----

use cutover::cluster::logs::{LogBatch, LogLine, LogRequest};

/// The demo view with `shop`'s Deployments each owning a ReplicaSet and `pods` running pods
/// (`nginx-v2-rs-0`, …), plus those in `extra` (pod names of nginx-v2); `nginx-v2-rs-0` has
/// restarted `restarts` times.
fn demo_view_with_pods(pods: usize, extra: &[&str], restarts: i32) -> ClusterView {
    let objects = demo_objects_with_pods(pods, extra, restarts);
    common::view_of(&common::snapshot_of(&objects), now())
}

/// The objects of [`demo_view_with_pods`].
fn demo_objects_with_pods(pods: usize, extra: &[&str], restarts: i32) -> Vec<Value> {
    let mut objects: Vec<Value> = cutover::embedded::demo::objects();
    let mut more = Vec::new();
    for o in &mut objects {
        o["metadata"]["resourceVersion"] = "7".into();
        if o["kind"] != "Deployment" || o["metadata"]["namespace"] != "shop" {
            continue;
        }
        let n = o["spec"]["replicas"].clone();
        o["status"] = serde_json::json!({
            "observedGeneration": 1, "replicas": n, "updatedReplicas": n,
            "readyReplicas": n, "availableReplicas": n
        });
        let name = o["metadata"]["name"].as_str().unwrap().to_string();
        let labels = o["spec"]["selector"]["matchLabels"].clone();
        let image = o["spec"]["template"]["spec"]["containers"][0]["image"].clone();
        let rs = format!("{name}-rs");
        more.push(serde_json::json!({
            "kind": "ReplicaSet",
            "metadata": {"name": rs, "namespace": "shop", "labels": labels, "resourceVersion": "7",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                    "uid": format!("uid-{name}"), "controller": true}]},
            "spec": {"replicas": n, "selector": {"matchLabels": labels}}
        }));
        let names: Vec<String> = (0..pods)
            .map(|i| format!("{rs}-{i}"))
            .chain(
                extra
                    .iter()
                    .filter(|_| name == "nginx-v2")
                    .map(|p| p.to_string()),
            )
            .collect();
        for pod in names {
            let restarts = if pod == "nginx-v2-rs-0" { restarts } else { 0 };
            more.push(serde_json::json!({
                "kind": "Pod",
                "metadata": {"name": pod, "namespace": "shop", "labels": labels, "resourceVersion": "7",
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                        "uid": format!("uid-{rs}"), "controller": true}]},
                "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": image}]},
                "status": {"phase": "Running",
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [{"name": "app", "image": image, "imageID": "",
                        "ready": true, "restartCount": restarts, "state": {"running": {}}}]}
            }));
        }
    }
    objects.extend(more);
    objects
}

/// An app on the demo with pods, `shop/nginx-service` selected.
fn logs_app(read_only: bool) -> App {
    let mut app = app(read_only);
    app.update(Msg::View(Arc::new(demo_view_with_pods(2, &[], 0))));
    select(&mut app, "shop/nginx-service");
    app
}

fn opened(effects: &[Effect]) -> Vec<LogRequest> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::OpenLogs(r) => Some((**r).clone()),
            _ => None,
        })
        .collect()
}

fn log_line(pod: &str, text: &str) -> LogLine {
    LogLine {
        pod: pod.into(),
        container: "app".into(),
        at: Some(now()),
        text: text.into(),
        refusal: false,
    }
}

fn batch(stream: u64, lines: Vec<LogLine>) -> Msg {
    Msg::Logs(LogBatch {
        stream,
        containers: Vec::new(),
        lines,
    })
}

#[test]
fn v_opens_the_candidates_logs_and_tab_compare_previous_tail_and_esc_reopen_or_stop_them() {
    for read_only in [false, true] {
        let mut app = logs_app(read_only);
        let effects = key(&mut app, Key::char('v'));
        assert!(
            matches!(effects.first(), Some(Effect::CloseLogs)),
            "{effects:?}"
        );
        let requests = opened(&effects);
        assert_eq!(requests.len(), 1, "{effects:?}");
        let r = &requests[0];
        assert_eq!(r.namespace, "shop");
        assert_eq!(r.pods, vec!["nginx-v2-rs-0", "nginx-v2-rs-1"]);
        assert_eq!(
            (r.container.clone(), r.previous, r.tail_lines, r.follow),
            (None, false, Some(100), true)
        );
        let pane = app.logs().expect("the logs pane");
        assert_eq!(pane.columns[0].label, "v2", "the candidate's track first");
        assert_eq!(pane.columns[0].stream, r.stream);

        // Lines of the stream are kept; those of another stream are not.
        app.update(batch(
            r.stream,
            vec![log_line("nginx-v2-rs-0", "GET / 200 3ms")],
        ));
        app.update(batch(r.stream + 1000, vec![log_line("x", "stale")]));
        let column = &app.logs().unwrap().columns[0];
        assert_eq!(column.len(), 1);
        assert_eq!(column.window(10).next().unwrap().short_pod, "rs-0");

        // tab: the live track, a new stream, its lines cleared.
        let requests = opened(&key(&mut app, Key::plain(KeyCode::Tab)));
        assert_eq!(requests[0].pods, vec!["nginx-rs-0", "nginx-rs-1"]);
        assert_eq!(app.logs().unwrap().columns[0].label, "v1");
        assert!(app.logs().unwrap().columns[0].is_empty());

        // c: both side by side, candidate first, each its own stream.
        let requests = opened(&key(&mut app, Key::char('c')));
        assert_eq!(requests.len(), 2);
        assert_ne!(requests[0].stream, requests[1].stream);
        let labels: Vec<&str> = app
            .logs()
            .unwrap()
            .columns
            .iter()
            .map(|c| c.label.as_str())
            .collect();
        assert_eq!(labels, ["v2", "v1"]);

        // p and t: previous instances, then the last 1,000 lines.
        let requests = opened(&key(&mut app, Key::char('p')));
        assert!(requests.iter().all(|r| r.previous), "{requests:?}");
        let requests = opened(&key(&mut app, Key::char('t')));
        assert!(
            requests
                .iter()
                .all(|r| r.tail_lines == Some(1000) && r.previous)
        );

        // esc closes and stops every stream.
        let effects = key(&mut app, Key::plain(KeyCode::Esc));
        assert!(
            effects.iter().any(|e| matches!(e, Effect::CloseLogs)),
            "{effects:?}"
        );
        assert!(app.logs().is_none());
    }
}

#[test]
fn the_logs_pane_filters_follows_scrolls_and_keeps_at_most_its_limit() {
    let mut app = logs_app(false);
    let stream = opened(&key(&mut app, Key::char('v')))[0].stream;
    let lines: Vec<LogLine> = (0..300)
        .map(|i| {
            let text = if i % 100 == 99 {
                "FATAL panic: no db"
            } else {
                "GET / 200 3ms"
            };
            log_line("nginx-v2-rs-0", text)
        })
        .collect();
    app.update(batch(stream, lines));
    let column = &app.logs().unwrap().columns[0];
    assert_eq!((column.len(), column.shown_count()), (300, 300));
    assert!(
        column.window(5).last().unwrap().alarm,
        "the FATAL line is an error"
    );

    // Filter: typed into the pane's box, case-insensitive; enter keeps it.
    key(&mut app, Key::char('/'));
    for c in "fatal".chars() {
        key(&mut app, Key::char(c));
    }
    assert!(app.logs().unwrap().filtering);
    assert_eq!(app.logs().unwrap().columns[0].shown_count(), 3);
    key(&mut app, Key::plain(KeyCode::Enter));
    let pane = app.logs().unwrap();
    assert!(!pane.filtering && pane.filter.value() == "fatal");
    // The box again: esc clears the filter.
    key(&mut app, Key::char('/'));
    key(&mut app, Key::plain(KeyCode::Esc));
    assert_eq!(
        app.logs().unwrap().columns[0].shown_count(),
        300,
        "esc clears the filter"
    );

    // Scrolling up stops following; new lines then leave the view where it is.
    key(&mut app, Key::plain(KeyCode::Up));
    key(&mut app, Key::plain(KeyCode::Up));
    let pane = app.logs().unwrap();
    assert!(!pane.following);
    assert_eq!(pane.columns[0].scroll, 2);
    app.update(batch(
        stream,
        vec![log_line("nginx-v2-rs-1", "GET / 200 1ms")],
    ));
    assert_eq!(
        app.logs().unwrap().columns[0].scroll,
        3,
        "the view stays on its lines"
    );
    // end (or f) follows again: the newest line is in view.
    key(&mut app, Key::plain(KeyCode::End));
    assert!(app.logs().unwrap().following);
    assert_eq!(app.logs().unwrap().columns[0].scroll, 0);
    key(&mut app, Key::char('f'));
    assert!(!app.logs().unwrap().following);
    key(&mut app, Key::char('f'));
    assert!(app.logs().unwrap().following);

    // Memory is bounded: past the limit the oldest lines go, counted.
    let many: Vec<LogLine> = (0..cutover::console::app::MAX_LOG_LINES)
        .map(|_| log_line("nginx-v2-rs-0", "GET / 200 3ms"))
        .collect();
    app.update(batch(stream, many));
    let column = &app.logs().unwrap().columns[0];
    assert_eq!(column.len(), cutover::console::app::MAX_LOG_LINES);
    assert_eq!(column.dropped, 301);
    assert_eq!(column.shown_count(), cutover::console::app::MAX_LOG_LINES);
}

#[test]
fn a_new_or_restarted_pod_of_the_track_gets_a_stream_while_the_logs_are_open() {
    let mut app = logs_app(false);
    let stream = opened(&key(&mut app, Key::char('v')))[0].stream;
    let view = |restarts| {
        Msg::View(Arc::new(demo_view_with_pods(
            2,
            &["nginx-v2-rs-new"],
            restarts,
        )))
    };
    let effects = app.update(view(0));
    let requests = opened(&effects);
    assert_eq!(requests.len(), 1, "{effects:?}");
    assert_eq!(requests[0].pods, vec!["nginx-v2-rs-new"]);
    assert_eq!(requests[0].stream, stream, "its lines join the track's");
    assert!(!effects.iter().any(|e| matches!(e, Effect::CloseLogs)));
    // The same view again opens nothing more.
    assert!(opened(&app.update(view(0))).is_empty());
    // A container restarted: its new instance gets a stream of its own.
    let effects = app.update(view(1));
    let requests = opened(&effects);
    assert_eq!(requests.len(), 1, "{effects:?}");
    assert_eq!(requests[0].pods, vec!["nginx-v2-rs-0"]);
    assert_eq!(
        app.logs().unwrap().columns[0].pods.len(),
        3,
        "the same three pods"
    );
}

#[test]
fn brackets_choose_the_container_all_then_each_and_round() {
    let mut app = logs_app(false);
    let stream = opened(&key(&mut app, Key::char('v')))[0].stream;
    // One container: nothing to choose, and the pane says so.
    let effects = key(&mut app, Key::char(']'));
    assert!(opened(&effects).is_empty());
    assert!(app.status.as_ref().unwrap().text.contains("one container"));
    app.update(Msg::Logs(LogBatch {
        stream,
        containers: vec![("nginx-v2-rs-0".into(), vec!["app".into(), "sidecar".into()])],
        lines: Vec::new(),
    }));
    let mut chosen = Vec::new();
    for k in [']', ']', ']', '['] {
        let requests = opened(&key(&mut app, Key::char(k)));
        assert!(!requests.is_empty());
        chosen.push(requests[0].container.clone());
        assert_eq!(app.logs().unwrap().container, requests[0].container);
    }
    assert_eq!(
        chosen,
        [
            Some("app".to_string()),
            Some("sidecar".to_string()),
            None,
            Some("sidecar".to_string())
        ]
    );
}

/// The demo with 2 pods a track, nginx-v2's changed by `edit` (its objects, by name).
fn edited_view(edit: impl Fn(&mut Vec<Value>)) -> Msg {
    let mut objects = demo_objects_with_pods(2, &[], 0);
    edit(&mut objects);
    Msg::View(Arc::new(common::view_of(
        &common::snapshot_of(&objects),
        now(),
    )))
}

/// nginx-v2's pod `name`, as a copy of `nginx-v2-rs-1` waiting in `reason` (None: running).
fn v2_pod(objects: &[Value], name: &str, waiting: Option<&str>) -> Value {
    let mut pod = (objects.iter())
        .find(|o| o["metadata"]["name"] == "nginx-v2-rs-1")
        .expect("nginx-v2-rs-1")
        .clone();
    pod["metadata"]["name"] = name.into();
    if let Some(reason) = waiting {
        pod["status"]["phase"] = "Pending".into();
        pod["status"]["conditions"] = serde_json::json!([{"type": "Ready", "status": "False"}]);
        let status = &mut pod["status"]["containerStatuses"][0];
        status["ready"] = false.into();
        status["state"] = serde_json::json!({"waiting": {"reason": reason}});
    }
    pod
}

fn stops(effects: &[Effect]) -> Vec<(u64, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::StopLogs { stream, pod } => Some((*stream, pod.clone())),
            _ => None,
        })
        .collect()
}

fn texts(app: &App) -> Vec<String> {
    let column = &app.logs().expect("the logs pane").columns[0];
    column.window(100).map(|e| e.line.text.clone()).collect()
}

#[test]
fn the_logs_follow_the_tracks_pods_through_a_rollout_and_a_scale_to_zero() {
    let mut app = logs_app(false);
    let stream = opened(&key(&mut app, Key::char('v')))[0].stream;
    app.update(batch(
        stream,
        vec![log_line("nginx-v2-rs-0", "GET / 200 3ms")],
    ));
    // A rollout: rs-0 deleted, its replacement created, waiting to start.
    let rolled = |waiting: Option<&'static str>| {
        edited_view(move |objects| {
            let new = v2_pod(objects, "nginx-v2-rs-new", waiting);
            objects.retain(|o| o["metadata"]["name"] != "nginx-v2-rs-0");
            objects.push(new);
        })
    };
    let effects = app.update(rolled(Some("ContainerCreating")));
    assert_eq!(stops(&effects), [(stream, "nginx-v2-rs-0".to_string())]);
    let requests = opened(&effects);
    assert_eq!(requests.len(), 1, "{effects:?}");
    assert_eq!(requests[0].pods, ["nginx-v2-rs-new"]);
    assert_eq!(
        app.logs().unwrap().columns[0].pods,
        ["nginx-v2-rs-1", "nginx-v2-rs-new"],
        "the pods streamed now"
    );
    let gone = "pod nginx-v2-rs-0 is gone (deleted)";
    assert_eq!(texts(&app).iter().filter(|t| *t == gone).count(), 1);
    // Its lines still in flight are dropped; the same view says nothing twice.
    app.update(batch(stream, vec![log_line("nginx-v2-rs-0", "late")]));
    let effects = app.update(rolled(Some("ContainerCreating")));
    assert!(
        stops(&effects).is_empty() && opened(&effects).is_empty(),
        "{effects:?}"
    );
    assert!(!texts(&app).iter().any(|t| t == "late"));
    assert_eq!(texts(&app).iter().filter(|t| *t == gone).count(), 1);

    // The new pod's stream is refused while it waits; the same state never retries it.
    let mut refusal = log_line(
        "nginx-v2-rs-new",
        "shop/nginx-v2-rs-new: container \"app\" in pod \"nginx-v2-rs-new\" is waiting to start: ContainerCreating",
    );
    (refusal.refusal, refusal.at) = (true, None);
    app.update(batch(stream, vec![refusal]));
    assert!(opened(&app.update(rolled(Some("ContainerCreating")))).is_empty());
    // Running now: one stream again, once.
    let requests = opened(&app.update(rolled(None)));
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].pods, ["nginx-v2-rs-new"]);
    assert!(opened(&app.update(rolled(None))).is_empty());
    let header = screen(&app).join("\n");
    assert!(
        header.contains("v2 · 2 pods · container — · following"),
        "{header}"
    );

    // Scaled to 0: every pod said gone, and the header says so instead of following.
    let effects = app.update(edited_view(|objects| {
        objects.retain(|o| {
            !(o["kind"] == "Pod"
                && o["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("nginx-v2-"))
        });
        for o in objects.iter_mut() {
            if o["kind"] == "Deployment" && o["metadata"]["name"] == "nginx-v2" {
                o["spec"]["replicas"] = 0.into();
                o["status"] = serde_json::json!({"observedGeneration": 1, "replicas": 0});
            }
        }
    }));
    assert_eq!(stops(&effects).len(), 2, "{effects:?}");
    assert!(app.logs().unwrap().columns[0].pods.is_empty());
    let shown = screen(&app).join("\n");
    assert!(shown.contains("v2 · no pods: v2 is scaled to 0"), "{shown}");
    assert!(!shown.contains("following"), "{shown}");
}

#[test]
fn f_off_holds_the_view_where_it_is_and_counts_the_new_lines_below() {
    let mut app = logs_app(false);
    let stream = opened(&key(&mut app, Key::char('v')))[0].stream;
    let lines = |n: usize| -> Vec<LogLine> {
        (0..n)
            .map(|i| log_line("nginx-v2-rs-0", &format!("GET /{i} 200 3ms")))
            .collect()
    };
    app.update(batch(stream, lines(50)));
    key(&mut app, Key::char('f'));
    let pane = app.logs().unwrap();
    assert!(!pane.following);
    let in_view = |app: &App| -> Vec<String> {
        let column = &app.logs().unwrap().columns[0];
        column.window(20).map(|e| e.line.text.clone()).collect()
    };
    let before = in_view(&app);
    app.update(batch(stream, lines(12)));
    let column = &app.logs().unwrap().columns[0];
    assert_eq!((column.scroll, column.arrived), (12, 12));
    assert_eq!(in_view(&app), before, "the view holds");
    let shown = screen(&app).join("\n");
    assert!(shown.contains("paused"), "{shown}");
    assert!(shown.contains("12 new lines below"), "{shown}");
    // f again follows: the newest line in view, nothing counted.
    key(&mut app, Key::char('f'));
    let column = &app.logs().unwrap().columns[0];
    assert_eq!((column.scroll, column.arrived), (0, 0));
    assert!(!screen(&app).join("\n").contains("new lines below"));
}

#[test]
fn previous_instances_are_finished_logs_not_followed_nor_appended() {
    let mut app = logs_app(false);
    key(&mut app, Key::char('v'));
    let requests = opened(&key(&mut app, Key::char('p')));
    assert!(
        requests.iter().all(|r| r.previous && !r.follow),
        "{requests:?}"
    );
    let shown = screen(&app).join("\n");
    assert!(shown.contains("previous instances (finished)"), "{shown}");
    assert!(!shown.contains("following"), "{shown}");
    // A later crash instance is not appended unless asked for.
    let restarted = Msg::View(Arc::new(demo_view_with_pods(2, &[], 1)));
    assert!(opened(&app.update(restarted)).is_empty());
    // p again: the current logs (followed); p once more re-reads the previous instances.
    let requests = opened(&key(&mut app, Key::char('p')));
    assert!(requests.iter().all(|r| !r.previous && r.follow));
    let requests = opened(&key(&mut app, Key::char('p')));
    assert!(requests.iter().all(|r| r.previous), "{requests:?}");
}

#[test]
fn lines_of_several_pods_are_kept_in_time_order_and_untimed_ones_where_they_arrived() {
    let mut app = logs_app(false);
    let stream = opened(&key(&mut app, Key::char('v')))[0].stream;
    let at = |pod: &str, s: i64, text: &str| LogLine {
        at: Some(now() + jiff::SignedDuration::from_secs(s)),
        ..log_line(pod, text)
    };
    app.update(batch(
        stream,
        vec![at("nginx-v2-rs-0", 1, "a1"), at("nginx-v2-rs-0", 5, "a5")],
    ));
    let mut untimed = log_line("nginx-v2-rs-1", "untimed");
    untimed.at = None;
    app.update(batch(stream, vec![untimed]));
    app.update(batch(
        stream,
        vec![at("nginx-v2-rs-1", 6, "b6"), at("nginx-v2-rs-1", 7, "b7")],
    ));
    // rs-1's first batch: older lines than rs-0's go before them.
    app.update(batch(
        stream,
        vec![at("nginx-v2-rs-1", 0, "b0"), at("nginx-v2-rs-1", 3, "b3")],
    ));
    assert_eq!(texts(&app), ["b0", "a1", "b3", "a5", "untimed", "b6", "b7"]);
    // A filter and a held view keep their lines through an insertion.
    key(&mut app, Key::char('f'));
    app.update(batch(stream, vec![at("nginx-v2-rs-0", 2, "a2")]));
    assert_eq!(texts(&app)[..3], ["b0", "a1", "a2"]);
    assert_eq!(
        app.logs().unwrap().columns[0].scroll,
        0,
        "a2 is above the view's bottom"
    );
}

#[test]
fn a_lines_own_time_is_dropped_only_when_it_is_the_instant_shown() {
    let mut app = logs_app(false);
    let stream = opened(&key(&mut app, Key::char('v')))[0].stream;
    app.update(batch(
        stream,
        vec![
            log_line("nginx-v2-rs-0", "2026-11-23T03:00:00Z GET / 200 3ms"),
            log_line(
                "nginx-v2-rs-0",
                "2026-11-23T02:59:00Z replayed from a queue",
            ),
            log_line("nginx-v2-rs-0", "2026-11-23 not a time"),
        ],
    ));
    assert_eq!(
        texts(&app),
        [
            "GET / 200 3ms",
            "2026-11-23T02:59:00Z replayed from a queue",
            "2026-11-23 not a time"
        ]
    );
    let shown = screen(&app).join("\n");
    assert!(shown.contains("rs-0 03:00:00 GET / 200 3ms"), "{shown}");
}

#[test]
fn esc_clears_a_kept_filter_first_then_closes_and_each_frame_shows_which() {
    let mut app = logs_app(false);
    let stream = opened(&key(&mut app, Key::char('v')))[0].stream;
    app.update(batch(
        stream,
        vec![
            log_line("nginx-v2-rs-0", "FATAL x"),
            log_line("nginx-v2-rs-0", "GET / 200"),
        ],
    ));
    key(&mut app, Key::char('/'));
    for c in "fatal".chars() {
        key(&mut app, Key::char(c));
    }
    key(&mut app, Key::plain(KeyCode::Enter));
    assert_eq!(app.logs().unwrap().columns[0].shown_count(), 1);
    // The first Esc clears the filter: the pane stays, and the frame shows it.
    let effects = key(&mut app, Key::plain(KeyCode::Esc));
    assert!(effects.is_empty(), "{effects:?}");
    let pane = app.logs().expect("the pane stays open");
    assert_eq!(
        (pane.filter.value(), pane.columns[0].shown_count()),
        ("", 2)
    );
    let frame = screen(&app).join("\n");
    assert!(
        frame.contains("Logs — shop/nginx-service") && !frame.contains("filter 'fatal'"),
        "{frame}"
    );
    // The second closes: the very next frame is the main screen.
    let effects = key(&mut app, Key::plain(KeyCode::Esc));
    assert!(effects.iter().any(|e| matches!(e, Effect::CloseLogs)));
    assert!(app.logs().is_none());
    assert!(!screen(&app).join("\n").contains("Logs — "));
}
