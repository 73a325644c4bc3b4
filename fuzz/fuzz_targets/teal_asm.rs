//! The TEAL assembler (`bitfox_avm::assemble`) on arbitrary source, as the devnet's
//! `POST /v2/teal/compile` runs it: bodies that are not UTF-8 are refused before it.
//!
//! Checked besides "no panic": a program that assembles starts with its version as a
//! varuint, and a refusal names at least one error with a line inside the source.

#![no_main]

use bitfox_avm::asm::varuint;
use bitfox_avm::assemble;
use bitfox_devnet::server::program_address;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match assemble(source) {
        Ok(program) => {
            if program.version != u8::MAX {
                assert!(
                    program.bytecode.starts_with(&varuint(u64::from(program.version))),
                    "the program starts with its version"
                );
            }
            let _ = program_address(&program.bytecode);
        }
        Err(e) => {
            assert!(!e.errors.is_empty(), "a refusal says why");
            let lines = source.split('\n').count();
            for error in &e.errors {
                assert!(error.line <= lines, "error line {} of {lines}: {error}", error.line);
            }
            let _ = e.to_string();
        }
    }
});
