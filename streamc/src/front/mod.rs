//! Front ends: each turns one syntax into a plan plus diagnostics, never failing. `yaml` reads
//! specs, `rust` reads `stream!` bodies, `sql` reads the SQL inside YAML; `closure` holds the
//! syn helpers the YAML and Rust front ends share.

pub mod closure;
pub mod rust;
pub mod sql;
pub mod yaml;
