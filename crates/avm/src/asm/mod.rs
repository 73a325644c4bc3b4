//! The TEAL assembler.
//!
//! Produces bytecode identical to go-algorand v3.17's assembler: the same
//! tokenizer (`;` separators, `//` comments, string and base64 literals), the
//! same `#pragma` / `#define` directives, the same pseudo-ops (`int`, `byte`,
//! `addr`, `method`, and the immediate-count driven `txn`/`gtxn`/`gtxns`/
//! `extract`/`replace`), the same constant pooling (from v4 on: constants sorted
//! by use count, single-use constants become `pushint`/`pushbytes`) and the
//! same static stack type checking.
//!
//! The public API (this module: [`assemble`], [`Assembled`], the errors and
//! the varuint encoding) sits on three parts: `lexer` splits lines into
//! tokens, `literals` parses numbers, byte literals and addresses with Go's
//! rules, and `opstream` turns statements into bytecode (op encoding,
//! pseudo-ops, directives, type tracking, labels and constant blocks).

mod lexer;
mod literals;
mod opstream;

use std::fmt;

use opstream::OpStream;

pub use literals::{
    base32_decode_any_padding, decode_address, parse_string_literal, parse_uint_base0,
};

/// The output of a successful assembly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled {
    /// Program bytes, starting with the version varuint.
    pub bytecode: Vec<u8>,
    /// The program's TEAL version (1 when there is no `#pragma version`). A
    /// text holding only comments/directives assembles, as in go-algorand, to
    /// the "no version" marker `u64::MAX`; `version` is then 255.
    pub version: u8,
}

/// One assembly error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based source line (0 for errors about the whole program).
    pub line: usize,
    /// 0-based column of the offending token (0 if unknown).
    pub column: usize,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column != 0 {
            write!(f, "{}:{}: {}", self.line, self.column, self.message)
        } else {
            write!(f, "{}: {}", self.line, self.message)
        }
    }
}

/// All errors found while assembling a program.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AssembleError {
    /// The errors, in the order they were found.
    pub errors: Vec<LineError>,
}

impl fmt::Display for AssembleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error(s)", self.errors.len())?;
        for e in &self.errors {
            write!(f, "\n{e}")?;
        }
        Ok(())
    }
}

/// Assembles TEAL source text into AVM bytecode.
pub fn assemble(source: &str) -> Result<Assembled, AssembleError> {
    let mut ops = OpStream::new();
    ops.assemble(source);
    if !ops.errors.is_empty() {
        return Err(AssembleError { errors: ops.errors });
    }
    let version = u8::try_from(ops.version).unwrap_or(u8::MAX);
    Ok(Assembled { bytecode: ops.program, version })
}

// ---------------------------------------------------------------------------
// Encoding helpers

/// Appends `v` as an unsigned LEB128 varuint.
pub fn write_varuint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// `v` encoded as a varuint.
pub fn varuint(v: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    write_varuint(&mut out, v);
    out
}

#[cfg(test)]
mod tests {
    use super::lexer::tokens_from_line;
    use super::literals::{parse_binary_args, parse_int9};
    use super::*;

    fn asm(src: &str) -> Vec<u8> {
        assemble(src).unwrap_or_else(|e| panic!("{e}")).bytecode
    }

