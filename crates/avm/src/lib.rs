//! BitFox's embedded AVM (Algorand Virtual Machine).
//!
//! This crate currently provides the TEAL assembler, which produces bytecode
//! byte-identical to go-algorand v3.17's assembler for TEAL versions 1 to 9
//! (version 10 is accepted as go-algorand 3.17 accepts it: v9 plus the
//! `bn256_*` opcodes). The evaluator will live in a sibling module and reuse
//! the data-driven [`opcodes`] and [`fields`] tables.
//!
//! ```
//! let out = bitfox_avm::assemble("#pragma version 8\nint 1\nreturn\n").unwrap();
//! assert_eq!(out.version, 8);
//! assert_eq!(out.bytecode, vec![0x08, 0x81, 0x01, 0x43]);
//! ```

pub mod asm;
pub mod eval;
pub mod fields;
pub mod opcodes;

pub use asm::{AssembleError, Assembled, LineError, assemble};
