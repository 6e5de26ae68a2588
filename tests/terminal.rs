//! Issue 15, "Terminal": the real console in tmux against an embedded cluster, ended by
//! SIGHUP, SIGTERM and SIGQUIT while idle, while a confirm dialog is open and while a plan is
//! between its steps; a panic injected in a test build; and a storm of resizes. After each
//! ending the process is gone within a second, the terminal is back on the main screen with
//! its cursor, and the cluster is in a state its release record describes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::kubectl::Kube;
use common::tmux::Tmux;
use cutover::embedded::Config;

const SIGNALS: [&str; 3] = ["HUP", "TERM", "QUIT"];

/// The console in tmux at 120×40 against `kube`, in a shell that says how it exited; its
/// config and cache homes (where the log goes) in `home`.
fn console(kube: &Kube, home: &Path, env: &[(&str, &Path)]) -> Tmux {
    let bin = env!("CARGO_BIN_EXE_cutover");
    let mut all: Vec<(&str, &Path)> = vec![
        ("XDG_CACHE_HOME", home),
        ("XDG_CONFIG_HOME", home),
        ("KUBECONFIG", &kube.kubeconfig),
    ];
    all.extend_from_slice(env);
    let tmux = Tmux::start(
        &format!("{bin} -A; echo cutover exited with $?; sleep 60"),
        120,
        40,
        &all,
    );
    tmux.wait("the demo releases", |s| {
        s.contains("shop/nginx") && s.contains("● live")
    });
    assert_eq!(tmux.pane_value("#{alternate_on}"), "1");
    tmux
}

/// The pid of the cutover process: the child of the pane's shell.
fn cutover_pid(tmux: &Tmux) -> u32 {
    let shell = tmux.pane_value("#{pane_pid}");
    let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
        .expect("the pane's shell's children");
    let pid: u32 = children
        .split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("the pane's shell {shell} has no child"))
        .parse()
        .expect("a pid");
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).expect("the child's executable");
    assert!(exe.ends_with("cutover"), "{exe:?}");
    pid
}

/// Sends `signal` to `pid` and checks the process is gone within a second, the shell is
/// back on the main screen with the cursor shown, and nothing of the console is left on it.
fn end_with(tmux: &Tmux, pid: u32, signal: &str) {
    let sent = Instant::now();
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid}");
    let proc = PathBuf::from(format!("/proc/{pid}"));
    while proc.exists() && sent.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = sent.elapsed();
    assert!(
        !proc.exists(),
        "SIG{signal}: cutover {pid} is still running after {took:?}"
    );
    println!("FIGURE SIG{signal}: cutover gone in {took:?}");
    let screen = tmux.wait("the shell back", |s| s.contains("cutover exited with"));
    let number = match signal {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "TERM" => 15,
        other => unreachable!("no test sends SIG{other}"),
    };
    assert!(
        screen.contains(&format!("cutover exited with {}", 128 + number)),
        "SIG{signal}: the shell's status is 128 + {number}:\n{screen}"
    );
    assert!(
        !screen.contains("● live"),
        "the console's screen is gone:\n{screen}"
    );
    assert_eq!(
        tmux.pane_value("#{alternate_on}"),
        "0",
        "SIG{signal}: main screen"
    );
    assert_eq!(
        tmux.pane_value("#{cursor_flag}"),
        "1",
        "SIG{signal}: cursor shown"
    );
}

/// Selects shop/nginx-service in the console.
fn select_shop(tmux: &Tmux) {
    tmux.keys(&["/"]);
    tmux.type_text("nginx-service");
    tmux.keys(&["Enter"]);
    tmux.wait("shop's release selected", |s| s.contains("nginx-v2"));
}

