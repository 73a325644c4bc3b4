//! The tokenizer: splits a source line into tokens as go-algorand does (`;`
//! separators, `//` comments, string and base64 literals), and the errors
//! that point at a token.

use super::LineError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) s: String,
    pub(super) col: usize,
    pub(super) line: usize,
}

fn is_sep(c: u8) -> bool {
    c == b'\t' || c == b' ' || c == b';'
}

pub(super) fn tokens_from_line(line: &str, lineno: usize) -> Vec<Token> {
    let b = line.as_bytes();
    let mut tokens = Vec::new();
    let tok = |s: &[u8], col: usize| Token {
        s: String::from_utf8_lossy(s).into_owned(),
        col,
        line: lineno,
    };
    let mut i = 0;
    while i < b.len() && is_sep(b[i]) {
        if b[i] == b';' {
            tokens.push(tok(b";", i));
        }
        i += 1;
    }
    let mut start = i;
    let mut in_string = false;
    let mut in_base64 = false;
    while i < b.len() {
        if !is_sep(b[i]) {
            match b[i] {
                b'"' => {
                    if !in_string {
                        if i == 0 || is_sep(b[i - 1]) {
                            in_string = true;
                        }
                    } else if b[i - 1] != b'\\' {
                        in_string = false;
                    }
                }
                b'/' if i + 1 < b.len() && b[i + 1] == b'/' && !in_base64 && !in_string => {
                    if start != i {
                        tokens.push(tok(&b[start..i], start));
                    }
                    return tokens;
                }
                b'(' => {
                    let prefix = &b[start..i];
                    if prefix == b"base64" || prefix == b"b64" {
                        in_base64 = true;
                    }
                }
                b')' => in_base64 = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if !in_string {
            let s = &b[start..i];
            tokens.push(tok(s, start));
            if b[i] == b';' {
                tokens.push(tok(b";", i));
            }
            if in_base64 {
                in_base64 = false;
            } else if s == b"base64" || s == b"b64" {
                in_base64 = true;
            }
        }
        i += 1;
        if !in_string {
            while i < b.len() && is_sep(b[i]) {
                if b[i] == b';' {
                    tokens.push(tok(b";", i));
                }
                i += 1;
            }
            start = i;
        }
    }
    if start < b.len() {
        tokens.push(tok(&b[start..i], start));
    }
    tokens
}

pub(super) fn err_at(t: &Token, msg: impl Into<String>) -> LineError {
    LineError { line: t.line, column: t.col, message: msg.into() }
}

pub(super) fn err_after(t: &Token, msg: impl Into<String>) -> LineError {
    LineError { line: t.line, column: t.col + t.s.len(), message: msg.into() }
}

pub(super) fn rejoin(instruction: &str, args: &[Token]) -> String {
    let mut s = instruction.to_string();
    for t in args {
        s.push(' ');
        s.push_str(&t.s);
    }
    s
}
