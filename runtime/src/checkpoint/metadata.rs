//! The checkpoint directory's `metadata` file ([`Metadata`]): one line of JSON naming the app
//! and the query the directory belongs to, written with [`crate::fmt`]'s JSON strings and read
//! by a parser of flat objects, which is all the file needs.

use std::io;
use std::path::Path;

use super::format::Invalid;
use super::layout::{FORMAT_VERSION, METADATA};
use crate::error::Error;
use crate::fmt::json_string;
use crate::structured::json::{Json, parse_fields};

/// The contents of a checkpoint directory's [`METADATA`] file.
///
/// Law: `Metadata::decode(&m.encode()) == Ok(m)`, and `decode` fails on any truncation of an
/// encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// The layout version, [`FORMAT_VERSION`] when written by this runtime.
    pub version: u32,
    /// The name of the app the directory belongs to.
    pub app: String,
    /// The query's id, the same for every run over the directory.
    pub id: String,
}

impl Metadata {
    /// The file's bytes: one line of JSON, newline included.
    ///
    /// ```
    /// use streamc_runtime::checkpoint::Metadata;
    /// let m = Metadata { version: 3, app: "wc".into(), id: "q-1".into() };
    /// assert_eq!(m.encode(), b"{\"version\":3,\"app\":\"wc\",\"id\":\"q-1\"}\n");
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        let mut out = format!("{{\"version\":{},\"app\":", self.version);
        json_string(&self.app, &mut out);
        out.push_str(",\"id\":");
        json_string(&self.id, &mut out);
        out.push_str("}\n");
        out.into_bytes()
    }

    /// Reads a file's bytes, checking the format version (not the app name). Keys other than
    /// `version`, `app` and `id` are ignored.
    pub fn decode(bytes: &[u8]) -> Result<Self, Invalid> {
        if bytes.is_empty() {
            return Err(Invalid::Corrupt("the file is empty".to_owned()));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| Invalid::Corrupt("not UTF-8".to_owned()))?;
        // Written as one line ending in a newline: a missing newline is a truncated file.
        let Some(line) = text.strip_suffix('\n') else {
            return Err(Invalid::Corrupt("truncated: no newline at the end".to_owned()));
        };
        let mut fields = [Json::Missing, Json::Missing, Json::Missing];
        parse_fields(line, &["version", "app", "id"], &mut fields)
            .map_err(|why| Invalid::Corrupt(format!("not a JSON object: {why}")))?;
        let [version, app, id] = fields;
        let version = match version {
            Json::Int(n) => u32::try_from(n).unwrap_or(u32::MAX),
            Json::Missing => return Err(Invalid::Corrupt("no `version`".to_owned())),
            _ => return Err(Invalid::Corrupt("`version` is not a number".to_owned())),
        };
        if !(3..=FORMAT_VERSION).contains(&version) {
            return Err(Invalid::Mismatch(format!(
                "layout version {version}, this runtime reads version {FORMAT_VERSION}"
            )));
        }
        let string = |key: &str, value: Json<'_>| match value {
            Json::Str(s) => Ok(s.into_owned()),
            Json::Missing => Err(Invalid::Corrupt(format!("no `{key}`"))),
            _ => Err(Invalid::Corrupt(format!("`{key}` is not a string"))),
        };
        Ok(Metadata { version, app: string("app", app)?, id: string("id", id)? })
    }
}

/// The metadata of `dir` for app `app`; `None` if there is none (a fresh directory, or one of
/// the flat layout). A metadata file that cannot be read, or that names another app, is an
/// error naming it: guessing would mix two queries' files.
pub(super) fn read_metadata(dir: &Path, app: &str) -> Result<Option<Metadata>, Error> {
    let path = dir.join(METADATA);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Io { path, source: e }),
    };
    let why = match Metadata::decode(&bytes) {
        Ok(m) if m.app == app => return Ok(Some(m)),
        Ok(m) => {
            return Err(Error::Checkpoint {
                message: format!(
                    "checkpoint metadata `{}` was written by app `{}`, this app is `{app}`\n\
                     help: use another checkpoint directory (`--checkpoint NEW_DIR`) for `{app}`",
                    path.display(),
                    m.app
                ),
                path,
            });
        }
        Err(why) => why,
    };
    Err(Error::Checkpoint {
        message: format!(
            "checkpoint metadata `{}` {why}\n\
             help: delete `{}` to have it written again (with the query id of the newest commit), \
             or start afresh in another checkpoint directory (`--checkpoint NEW_DIR`)",
            path.display(),
            path.display()
        ),
        path,
    })
}
