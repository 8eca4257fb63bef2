//! The build cache of `streamc run`: one crate directory per generated app (named by the spec's
//! stem and the generated code's hash) and one shared cargo target directory. A changed spec, or
//! a new streamc, makes a new app; the old one is never built again. So that the cache does not
//! grow without bound, every run marks its app as used, and after a build the apps beyond the
//! most recently used ones are removed: their crate, binary, dependency info and fingerprint.
//! The runtime's own build, shared by every app, stays.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How many apps the cache keeps when `STREAMC_CACHE_KEEP` does not say (an app takes about
/// 2 MB: a thousand apps are about 2 GB; the test suite builds some 270).
pub const DEFAULT_KEEP: usize = 1000;

/// An app used this recently is never removed, whatever its rank: another `streamc run` may be
/// building or starting it right now.
pub const GRACE: Duration = Duration::from_secs(3600);

/// The file whose modification time is an app's last use.
const USED: &str = ".used";

/// Marks the app crate in `dir` as used now.
pub fn touch(dir: &Path) -> std::io::Result<()> {
    let f = std::fs::File::options().create(true).truncate(false).write(true).open(dir.join(USED))?;
    f.set_modified(SystemTime::now())
}

/// An app crate directory of the cache, and when it was last used.
#[derive(Debug)]
struct App {
    name: String,
    used: SystemTime,
}

/// Whether `name` is an app crate's name: `<stem>-<16 hex digits>`.
fn is_app_name(name: &str) -> bool {
    name.rsplit_once('-')
        .is_some_and(|(stem, hash)| !stem.is_empty() && hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The app crates in `cache`, most recently used first (an app that was never marked counts
/// from its manifest's modification time).
fn apps(cache: &Path) -> std::io::Result<Vec<App>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(cache)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else { continue };
        let dir = entry.path();
        if !is_app_name(&name) || !dir.join("Cargo.toml").is_file() {
            continue;
        }
        let used = [dir.join(USED), dir.join("Cargo.toml")]
            .iter()
            .find_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        out.push(App { name, used });
    }
    out.sort_by(|a, b| b.used.cmp(&a.used).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// What [`prune`] removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// The apps removed.
    pub apps: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// Removes the apps of `cache` beyond the `keep` most recently used, except any used within
/// `grace` of `now`. Files another process removed first are not an error; any other failure
/// to remove is, after the rest has been tried.
pub fn prune(cache: &Path, keep: usize, grace: Duration, now: SystemTime) -> std::io::Result<Pruned> {
    let mut pruned = Pruned::default();
    let mut first_err = None;
    for app in apps(cache)?.into_iter().skip(keep) {
        // Used within the grace period, or (a clock set back) after `now`.
        if now.duration_since(app.used).ok().is_none_or(|age| age < grace) {
            continue;
        }
        let mut bytes = 0;
        for path in app_files(cache, &app.name) {
            bytes += size(&path);
            if let Err(e) = remove(&path) {
                first_err.get_or_insert(e);
            }
        }
        pruned.apps += 1;
        pruned.bytes += bytes;
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(pruned),
    }
}

/// Everything of app `name` in `cache`: its crate directory, and in the shared target
/// directory its binary, dependency info and fingerprints (cargo writes the deps under the
/// crate name, `-` made `_`, and a metadata hash).
fn app_files(cache: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = vec![cache.join(name)];
    let crate_prefix = format!("{}-", name.replace('-', "_"));
    let fingerprint_prefix = format!("{name}-");
    // Under each profile's directory (`STREAMC_APP_PROFILE`).
    for profile in ["release", "quick"] {
        let dir = cache.join("target").join(profile);
        out.extend([dir.join(name), dir.join(format!("{name}.d"))]);
        for (dir, prefix) in [(dir.join("deps"), &crate_prefix), (dir.join(".fingerprint"), &fingerprint_prefix)] {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                if entry.file_name().to_str().is_some_and(|n| n.starts_with(prefix.as_str())) {
                    out.push(entry.path());
                }
            }
        }
    }
    out
}

/// The bytes of a file, or of a directory's files (0 for what is not there).
fn size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return 0 };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path).map_or(0, |entries| entries.flatten().map(|e| size(&e.path())).sum())
}

