//! Static tables (Spark's `spark.read...load(path)`) that a stream is joined with: read once,
//! before the first batch that needs them.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The lines of a static table at `path`: a file, or every file of a directory (sorted by name,
/// skipping hidden files and those starting with `_`, as Spark does). Errors name the path.
pub fn read_lines(path: impl AsRef<Path>) -> Result<Vec<String>, Error> {
    let path = path.as_ref();
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let meta = std::fs::metadata(path).map_err(io)?;
    let files: Vec<PathBuf> = if meta.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| !n.starts_with('.') && !n.starts_with('_'))
            })
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    let mut lines = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).map_err(|source| Error::Io { path: f.clone(), source })?;
        let text = String::from_utf8_lossy(&bytes);
        lines.extend(text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned));
    }
    Ok(lines)
}