/// shop/nginx-service's selector version and its release record's stage ("" when none).
fn shop_state(kube: &Kube) -> (String, String) {
    let svc = kube.json(&["-n", "shop", "get", "svc", "nginx-service"]);
    let version = svc["spec"]["selector"]["version"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let record = svc["metadata"]["annotations"]["cutover.dev/release"]
        .as_str()
        .map(|r| serde_json::from_str::<serde_json::Value>(r).expect("a record of JSON"));
    let stage = record.map_or(String::new(), |r| {
        r["stage"].as_str().unwrap_or("").to_string()
    });
    (version, stage)
}

/// What `cutover status` makes of shop/nginx-service: its stage and warnings.
fn shop_status(kube: &Kube) -> (String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["status", "shop/nginx-service", "-o", "json", "--kubeconfig"])
        .arg(&kube.kubeconfig)
        .env("CUTOVER_LOG", "off")
        .output()
        .expect("run cutover status");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let r = &json["releases"][0];
    (
        r["stage"].as_str().unwrap_or("").to_string(),
        r["warnings"].to_string(),
    )
}

#[test]
fn signals_while_idle_end_the_console_and_restore_the_terminal() {
    let kube = common::kubectl::start_with(Config::demo(), true);
    let home = tempfile::tempdir().expect("tempdir");
    for signal in SIGNALS {
        let tmux = console(&kube, home.path(), &[]);
        end_with(&tmux, cutover_pid(&tmux), signal);
    }
}

#[test]
fn signals_while_a_dialog_is_open_end_the_console_and_change_nothing() {
    let kube = common::kubectl::start_with(Config::demo(), true);
    let home = tempfile::tempdir().expect("tempdir");
    for signal in SIGNALS {
        let tmux = console(&kube, home.path(), &[]);
        select_shop(&tmux);
        tmux.wait("both tracks ready", |s| s.matches("3 ready").count() >= 2);
        tmux.keys(&["s"]);
        tmux.wait_for_text("Confirm switch");
        end_with(&tmux, cutover_pid(&tmux), signal);
        assert_eq!(
            shop_state(&kube),
            ("v1".to_string(), String::new()),
            "SIG{signal}: the unconfirmed switch was not sent"
        );
    }
}

/// A Deployment's `spec.replicas` and `status.readyReplicas` in shop, as kubectl reads them.
fn replicas(kube: &Kube, name: &str) -> (String, String) {
    let out = kube.ok(&[
        "-n",
        "shop",
        "get",
        "deploy",
        name,
        "-o",
        "jsonpath={.spec.replicas}/{.status.readyReplicas}",
    ]);
    let (spec, ready) = out.split_once('/').unwrap_or((&out, ""));
    (spec.to_string(), ready.to_string())
}

fn wait_replicas(kube: &Kube, name: &str, spec: &str, ready: &str) {
    common::kubectl::wait_for(
        &format!("shop/{name} at {spec} replicas, {ready} ready"),
        Duration::from_secs(30),
        || (replicas(kube, name) == (spec.to_string(), ready.to_string())).then_some(()),
    );
}

