//! End to end: the real `cutover` binary in a tmux pane, driven by keys, checked by reading the
//! pane, with kubectl changing the cluster from outside.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;
#[path = "common/picture.rs"]
mod picture;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::tmux::Tmux;

/// Quits the console with `q` and waits for the shell to say it exited 0.
fn quit(tmux: &Tmux) {
    tmux.keys(&["q"]);
    tmux.wait("cutover to exit", |s| s.contains("cutover exited with 0"));
}

/// Closes the logs pane with esc and waits until it is gone from the screen.
fn close_logs(tmux: &Tmux) {
    tmux.keys(&["Escape"]);
    tmux.wait("the logs pane closed", |s| !s.contains("Logs —"));
}

fn kubectl(kubeconfig: &Path, cache: &Path, args: &[&str]) -> String {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The line of the screen that mentions `needle`, for focused assertions.
fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{screen}"))
}

/// `cutover demo` running in tmux at 120×40, its kubeconfig and kubectl cache in a
/// directory of its own (which also holds its config and cache homes).
struct Demo {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    cache: PathBuf,
    tmux: Tmux,
}

impl Demo {
    fn start() -> Demo {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig: PathBuf = dir.path().join("demo.kubeconfig");
        let cache = dir.path().join("cache");
        let bin = env!("CARGO_BIN_EXE_cutover");
        let tmux = Tmux::start(
            &format!(
                "{bin} demo --write-kubeconfig {}; echo cutover exited with $?; sleep 60",
                kubeconfig.display()
            ),
            120,
            40,
            &[("XDG_CACHE_HOME", &cache), ("XDG_CONFIG_HOME", dir.path())],
        );
        Demo {
            dir,
            kubeconfig,
            cache,
            tmux,
        }
    }
}

#[test]
fn demo_console_shows_releases_follows_kubectl_and_restores_the_terminal() {
    let Demo {
        // Kept to the end of the test: the directory goes with it.
        dir: _dir,
        kubeconfig,
        cache,
        tmux,
    } = Demo::start();
    // Every demo release is listed.
    tmux.wait_for_text("cutover");
    let screen = tmux.wait("the six demo releases", |s| {
        [
            "shop/nginx",
            "web/demo",
            "api/route1",
            "grey/frontend",
            "checkout/cart",
            "checkout/paym",
        ]
        .iter()
        .all(|r| s.contains(r))
    });
    assert!(screen.contains("LIVE"), "{screen}");
    assert_eq!(
        tmux.pane_value("#{alternate_on}"),
        "1",
        "the console uses the alternate screen"
    );

    // Walk the list: each release's blue | green detail appears beside it.
    tmux.keys(&["g"]);
    let mut seen: Vec<String> = Vec::new();
    for i in 0..6 {
        let screen = tmux.wait("a new release selected", |s| {
            s.lines()
                .any(|l| l.starts_with("│▶") && !seen.iter().any(|id| l.contains(id.as_str())))
        });
        let row = line_with(&screen, "│▶");
        let id = row
            .split_whitespace()
            .find(|w| w.contains('/'))
            .unwrap_or_else(|| panic!("no release id in {row:?}"))
            .trim_end_matches('…')
            .to_string();
        assert!(
            screen.lines().filter(|l| l.contains(&id)).count() >= 2
                && screen.contains("LIVE")
                && screen.contains("CANDIDATE"),
            "release {i} ({id}) has no detail:\n{screen}"
        );
        seen.push(id);
        tmux.keys(&["j"]);
    }
    assert!(
        seen.iter().any(|id| id.starts_with("shop/nginx")),
        "{seen:?}"
    );

    // Select the selector switch and wait for its ready pods.
    tmux.keys(&["/"]);
    tmux.type_text("nginx-service");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait("shop's tracks with 3 ready pods each", |s| {
        s.contains("nginx-v2") && s.matches("3 ready").count() >= 2
    });
    assert!(
        screen.contains("nginx:1.25") && screen.contains("nginx:1.27"),
        "{screen}"
    );

    // Someone scales the candidate with kubectl; the console shows it.
    kubectl(
        &kubeconfig,
        &cache,
        &["-n", "shop", "scale", "deployment/nginx-v2", "--replicas=5"],
    );
    tmux.wait("the candidate at 5/5", |s| s.contains("5/5"));

    // q leaves, and the terminal is as it was: main screen, cursor shown, the shell's output
    // below the command line as before.
    tmux.keys(&["q"]);
    let screen = tmux.wait("cutover to exit", |s| s.contains("cutover exited with 0"));
    assert!(
        !screen.contains("LIVE"),
        "the console's screen is gone:\n{screen}"
    );
    assert_eq!(
        tmux.pane_value("#{alternate_on}"),
        "0",
        "left the alternate screen"
    );
    assert_eq!(
        tmux.pane_value("#{cursor_flag}"),
        "1",
        "the cursor is visible again"
    );
}

