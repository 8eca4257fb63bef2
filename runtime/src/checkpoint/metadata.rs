//! The checkpoint directory's `metadata` file ([`Metadata`]): one line of JSON naming the app
//! and the query the directory belongs to, written with [`crate::fmt`]'s JSON strings and read
//! by a parser of flat objects, which is all the file needs.

use std::io;
use std::path::Path;

use super::format::Invalid;
use super::layout::{FORMAT_VERSION, METADATA};
use crate::error::Error;
use crate::fmt::json_string;

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
        let fields = JsonObject::parse(line).map_err(|why| Invalid::Corrupt(format!("not a JSON object: {why}")))?;
        let field = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let version = match field("version") {
            Some(JsonValue::Number(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
            Some(JsonValue::String(_)) => return Err(Invalid::Corrupt("`version` is not a number".to_owned())),
            None => return Err(Invalid::Corrupt("no `version`".to_owned())),
        };
        if !(3..=FORMAT_VERSION).contains(&version) {
            return Err(Invalid::Mismatch(format!(
                "layout version {version}, this runtime reads version {FORMAT_VERSION}"
            )));
        }
        let string = |key: &str| match field(key) {
            Some(JsonValue::String(s)) => Ok(s.clone()),
            Some(JsonValue::Number(_)) => Err(Invalid::Corrupt(format!("`{key}` is not a string"))),
            None => Err(Invalid::Corrupt(format!("no `{key}`"))),
        };
        Ok(Metadata { version, app: string("app")?, id: string("id")? })
    }
}

/// A value of the metadata's JSON: the file has strings and whole numbers only.
enum JsonValue {
    String(String),
    Number(u64),
}

/// A flat JSON object, parsed by hand: the runtime has no JSON dependency, and the metadata file
/// needs only this much.
struct JsonObject;

impl JsonObject {
    fn parse(text: &str) -> Result<Vec<(String, JsonValue)>, String> {
        let mut p = text.trim().chars().peekable();
        let mut fields = Vec::new();
        let skip_ws = |p: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            while p.next_if(|c| c.is_ascii_whitespace()).is_some() {}
        };
        if p.next() != Some('{') {
            return Err("it does not start with `{`".to_owned());
        }
        skip_ws(&mut p);
        if p.next_if_eq(&'}').is_none() {
            loop {
                skip_ws(&mut p);
                let key = Self::string(&mut p)?;
                skip_ws(&mut p);
                if p.next() != Some(':') {
                    return Err(format!("no `:` after `{key}`"));
                }
                skip_ws(&mut p);
                let value = match p.peek() {
                    Some('"') => JsonValue::String(Self::string(&mut p)?),
                    Some(c) if c.is_ascii_digit() => {
                        let mut n: u64 = 0;
                        while let Some(d) = p.next_if(char::is_ascii_digit) {
                            n = n
                                .checked_mul(10)
                                .and_then(|n| n.checked_add(u64::from(d as u8 - b'0')))
                                .ok_or_else(|| format!("`{key}` is too large"))?;
                        }
                        JsonValue::Number(n)
                    }
                    _ => return Err(format!("`{key}` is neither a string nor a whole number")),
                };
                fields.push((key, value));
                skip_ws(&mut p);
                match p.next() {
                    Some(',') => continue,
                    Some('}') => break,
                    _ => return Err("no `,` or `}` after a value".to_owned()),
                }
            }
        }
        if p.next().is_some() {
            return Err("text after the closing `}`".to_owned());
        }
        Ok(fields)
    }

    fn string(p: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, String> {
        if p.next() != Some('"') {
            return Err("a key or value is not a string".to_owned());
        }
        let mut s = String::new();
        loop {
            match p.next().ok_or("an unterminated string")? {
                '"' => return Ok(s),
                '\\' => match p.next().ok_or("an unterminated string")? {
                    '"' => s.push('"'),
                    '\\' => s.push('\\'),
                    '/' => s.push('/'),
                    'b' => s.push('\u{8}'),
                    'f' => s.push('\u{c}'),
                    'n' => s.push('\n'),
                    'r' => s.push('\r'),
                    't' => s.push('\t'),
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| p.next()).collect();
                        let code = u32::from_str_radix(&hex, 16).map_err(|_| format!("a bad escape `\\u{hex}`"))?;
                        // Only what `json_string` writes: control characters, never surrogates.
                        s.push(char::from_u32(code).ok_or_else(|| format!("a bad escape `\\u{hex}`"))?);
                    }
                    c => return Err(format!("a bad escape `\\{c}`")),
                },
                c => s.push(c),
            }
        }
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