    #[test]
    fn varuint_encoding() {
        assert_eq!(varuint(0), vec![0]);
        assert_eq!(varuint(1), vec![1]);
        assert_eq!(varuint(127), vec![0x7f]);
        assert_eq!(varuint(128), vec![0x80, 0x01]);
        assert_eq!(varuint(300), vec![0xac, 0x02]);
        assert_eq!(
            varuint(u64::MAX),
            vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
    }

    #[test]
    fn go_number_parsing() {
        assert_eq!(parse_uint_base0("0x10"), Some(16));
        assert_eq!(parse_uint_base0("010"), Some(8));
        assert_eq!(parse_uint_base0("0b101"), Some(5));
        assert_eq!(parse_uint_base0("0o17"), Some(15));
        assert_eq!(parse_uint_base0("1_000"), Some(1000));
        assert_eq!(parse_uint_base0("0"), Some(0));
        assert_eq!(parse_uint_base0("_1"), None);
        assert_eq!(parse_uint_base0("1__0"), None);
        assert_eq!(parse_uint_base0("+1"), None);
        assert_eq!(parse_uint_base0("18446744073709551616"), None);
        assert_eq!(parse_uint_base0("09"), None);
        assert_eq!(parse_int9("-128"), Some(-128));
        assert_eq!(parse_int9("256"), None);
    }

    #[test]
    fn byte_literals() {
        let t = |s: &str| tokens_from_line(s, 1);
        assert_eq!(parse_binary_args(&t("0x0aFF")).unwrap(), (vec![0x0a, 0xff], 1));
        assert_eq!(parse_binary_args(&t("\"a\\x41\\n\\\"\"")).unwrap(), (b"aA\n\"".to_vec(), 1));
        assert_eq!(parse_binary_args(&t("base64(aGk=)")).unwrap(), (b"hi".to_vec(), 1));
        assert_eq!(parse_binary_args(&t("b64 aGk=")).unwrap(), (b"hi".to_vec(), 2));
        assert_eq!(parse_binary_args(&t("b32(NBUQ)")).unwrap(), (b"hi".to_vec(), 1));
        assert_eq!(parse_binary_args(&t("base32 NBUQ====")).unwrap(), (b"hi".to_vec(), 2));
        assert!(parse_binary_args(&t("0x0")).is_err());
        assert!(parse_binary_args(&t("\"\\q\"")).is_err());
        assert!(parse_binary_args(&t("base64(aGk)")).is_err());
    }

    #[test]
    fn tokenizer_handles_comments_strings_and_semicolons() {
        let toks: Vec<String> =
            tokens_from_line("byte \"a // b; c\" // comment", 1).into_iter().map(|t| t.s).collect();
        assert_eq!(toks, vec!["byte", "\"a // b; c\""]);
        let toks: Vec<String> =
            tokens_from_line("int 1; int 2;+", 1).into_iter().map(|t| t.s).collect();
        assert_eq!(toks, vec!["int", "1", ";", "int", "2", ";", "+"]);
        let toks: Vec<String> =
            tokens_from_line("byte b64 //8=", 1).into_iter().map(|t| t.s).collect();
        assert_eq!(toks, vec!["byte", "b64", "//8="]);
    }

    #[test]
    fn addresses() {
        let zero = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAY5HFKQ";
        assert_eq!(decode_address(zero).unwrap(), [0u8; 32]);
        assert!(
            decode_address("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAY5HFKA").is_err()
        );
    }

    #[test]
    fn labels_resolve_forward_and_backward() {
        // v4: back jumps allowed; offsets relative to the end of the branch.
        let code = asm("#pragma version 4\nloop:\nint 1\nbnz done\nb loop\ndone:\nint 1\n");
        // 04, intcblock? no: `int 1` used twice -> intcblock 1 1, intc_0
        assert_eq!(
            code,
            vec![0x04, 0x20, 0x01, 0x01, 0x22, 0x40, 0x00, 0x03, 0x42, 0xff, 0xf9, 0x22]
        );
        let err = assemble("#pragma version 3\nloop:\nint 1\nbnz loop\n").unwrap_err();
        assert!(err.errors[0].message.contains("back reference"));
        let err = assemble("#pragma version 8\nb nowhere\n").unwrap_err();
        assert!(err.errors[0].message.contains("undefined label"));
    }

    #[test]
    fn pooling_decisions() {
        // single-use constants are pushed, repeated ones pooled by frequency
        let code = asm(
            "#pragma version 8\nint 5\nint 7\nint 7\n+\n+\nbyte \"x\"\nbyte \"y\"\nbyte \"y\"\nconcat\nconcat\n",
        );
        assert_eq!(
            code,
            vec![
                8, 0x20, 1, 7, 0x26, 1, 1, b'y', 0x81, 5, 0x22, 0x22, 0x08, 0x08, 0x80, 1, b'x',
                0x28, 0x28, 0x50, 0x50
            ]
        );
        // before v4 no optimisation: first-use order, intc_N even for single use
        let code = asm("#pragma version 3\nint 5\nint 7\nint 7\n+\n+\n");
        assert_eq!(code, vec![3, 0x20, 2, 5, 7, 0x22, 0x23, 0x23, 0x08, 0x08]);
        // explicit intcblock from v4: `int` becomes pushint
        let code = asm("#pragma version 8\nintcblock 9\nint 9\nintc 0\n+\n");
        assert_eq!(code, vec![8, 0x20, 1, 9, 0x81, 9, 0x22, 0x08]);
    }

    #[test]
    fn default_version_and_errors() {
        assert_eq!(assemble("int 1").unwrap().version, 1);
        let e = assemble("#pragma version 8\nfoo\n").unwrap_err();
        assert_eq!(e.errors[0].line, 2);
        assert!(e.errors[0].message.contains("unknown opcode"));
        let e = assemble("#pragma version 2\nbox_get\n").unwrap_err();
        assert!(e.errors[0].message.contains("introduced in v8"));
        let e = assemble("#pragma version 8\nint 1\nbyte 0x01\n+\n").unwrap_err();
        assert!(e.errors[0].message.contains("wanted type uint64"));
    }
}