/// One VHS command as tmux keys; None for settings and comments.
enum TapeStep {
    Keys(Vec<String>),
    Text(String),
    Sleep(Duration),
    /// A `# expect: TEXT` comment: the screen must come to show TEXT.
    Expect(String),
}

fn tape_steps(tape: &str) -> Vec<TapeStep> {
    let mut steps = Vec::new();
    for (n, line) in tape.lines().enumerate() {
        let line = line.trim();
        if let Some(text) = line.strip_prefix("# expect:") {
            steps.push(TapeStep::Expect(text.trim().to_string()));
            continue;
        }
        let (command, arg) = line.split_once(' ').unwrap_or((line, ""));
        let key = match command {
            "" | "Output" | "Set" | "Hide" | "Show" | "Require" => continue,
            c if c.starts_with('#') => continue,
            "Type" => {
                let text = arg.trim().trim_matches('"');
                steps.push(TapeStep::Text(text.to_string()));
                continue;
            }
            "Sleep" => {
                let secs: f64 = arg
                    .trim()
                    .trim_end_matches('s')
                    .parse()
                    .unwrap_or_else(|e| panic!("demo.tape line {}: bad Sleep ({e})", n + 1));
                steps.push(TapeStep::Sleep(Duration::from_secs_f64(secs)));
                continue;
            }
            "Enter" => "Enter",
            "Escape" => "Escape",
            "Tab" => "Tab",
            "Backspace" => "BSpace",
            "Up" | "Down" | "Left" | "Right" | "Space" => command,
            other => panic!("demo.tape line {}: unknown command {other:?}", n + 1),
        };
        let count: usize = if arg.trim().is_empty() {
            1
        } else {
            arg.trim()
                .parse()
                .unwrap_or_else(|e| panic!("demo.tape line {}: bad count ({e})", n + 1))
        };
        steps.push(TapeStep::Keys(vec![key.to_string(); count]));
    }
    steps
}

/// demo.tape, replayed in a shell in tmux against the built binary: every command it types
/// must still work, each `# expect:` must come on screen, and the console must end cleanly.
/// With `CUTOVER_PICTURE=PATH`, the screens of the replay are written to PATH as the README's
/// animated SVG, each shown as long as the tape sleeps on it.
#[test]
fn demo_tape_replays() {
    let tape = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/demo.tape"))
        .expect("read demo.tape");
    let dir = tempfile::tempdir().expect("tempdir");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_cutover"))
        .parent()
        .expect("binary directory")
        .to_path_buf();
    let cache = dir.path().join("cache");
    let (cols, rows) = (140, 42);
    // tmux takes PATH from its client, not from -e: the shell is started with it.
    let tmux = Tmux::start(
        &format!("PS1='$ ' PATH='{}':\"$PATH\" exec sh", bin_dir.display()),
        cols,
        rows,
        &[("XDG_CACHE_HOME", &cache), ("XDG_CONFIG_HOME", dir.path())],
    );
    let picture = std::env::var_os("CUTOVER_PICTURE");
    let mut frames: Vec<(String, Duration)> = Vec::new();
    let mut expects = 0;
    for step in tape_steps(&tape) {
        match step {
            TapeStep::Text(text) => tmux.type_text(&text),
            TapeStep::Keys(keys) => {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                tmux.keys(&keys);
            }
            TapeStep::Expect(text) => {
                tmux.wait_for_text(&text);
                expects += 1;
            }
            TapeStep::Sleep(d) => {
                if picture.is_some() {
                    frames.push((tmux.screen_with_colours(), d));
                }
                // Played as VHS plays it: the demo settles as it would on the recording.
                std::thread::sleep(d);
            }
        }
    }
    assert!(
        expects >= 20,
        "the tape checks its story ({expects} expects)"
    );
    tmux.type_text("echo tape ended with $?");
    tmux.keys(&["Enter"]);
    tmux.wait("the shell back after the tape", |s| {
        s.contains("tape ended with 0")
    });
    assert_eq!(tmux.pane_value("#{alternate_on}"), "0");
    if let Some(path) = picture {
        let svg = picture::animated_svg(&frames, cols, rows);
        std::fs::write(&path, svg).expect("write the picture");
    }
}

