//! Where cutover keeps its files, after the XDG base directory spec (through `etcetera`, which
//! ignores a relative `$XDG_*_HOME` as the spec says): the user's config directory (themes,
//! `keys.toml`) and the cache directory (the demo kubeconfig, the console's log).

use std::path::PathBuf;

use etcetera::BaseStrategy;

/// The directory name under each base directory.
const APP: &str = "cutover";

/// `$XDG_CONFIG_HOME/cutover` or `~/.config/cutover`; None when there is no home directory.
pub fn config_dir() -> Option<PathBuf> {
    let base = etcetera::choose_base_strategy().ok()?;
    Some(base.config_dir().join(APP))
}

/// `$XDG_CACHE_HOME/cutover` or `~/.cache/cutover`; without a home directory, `cutover` in the
/// system's temporary directory.
pub fn cache_dir() -> PathBuf {
    match etcetera::choose_base_strategy() {
        Ok(base) => base.cache_dir().join(APP),
        Err(_) => std::env::temp_dir().join(APP),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::Command;

    /// Set in the child process this test starts, which prints the directories it sees.
    const CHILD: &str = "CUTOVER_PATHS_TEST_CHILD";

    #[test]
    fn print_dirs_in_child() {
        if std::env::var_os(CHILD).is_some() {
            let config = super::config_dir().map(|d| d.display().to_string());
            println!("config={}", config.unwrap_or_default());
            println!("cache={}", super::cache_dir().display());
        }
    }

    /// The directories the process sees with these variables (the environment is process-wide,
    /// so each case runs in a child of this test binary).
    fn dirs_with(vars: &[(&str, &str)]) -> (String, String) {
        let mut child = Command::new(std::env::current_exe().unwrap());
        child
            .args([
                "--exact",
                "paths::tests::print_dirs_in_child",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_CACHE_HOME");
        for (name, value) in vars {
            child.env(name, value);
        }
        let out = String::from_utf8(child.output().unwrap().stdout).unwrap();
        let field = |name: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_default()
                .to_owned()
        };
        (field("config="), field("cache="))
    }

    #[test]
    fn an_absolute_xdg_home_wins_and_a_relative_one_is_ignored() {
        let home = [("HOME", "/home/u")];
        assert_eq!(
            dirs_with(&[
                home[0],
                ("XDG_CONFIG_HOME", "/x/config"),
                ("XDG_CACHE_HOME", "/x/cache")
            ]),
            ("/x/config/cutover".into(), "/x/cache/cutover".into())
        );
        for ignored in ["relative", ""] {
            assert_eq!(
                dirs_with(&[
                    home[0],
                    ("XDG_CONFIG_HOME", ignored),
                    ("XDG_CACHE_HOME", ignored)
                ]),
                (
                    "/home/u/.config/cutover".into(),
                    "/home/u/.cache/cutover".into()
                ),
                "{ignored:?}"
            );
        }
        assert_eq!(
            PathBuf::from(dirs_with(&home).1),
            PathBuf::from("/home/u/.cache/cutover")
        );
    }
}