/// Runs `cutover ARGS --yes --force` against `kube` to the end; fails the test unless it
/// succeeds.
fn cutover_cli(kube: &Kube, args: &[&str]) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .args(["--yes", "--force", "--kubeconfig"])
        .arg(&kube.kubeconfig)
        .env("CUTOVER_LOG", "off")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run cutover");
    assert!(
        out.status.success(),
        "cutover {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Retiring v1 of shop/nginx-service, switched to a v2 scaled down to 1, is three steps:
/// scale nginx-v2 to 3, wait until its 3 pods are ready (1.5 s in the demo's cluster), scale
/// nginx to 0 with the record. A signal during the wait ends the console there: the record
/// still says switched, nginx still runs (it is not retired), and `cutover status` reads the
/// release as switched with no warning about its record; the retire, asked again, completes.
#[test]
fn signals_between_the_steps_of_a_plan_leave_a_state_the_record_describes() {
    for signal in SIGNALS {
        let kube = common::kubectl::start_with(Config::demo(), true);
        let home = tempfile::tempdir().expect("tempdir");
        wait_replicas(&kube, "nginx", "3", "3");
        kube.ok(&["-n", "shop", "scale", "deploy/nginx-v2", "--replicas=1"]);
        wait_replicas(&kube, "nginx-v2", "1", "1");
        cutover_cli(&kube, &["switch", "shop/nginx-service"]);
        assert_eq!(
            shop_state(&kube),
            ("v2".to_string(), "switched".to_string())
        );
        let tmux = console(&kube, home.path(), &[]);
        select_shop(&tmux);
        tmux.wait("the release switched", |s| s.contains("switched"));
        tmux.keys(&["d"]);
        tmux.wait_for_text("Confirm retire");
        // The dialog may be caught half drawn: wait for the step, not the first frame of it.
        let dialog = tmux.wait_for_text("wait until shop/nginx-v2 has 3 ready pods");
        let pid = cutover_pid(&tmux);
        if dialog.contains("Type nginx-service") {
            tmux.type_text("nginx-service");
            tmux.keys(&["Enter"]);
        } else {
            tmux.keys(&["y"]);
        }
        common::kubectl::wait_for("the scale step", Duration::from_secs(20), || {
            (replicas(&kube, "nginx-v2").0 == "3").then_some(())
        });
        end_with(&tmux, pid, signal);
        assert_eq!(
            shop_state(&kube),
            ("v2".to_string(), "switched".to_string()),
            "SIG{signal}: the record still says switched"
        );
        assert_eq!(
            replicas(&kube, "nginx").0,
            "3",
            "SIG{signal}: v1 not retired"
        );
        let (stage, warnings) = shop_status(&kube);
        assert_eq!(stage, "switched", "SIG{signal}: {warnings}");
        assert!(!warnings.contains("record"), "SIG{signal}: {warnings}");
        // The same op planned again does only what is left, and completes.
        cutover_cli(&kube, &["retire", "shop/nginx-service"]);
        assert_eq!(shop_state(&kube).1, "retired", "SIG{signal}");
        assert_eq!(replicas(&kube, "nginx").0, "0", "SIG{signal}");
    }
}

/// `CUTOVER_PANIC_ON_KEY` (honoured only in debug builds) makes that key panic the event
/// loop: the terminal is restored and the panic's report is in the log file.
#[test]
fn a_panic_restores_the_terminal_and_is_written_to_the_log() {
    let kube = common::kubectl::start_with(Config::test(), true);
    let home = tempfile::tempdir().expect("tempdir");
    let tmux = console(
        &kube,
        home.path(),
        &[("CUTOVER_PANIC_ON_KEY", Path::new("%"))],
    );
    let pid = cutover_pid(&tmux);
    tmux.type_text("%");
    let screen = tmux.wait("the shell back", |s| s.contains("cutover exited with"));
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    assert!(!screen.contains("● live"), "{screen}");
    assert!(screen.contains("cutover exited with 101"), "{screen}");
    assert_eq!(tmux.pane_value("#{alternate_on}"), "0");
    assert_eq!(tmux.pane_value("#{cursor_flag}"), "1");
    let log = std::fs::read_to_string(home.path().join("cutover").join("cutover.log"))
        .expect("the log file");
    assert!(
        log.contains("panicked") && log.contains("CUTOVER_PANIC_ON_KEY"),
        "the panic is in the log:\n{log}"
    );
}

/// 100 resizes within a second: afterwards the console is still there and answers a key
/// (the help screen) at the last size.
#[test]
fn a_storm_of_resizes_neither_stalls_nor_crashes() {
    let kube = common::kubectl::start_with(Config::test(), true);
    let home = tempfile::tempdir().expect("tempdir");
    let tmux = console(&kube, home.path(), &[]);
    let pid = cutover_pid(&tmux);
    let started = Instant::now();
    for i in 0..100u16 {
        let (w, h) = (60 + (i * 7) % 100, 15 + (i * 3) % 40);
        tmux.tmux(&[
            "resize-window",
            "-t",
            "e2e",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
        ]);
    }
    let storm = started.elapsed();
    println!("FIGURE 100 resizes sent in {storm:?}");
    tmux.tmux(&["resize-window", "-t", "e2e", "-x", "100", "-y", "30"]);
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "cutover survived"
    );
    let pressed = Instant::now();
    tmux.keys(&["?"]);
    let screen = tmux.wait("the help screen", |s| s.contains("Help — keys"));
    println!(
        "FIGURE a key answered {:?} after the storm",
        pressed.elapsed()
    );
    assert!(pressed.elapsed() < Duration::from_secs(5), "{screen}");
    assert!(
        screen.lines().all(|l| l.chars().count() <= 100),
        "drawn at the last size:\n{screen}"
    );
    tmux.keys(&["Escape", "q"]);
    tmux.wait("cutover to exit", |s| s.contains("cutover exited with 0"));
}