/// The on-call path: switch the selector release with `s`, see green live, check with kubectl,
/// roll back with `r`, and see blue live again.
#[test]
fn switch_and_rollback_from_the_keyboard() {
    let Demo {
        // Kept to the end of the test: the directory goes with it.
        dir: _dir,
        kubeconfig,
        cache,
        tmux,
    } = Demo::start();
    let selector = || {
        kubectl(
            &kubeconfig,
            &cache,
            &[
                "-n",
                "shop",
                "get",
                "svc",
                "nginx-service",
                "-o",
                "jsonpath={.spec.selector.version}",
            ],
        )
    };
    tmux.wait_for_text("LIVE");
    tmux.keys(&["/"]);
    tmux.type_text("nginx-service");
    tmux.keys(&["Enter"]);
    tmux.wait("the selector release with both tracks ready", |s| {
        s.contains("◀ LIVE 100% · v1") && s.matches("3 ready").count() >= 2
    });
    assert_eq!(selector(), "v1");

    tmux.keys(&["s"]);
    tmux.wait_for_text("Confirm switch");
    tmux.keys(&["y"]);
    tmux.wait("green live", |s| s.contains("◀ LIVE 100% · v2"));
    assert_eq!(selector(), "v2", "kubectl sees the switch");

    tmux.keys(&["r"]);
    tmux.wait_for_text("Confirm rollback");
    tmux.keys(&["y"]);
    tmux.wait("blue live again", |s| s.contains("◀ LIVE 100% · v1"));
    assert_eq!(selector(), "v1", "kubectl sees the rollback");

    quit(&tmux);
}

/// Issue 13: the HTTPRoute canary in the console. `checkout/cart` shows its pattern and
/// route, the 90/10 split and the `X-Canary: always` header rule; four presses of the slider
/// key raise the pending weight to 30, enter and `y` apply it, and kubectl reads the route's
/// split rule at exactly 70/30 (the route's scale of 100 kept), the header rule untouched.
#[test]
fn an_httproute_canary_is_shown_and_its_weight_moved_from_the_keyboard() {
    let Demo {
        // Kept to the end of the test: the directory goes with it.
        dir: _dir,
        kubeconfig,
        cache,
        tmux,
    } = Demo::start();
    let route = |path: &str| {
        kubectl(
            &kubeconfig,
            &cache,
            &[
                "-n",
                "checkout",
                "get",
                "httproute",
                "cart",
                "-o",
                &format!("jsonpath={path}"),
            ],
        )
    };
    let split =
        || route("{.spec.rules[1].backendRefs[*].name}={.spec.rules[1].backendRefs[*].weight}");
    let header_rule = || route("{.spec.rules[0]}");
    tmux.wait_for_text("LIVE");
    tmux.keys(&["/"]);
    tmux.type_text("checkout/cart");
    tmux.keys(&["Enter"]);
    // The frame may be caught half drawn: wait until the header rule is on it too.
    let screen = tmux.wait("the cart canary at 90/10 with its header rule", |s| {
        s.contains("◀ LIVE 90% · v1")
            && s.contains("CANDIDATE 10% · v2")
            && s.contains("X-Canary=always")
    });
    let title = line_with(&screen, "httproute-canary");
    assert!(
        title.contains("checkout/cart") && title.contains("HTTPRoute cart"),
        "{screen}"
    );
    assert!(
        line_with(&screen, "X-Canary=always").contains("v2"),
        "{screen}"
    );
    assert_eq!(split(), "cart-v1 cart-v2=90 10");
    let rule_before = header_rule();

    // The slider: four steps of 5 from the applied 10 %, pending until confirmed.
    tmux.keys(&["l", "l", "l", "l"]);
    tmux.wait_for_text("pending 30%");
    assert_eq!(
        split(),
        "cart-v1 cart-v2=90 10",
        "nothing is written while pending"
    );
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for_text("Confirm weight");
    assert!(
        screen.contains("cart-v1 90 → 70, cart-v2 10 → 30"),
        "{screen}"
    );
    // A release whose plan reads otherwise after a change while the dialog was open (the
    // demo's pods settle in its first seconds, which can move the risk) is asked again: say
    // yes to the same weights once more.
    let applied = |s: &str| s.contains("◀ LIVE 70% · v1") && s.contains("CANDIDATE 30% · v2");
    for _ in 0..3 {
        tmux.keys(&["y"]);
        let screen = tmux.wait(
            "the split at 70/30 on screen, or the plan asked again",
            |s| applied(s) || s.contains("plan re-made"),
        );
        if applied(&screen) {
            break;
        }
        assert!(
            screen.contains("cart-v1 90 → 70, cart-v2 10 → 30"),
            "{screen}"
        );
    }
    tmux.wait("the split at 70/30 on screen", applied);
    assert_eq!(split(), "cart-v1 cart-v2=70 30", "kubectl sees the weights");
    assert_eq!(header_rule(), rule_before, "the header rule is untouched");

    quit(&tmux);
}