/// Removes a file or a directory tree; one that is already gone is fine.
fn remove(path: &Path) -> std::io::Result<()> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// The number of apps to keep: `STREAMC_CACHE_KEEP`, else [`DEFAULT_KEEP`].
pub fn keep_from_env() -> Result<usize, String> {
    match std::env::var("STREAMC_CACHE_KEEP") {
        Err(_) => Ok(DEFAULT_KEEP),
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("STREAMC_CACHE_KEEP must be a number of apps to keep in the build cache, not `{v}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache with app `name` built (crate, binary, deps, fingerprint), last used at `used`.
    fn app(cache: &Path, name: &str, used: SystemTime) {
        let dir = cache.join(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), "[package]").unwrap();
        std::fs::write(dir.join("src").join("main.rs"), "fn main() {}").unwrap();
        touch(&dir).unwrap();
        std::fs::File::options().write(true).open(dir.join(USED)).unwrap().set_modified(used).unwrap();
        // Built with both profiles (`STREAMC_APP_PROFILE`).
        for profile in ["release", "quick"] {
            let built = cache.join("target").join(profile);
            std::fs::create_dir_all(built.join("deps")).unwrap();
            std::fs::create_dir_all(built.join(".fingerprint").join(format!("{name}-0123abcd"))).unwrap();
            std::fs::write(built.join(name), vec![0u8; 1000]).unwrap();
            std::fs::write(built.join(format!("{name}.d")), "deps").unwrap();
            let krate = name.replace('-', "_");
            std::fs::write(built.join("deps").join(format!("{krate}-0123abcd")), vec![0u8; 1000]).unwrap();
            std::fs::write(built.join("deps").join(format!("{krate}-0123abcd.d")), "deps").unwrap();
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("streamc-cache-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_least_recently_used_apps_beyond_the_kept_number_are_removed_with_their_builds() {
        let cache = scratch("lru");
        let now = SystemTime::now();
        let hours = |h: u64| now - Duration::from_secs(3600 * h);
        app(&cache, "word_count-00000000000000aa", hours(5));
        app(&cache, "word_count-00000000000000bb", hours(2));
        app(&cache, "events-00000000000000cc", hours(30));
        app(&cache, "events-00000000000000dd", hours(3));
        // The shared runtime build and files that are not apps stay.
        let release = cache.join("target").join("release");
        std::fs::write(release.join("deps").join("libstreamc_runtime-99.rlib"), "rt").unwrap();
        std::fs::create_dir_all(cache.join("cluster")).unwrap();
        std::fs::create_dir_all(cache.join("notes-xyz")).unwrap();

        let pruned = prune(&cache, 2, GRACE, now).unwrap();
        assert_eq!(pruned.apps, 2);
        assert!(pruned.bytes >= 4000, "{pruned:?}");
        for built in ["release", "quick"].map(|p| cache.join("target").join(p)) {
            for gone in ["word_count-00000000000000aa", "events-00000000000000cc"] {
                assert!(!cache.join(gone).exists(), "{gone}");
                assert!(!built.join(gone).exists(), "{gone}");
                assert!(!built.join(format!("{gone}.d")).exists(), "{gone}");
                assert!(!built.join(".fingerprint").join(format!("{gone}-0123abcd")).exists(), "{gone}");
                let krate = gone.replace('-', "_");
                assert!(!built.join("deps").join(format!("{krate}-0123abcd")).exists(), "{gone}");
            }
            for kept in ["word_count-00000000000000bb", "events-00000000000000dd"] {
                assert!(cache.join(kept).join("Cargo.toml").exists(), "{kept}");
                assert!(built.join(kept).exists(), "{kept}");
                let krate = kept.replace('-', "_");
                assert!(built.join("deps").join(format!("{krate}-0123abcd")).exists(), "{kept}");
            }
        }
        assert!(release.join("deps").join("libstreamc_runtime-99.rlib").exists());
        assert!(cache.join("cluster").exists() && cache.join("notes-xyz").exists());

        // Nothing more to remove: a second pass removes nothing.
        assert_eq!(prune(&cache, 2, GRACE, now).unwrap(), Pruned::default());
        let _ = std::fs::remove_dir_all(&cache);
    }

    #[test]
    fn an_app_used_within_the_grace_period_stays_whatever_its_rank() {
        let cache = scratch("grace");
        let now = SystemTime::now();
        app(&cache, "a-000000000000000a", now - Duration::from_secs(60));
        app(&cache, "b-000000000000000b", now - Duration::from_secs(120));
        app(&cache, "c-000000000000000c", now - Duration::from_secs(7200));
        let pruned = prune(&cache, 0, GRACE, now).unwrap();
        assert_eq!(pruned.apps, 1);
        assert!(cache.join("a-000000000000000a").exists() && cache.join("b-000000000000000b").exists());
        assert!(!cache.join("c-000000000000000c").exists());
        let _ = std::fs::remove_dir_all(&cache);
    }

    #[test]
    fn app_names_end_in_the_code_hash() {
        assert!(is_app_name("word_count-0123456789abcdef"));
        assert!(is_app_name("app_01_x-0123456789abcdef"));
        assert!(!is_app_name("target"));
        assert!(!is_app_name("cluster"));
        assert!(!is_app_name("-0123456789abcdef"));
        assert!(!is_app_name("x-0123456789abcde"));
        assert!(!is_app_name("x-0123456789abcdeg"));
    }
}
