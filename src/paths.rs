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

/// Opens `path` for writing, readable and writable by the user only (0600): created so, and
/// an existing file's mode narrowed to it. `append` keeps what is there; else it is emptied.
/// For files that hold or may hold credentials: kubeconfigs, the log.
///
/// # Errors
/// The file could not be opened or its mode changed.
pub fn open_private(path: &std::path::Path, append: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true);
    if append {
        options.append(true);
    } else {
        options.write(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let file = options.mode(0o600).open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// Writes `contents` to `path` as [`open_private`] opens it.
///
/// # Errors
/// As [`open_private`], or the write failed.
pub fn write_private(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    open_private(path, false)?.write_all(contents)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::Command;

    /// Set in the child process this test starts, which prints the directories it sees.
    const CHILD: &str = "CUTOVER_PATHS_TEST_CHILD";

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600_even_when_they_were_wider() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::write_private(&path, b"new").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let fresh = dir.path().join("g");
        drop(super::open_private(&fresh, true).unwrap());
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

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