/// Issue 14 point 5: `:ctx` inside the demo console switches from the admin's context to the
/// team's (shop and web only, said in the header) and back, without restarting.
#[test]
fn colon_ctx_switches_from_the_admin_to_the_team_and_back() {
    let Demo {
        // Kept to the end of the test: the directory goes with it.
        dir: _dir,
        tmux,
        ..
    } = Demo::start();
    let header = |s: &str| s.lines().next().unwrap_or("").to_string();
    tmux.wait("the admin's view of every namespace", |s| {
        header(s).contains("all namespaces") && s.contains("api/") && s.contains("● live")
    });
    tmux.keys(&[":"]);
    tmux.type_text("ctx team");
    tmux.wait_for_text("› cutover-demo-team");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait("the team's view of shop and web", |s| {
        header(s).contains("ns shop, web") && s.contains("web/") && s.contains("● live")
    });
    assert!(header(&screen).contains("cutover-demo-team"), "{screen}");
    assert!(header(&screen).contains("as cutover-team"), "{screen}");
    assert!(!screen.contains("api/"), "no other namespace: {screen}");

    tmux.keys(&[":"]);
    tmux.type_text("ctx");
    tmux.wait_for_text("› cutover-demo");
    tmux.keys(&["Enter"]);
    tmux.wait("the admin's view again", |s| {
        header(s).contains("all namespaces") && s.contains("api/") && s.contains("as cutover-admin")
    });
    quit(&tmux);
}

/// Issue 16: the logs pane on a crash-looping candidate. kubectl makes the demo's staged
/// `nginx-v2` crash-loop (`kubectl set image … app=nginx:1.27-crash`); `v` opens the candidate's logs and `p` its pods' previous
/// instances, whose last line is the fatal one. Prints the time from `v` to the first line on
/// screen, and from `p` to the fatal line.
#[test]
fn the_logs_pane_shows_a_crash_looping_candidates_fatal_line() {
    let Demo {
        // Kept to the end of the test: the directory goes with it.
        dir: _dir,
        kubeconfig,
        cache,
        tmux,
    } = Demo::start();
    tmux.wait_for_text("LIVE");
    kubectl(
        &kubeconfig,
        &cache,
        &[
            "set",
            "image",
            "deploy/nginx-v2",
            "app=nginx:1.27-crash",
            "-n",
            "shop",
        ],
    );
    tmux.keys(&["/"]);
    tmux.type_text("nginx-service");
    tmux.keys(&["Enter"]);
    // A pod of the new ReplicaSet has crashed once, so it has a previous instance.
    common::kubectl::wait_for("a restarted nginx-v2 pod", Duration::from_secs(60), || {
        let restarts = kubectl(
            &kubeconfig,
            &cache,
            &[
                "-n",
                "shop",
                "get",
                "pods",
                "-l",
                "version=v2",
                "-o",
                "jsonpath={.items[*].status.containerStatuses[*].restartCount}",
            ],
        );
        restarts.split_whitespace().any(|n| n != "0").then_some(())
    });

    let pressed = std::time::Instant::now();
    tmux.keys(&["v"]);
    let screen = tmux.wait("a log line of v2", |s| {
        s.contains("Logs — shop/nginx-service") && s.lines().any(|l| l.contains(" GET /"))
    });
    let first_line = pressed.elapsed();
    assert!(
        line_with(&screen, "Logs —").contains("shop/nginx-service"),
        "{screen}"
    );
    assert!(
        screen.contains("v2 · "),
        "the candidate's track first:\n{screen}"
    );

    let pressed = std::time::Instant::now();
    tmux.keys(&["p"]);
    // The header says the previous instances are read, and the crashed one's fatal line is
    // among them (the healthy pods' refusals say they have none).
    tmux.wait("the fatal line of a previous instance", |s| {
        let previous = s
            .lines()
            .any(|l| l.contains("v2 · ") && l.contains("· previous instances (finished) ·"));
        previous && s.contains("FATAL panic:")
    });
    let fatal = pressed.elapsed();
    // Each pod is read by a task of its own: the refusals may come after the fatal line.
    let screen = tmux.wait("the healthy pods' refusals", |s| {
        s.contains("previous terminated container")
    });
    // The demo's lines carry their own time: shown once, as the pane's clock.
    let fatal_line = line_with(&screen, "FATAL panic:");
    assert!(!fatal_line.contains("Z FATAL"), "{screen}");
    eprintln!(
        "logs pane: v → first line on screen {} ms; p → FATAL line {} ms",
        first_line.as_millis(),
        fatal.as_millis()
    );

    close_logs(&tmux);
    quit(&tmux);
}

