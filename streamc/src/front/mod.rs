//! Front ends: each turns one syntax into a plan plus diagnostics, never failing. `yaml` reads
//! specs, `rust` reads `stream!` bodies, `sql` reads the SQL inside YAML; `closure` reads
//! closures (YAML strings and `stream!` tokens alike), `syntax` holds the `stream!` readers' syn
//! helpers.

pub mod closure;
pub mod rust;
pub mod sql;
pub(crate) mod syntax;
pub mod yaml;
