//! Issue 18, "Ecosystem conventions": what a newcomer sets up around the binary. Shell
//! completions that complete, a manual page `man` reads, and `kubectl cutover` as a kubectl
//! plugin, each run for real.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_cutover");

/// The subcommands a user sees (every one but the hidden ones, of which there are none).
const SUBCOMMANDS: [&str; 12] = [
    "demo",
    "status",
    "switch",
    "weight",
    "approve",
    "reject",
    "rollback",
    "stage",
    "retire",
    "completions",
    "man",
    "help",
];

fn cutover(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run cutover");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What bash offers for `words` with the cursor in word `at`, the completion script loaded and
/// called as bash's `complete -F` calls it (command, current word, previous word).
fn bash_completes(words: &str, at: usize) -> Vec<String> {
    let (ok, script, err) = cutover(&["completions", "bash"]);
    assert!(ok, "completions bash failed: {err}");
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("cutover.bash");
    std::fs::write(&file, script).expect("write the script");
    let program = format!(
        "source {}; COMP_WORDS=({words}); COMP_CWORD={at}; COMP_LINE='{words}'; \
         COMP_POINT=${{#COMP_LINE}}; \
         _cutover cutover \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &program])
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The binary runs on jemalloc with `cutover::heap::MALLOC_CONF` in effect: jemalloc prints
/// its options at exit when asked through the environment, which it reads after the
/// options compiled into the binary, so a typo in them, or their symbol not linked, shows.
#[cfg(unix)]
#[test]
fn the_binary_runs_on_jemalloc_with_its_memory_options() {
    let out = Command::new(BIN)
        .arg("--version")
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .stdin(Stdio::null())
        .output()
        .expect("run cutover");
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(
        !said.contains("<jemalloc>"),
        "jemalloc refused an option:\n{said}"
    );
    // (`opt.muzzy_decay_ms: 0` is also jemalloc 5.3's default: the two before it are the proof.)
    for option in [
        "opt.narenas: 1",
        "opt.dirty_decay_ms: 0",
        "opt.muzzy_decay_ms: 0",
    ] {
        // The whole value: "opt.narenas: 1" must not pass for "opt.narenas: 16". jemalloc
        // writes some as "opt.dirty_decay_ms: 0 (arenas.dirty_decay_ms: 0)".
        let exact = (said.lines()).any(|line| line.trim().split(" (").next() == Some(option));
        assert!(exact, "{option} not in effect:\n{said}");
    }
}

#[test]
fn bash_completion_completes_subcommands_and_flags() {
    let subcommands = bash_completes("cutover st", 1);
    assert_eq!(subcommands, ["status", "stage"], "cutover st<TAB>");
    let flags = bash_completes("cutover status --out", 2);
    assert_eq!(flags, ["--output"], "cutover status --out<TAB>");
    let shells = bash_completes("cutover completions f", 2);
    assert_eq!(shells, ["fish"], "cutover completions f<TAB>");
}

#[test]
fn completions_for_zsh_and_fish_name_every_subcommand() {
    for shell in ["zsh", "fish"] {
        let (ok, script, err) = cutover(&["completions", shell]);
        assert!(ok, "completions {shell}: {err}");
        for sub in SUBCOMMANDS {
            assert!(
                script.contains(sub),
                "the {shell} script does not complete `{sub}`"
            );
        }
    }
    let (ok, _, err) = cutover(&["completions", "tcsh"]);
    assert!(!ok, "an unknown shell is refused");
    assert!(err.contains("possible values"), "{err}");
}

#[test]
fn the_manual_page_is_roff_that_man_reads() {
    let (ok, page, err) = cutover(&["man"]);
    assert!(ok, "cutover man: {err}");
    assert!(page.contains(".TH cutover 1"), "not a section-1 page");
    for sub in SUBCOMMANDS {
        assert!(page.contains(sub), "the page does not mention `{sub}`");
    }
    // Rendered by man itself where the machine has it.
    if Command::new("man").arg("--version").output().is_ok() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let file = dir.path().join("cutover.1");
        std::fs::write(&file, &page).expect("write the page");
        let out = Command::new("man")
            .arg("-l")
            .arg(&file)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .expect("run man");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "man -l: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("SYNOPSIS"), "{text}");
        assert!(text.contains("blue-green"), "{text}");
    }
}

#[test]
fn as_a_kubectl_plugin_kubectl_cutover_runs_it_and_its_usage_says_so() {
    let kube = common::kubectl::start(true);
    // kubectl runs `kubectl-cutover` from the PATH for `kubectl cutover …`.
    let bin = tempfile::tempdir().expect("temporary directory");
    std::os::unix::fs::symlink(BIN, bin.path().join("kubectl-cutover")).expect("link");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let kubectl = |args: &[&str]| {
        let out = Command::new("kubectl")
            .args(args)
            .env("PATH", &path)
            .env("KUBECONFIG", &kube.kubeconfig)
            .env("XDG_CACHE_HOME", kube.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run kubectl");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, listed, err) = kubectl(&["plugin", "list"]);
    assert!(ok, "kubectl plugin list: {err}");
    assert!(listed.contains("kubectl-cutover"), "{listed}");

    let (ok, help, err) = kubectl(&["cutover", "--help"]);
    assert!(ok, "kubectl cutover --help: {err}");
    assert!(help.contains("Usage: kubectl cutover"), "{help}");

    let (ok, table, err) = kubectl(&["cutover", "status", "-n", "shop"]);
    assert!(ok, "kubectl cutover status: {err}");
    assert!(table.contains("shop/nginx-service"), "{table}");

    let (ok, _, err) = kubectl(&["cutover", "stauts"]);
    assert!(!ok, "a typo is refused");
    assert!(err.contains("Usage: kubectl cutover"), "{err}");
}

#[test]
fn cargo_package_holds_only_what_cargo_install_needs() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["package", "--list", "--allow-dirty", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .expect("run cargo package");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo package --list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<&str> = listed.lines().collect();
    let top = [
        "Cargo.toml",
        "Cargo.toml.orig",
        "Cargo.lock",
        "README.md",
        "LICENSE",
        ".cargo_vcs_info.json",
    ];
    for file in &files {
        assert!(
            top.contains(file) || file.starts_with("src/") || file.starts_with("themes/"),
            "`{file}` does not belong in the package"
        );
    }
    for needed in [
        "README.md",
        "LICENSE",
        "Cargo.lock",
        "src/main.rs",
        "themes/default.toml",
    ] {
        assert!(files.contains(&needed), "the package lacks {needed}");
    }
}

/// `cutover demo --serve` with no address: a free port (never a local cluster's 6443), and the
/// kubeconfig removed when the demo ends, so nothing points at a dead port.
#[test]
fn the_served_demo_takes_a_free_port_and_removes_its_kubeconfig_at_the_end() {
    use common::kubectl::{TIMEOUT, kubectl_at, wait_for};
    let dir = tempfile::tempdir().expect("temporary directory");
    let kubeconfig = dir.path().join("demo.kubeconfig");
    let mut child = Command::new(BIN)
        .args(["demo", "--serve", "--write-kubeconfig"])
        .arg(&kubeconfig)
        .env("XDG_CACHE_HOME", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cutover demo --serve");
    let cache = dir.path().join("kube-cache");
    wait_for("kubectl to reach the served demo", TIMEOUT, || {
        if let Some(status) = child.try_wait().expect("poll") {
            panic!("cutover demo exited early: {status}");
        }
        let run = kubectl_at(&kubeconfig, &cache, &["get", "namespace", "shop"]);
        run.success().then_some(())
    });
    let config = std::fs::read_to_string(&kubeconfig).expect("read the kubeconfig");
    let server = config
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .expect("a server in the kubeconfig");
    assert!(server.starts_with("http://127.0.0.1:"), "{server}");
    assert!(
        !server.ends_with(":6443"),
        "the default port is a free one: {server}"
    );

    let kill = Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(kill.success());
    let status = wait_for("the demo to end", TIMEOUT, || {
        child.try_wait().expect("poll")
    });
    let out = child.wait_with_output().expect("its output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(status.success(), "{status}: {stdout}");
    assert!(!kubeconfig.exists(), "the kubeconfig outlived the demo");
    assert!(stdout.contains("removed"), "{stdout}");
}

#[test]
fn the_demo_never_overwrites_a_kubeconfig_that_is_not_its_own() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let theirs = dir.path().join("config");
    let text = "apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts:\n\
                - name: prod\n  context: {cluster: prod, user: oncall}\n";
    std::fs::write(&theirs, text).expect("write a kubeconfig");
    let out = Command::new(BIN)
        .args(["demo", "--serve", "--write-kubeconfig"])
        .arg(&theirs)
        .env("XDG_CACHE_HOME", dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run cutover demo");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the demo started over another kubeconfig"
    );
    assert!(err.contains("not the demo's"), "{err}");
    assert!(err.contains(&theirs.display().to_string()), "{err}");
    assert_eq!(std::fs::read_to_string(&theirs).expect("read"), text);
}
