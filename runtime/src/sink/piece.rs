//! What one process of a cluster holds of an output's rows in a batch ([`Piece`]), as process 0
//! needs it to put the output out ([`super::pieces`]), and as it crosses to process 0 in bytes.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::error::Error;
use crate::persist::{Persist, corrupt};
use crate::structured::row::{JsonKeys, Row};

/// What one process of a cluster holds of an output's rows in a batch, in the form process 0
/// needs to put the output out.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Piece {
    /// How many rows the process held.
    pub(crate) rows: u64,
    pub(crate) held: Held,
    /// Every row as a JSON object, when process 0 writes a `--jsonl` copy of the outputs.
    pub(crate) jsonl: Option<Vec<String>>,
}

/// What an output needs of a process's rows.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Held {
    /// A file sink: the data file the process wrote (none when it held no rows, or the batch
    /// had been committed before, in a run that crashed after the commit).
    File(Option<PathBuf>),
    /// The console: the cells of the process's first rows, as many as the console shows.
    Shown(Vec<Vec<String>>),
    /// Every row as a JSON object (a memory sink).
    Json(Vec<String>),
}

impl Persist for Piece {
    fn write(&self, out: &mut Vec<u8>) {
        self.rows.write(out);
        match &self.held {
            Held::File(path) => {
                0u8.write(out);
                path.as_ref().map(|p| p.as_os_str().as_bytes().to_vec()).write(out);
            }
            Held::Shown(cells) => {
                1u8.write(out);
                cells.write(out);
            }
            Held::Json(rows) => {
                2u8.write(out);
                rows.write(out);
            }
        }
        self.jsonl.write(out);
    }

    fn read(input: &mut &[u8]) -> Result<Self, Error> {
        let rows = u64::read(input)?;
        let held = match u8::read(input)? {
            0 => {
                let path: Option<Vec<u8>> = Persist::read(input)?;
                Held::File(path.map(|b| PathBuf::from(std::ffi::OsStr::from_bytes(&b))))
            }
            1 => Held::Shown(Persist::read(input)?),
            2 => Held::Json(Persist::read(input)?),
            t => return Err(corrupt(&format!("an output's piece of tag {t}"))),
        };
        Ok(Piece { rows, held, jsonl: Persist::read(input)? })
    }
}

/// Every row of `rows` as a JSON object with `columns` as names.
pub(crate) fn json_objects<R: Row>(columns: &[&str], rows: &[R]) -> Vec<String> {
    let keys = JsonKeys::new(columns);
    rows.iter()
        .map(|r| {
            let mut o = String::new();
            r.json_object_keyed(&keys, &mut o);
            o
        })
        .collect()
}