/// The logs pane follows the candidate's pods through a rollout (the old pods said gone, the
/// new ones streamed once they run, though first refused while waiting to start) and says a
/// track scaled to 0 has no pods instead of following.
#[test]
fn the_logs_pane_follows_a_rollout_and_a_scale_to_zero() {
    let Demo {
        dir: _dir,
        kubeconfig,
        cache,
        tmux,
    } = Demo::start();
    let kubectl = |args: &[&str]| kubectl(&kubeconfig, &cache, args);
    tmux.wait_for_text("LIVE");
    tmux.keys(&["/"]);
    tmux.type_text("nginx-service");
    tmux.keys(&["Enter"]);
    tmux.keys(&["v"]);
    tmux.wait("a log line of v2", |s| {
        s.contains("v2 · ") && s.contains("following") && s.contains(" GET /")
    });
    kubectl(&[
        "-n",
        "shop",
        "set",
        "image",
        "deploy/nginx-v2",
        "app=nginx:1.27.1",
    ]);
    let screen = tmux.wait("the new pods streamed, the old ones gone", |s| {
        s.contains("is gone (deleted)") && s.contains("starting nginx:1.27.1")
    });
    let header = line_with(&screen, "v2 · ");
    assert!(header.contains("following"), "{screen}");
    // Once the rollout is done, the header counts the pods streamed now: the new ones.
    kubectl(&[
        "-n",
        "shop",
        "rollout",
        "status",
        "deploy/nginx-v2",
        "--timeout=60s",
    ]);
    let replicas = kubectl(&[
        "-n",
        "shop",
        "get",
        "deploy/nginx-v2",
        "-o",
        "jsonpath={.spec.replicas}",
    ]);
    let counted = format!("v2 · {} pods · ", replicas.trim());
    let screen = tmux.wait("the header to count the new pods", |s| s.contains(&counted));
    assert!(
        line_with(&screen, "v2 · ").contains("following"),
        "{screen}"
    );
    kubectl(&["-n", "shop", "scale", "deploy/nginx-v2", "--replicas=0"]);
    let screen = tmux.wait("v2 scaled to 0", |s| {
        s.contains("v2 · no pods: v2 is scaled to 0")
    });
    assert!(
        !line_with(&screen, "v2 · ").contains("following"),
        "{screen}"
    );
    close_logs(&tmux);
    quit(&tmux);
}

/// The demo console reads golden signals from the demo's Prometheus with no setup: once the
/// canary's candidate crash-loops, its error ratio is drawn beside live's and approve is risky
/// with the figures, in the stage line and in the dialog, which asks for the typed name.
#[test]
fn the_demo_draws_golden_signals_and_a_crashing_candidate_makes_approve_risky() {
    let Demo {
        dir: _dir,
        kubeconfig,
        cache,
        tmux,
    } = Demo::start();
    // Keys sent before the console has the terminal in raw mode would reach it cooked.
    tmux.wait_for_text("LIVE");
    tmux.keys(&["/"]);
    tmux.type_text("api/route1");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait("the signals of api/route1", |s| {
        s.contains("api/route1  nginx-canary") && s.contains("errors") && s.contains("p99")
    });
    assert!(screen.contains("last 10 min"), "{screen}");
    assert!(!screen.contains("approve is risky"), "{screen}");
    kubectl(
        &kubeconfig,
        &cache,
        &[
            "set",
            "image",
            "deploy/http-server-v2",
            "app=hashicorp/http-echo:1.1-crash",
            "-n",
            "api",
        ],
    );
    // The next poll (every 30 s step) sees the crashing pods' errors.
    let screen = tmux.wait_within(
        "approve risky on the signals",
        Duration::from_secs(75),
        |s| s.contains("approve is risky") && s.contains("of requests against"),
    );
    let errors = line_with(&screen, "errors");
    assert!(errors.contains("pts"), "the difference in points: {errors}");
    tmux.keys(&["a"]);
    let dialog = tmux.wait_for_text("Type route1");
    assert!(dialog.contains("v2 fails"), "{dialog}");
    // Closed before `q` is sent: an esc and a key read together are alt+key, not esc.
    tmux.keys(&["Escape"]);
    tmux.wait("the dialog closed", |s| !s.contains("Type route1"));
    quit(&tmux);
}
