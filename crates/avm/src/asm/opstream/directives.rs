//! Directives: `#pragma version`, `#pragma typetrack` and `#define` macros
//! (with go's checks of macro names and expansion cycles).

use std::collections::HashSet;

use super::{AsmResult, NO_VERSION, OpStream, is_pseudo_name};
use crate::asm::lexer::{Token, err_at, rejoin};
use crate::asm::literals::{parse_bool, parse_uint_base0};
use crate::fields;
use crate::opcodes;

impl OpStream {
    pub(super) fn pragma(&mut self, tokens: &[Token]) -> AsmResult {
        if tokens[0].s != "#pragma" {
            return Err(err_at(&tokens[0], format!("invalid syntax: {}", tokens[0].s)));
        }
        if tokens.len() < 2 {
            return Err(err_at(&tokens[0], "empty pragma"));
        }
        match tokens[1].s.as_str() {
            "version" => {
                if tokens.len() < 3 {
                    return Err(err_at(&tokens[1], "no version value"));
                }
                if tokens.len() > 3 {
                    return Err(err_at(
                        &tokens[3],
                        format!("unexpected extra tokens:{}", rejoin("", &tokens[3..])),
                    ));
                }
                if !self.pending.is_empty() {
                    return Err(err_at(
                        &tokens[0],
                        "#pragma version is only allowed before instructions",
                    ));
                }
                let value = &tokens[2].s;
                let ver = parse_uint_base0(value).ok_or_else(|| {
                    err_at(&tokens[2], format!("bad #pragma version: \"{value}\""))
                })?;
                if ver > opcodes::MAX_VERSION as u64 {
                    return Err(err_at(&tokens[2], format!("unsupported version: {ver}")));
                }
                if self.version == NO_VERSION {
                    self.version = ver;
                    if !self.recheck_macro_names() {
                        return Err(err_at(
                            &tokens[2],
                            "version is incompatible with defined macros",
                        ));
                    }
                    return Ok(());
                }
                if self.version != ver {
                    return Err(err_at(
                        &tokens[2],
                        format!(
                            "version mismatch: assembling v{ver} with v{} assembler",
                            self.version
                        ),
                    ));
                }
                Ok(())
            }
            "typetrack" => {
                if tokens.len() < 3 {
                    return Err(err_at(&tokens[1], "no typetrack value"));
                }
                if tokens.len() > 3 {
                    return Err(err_at(
                        &tokens[3],
                        format!("unexpected extra tokens:{}", rejoin("", &tokens[3..])),
                    ));
                }
                let value = &tokens[2].s;
                let on = parse_bool(value).ok_or_else(|| {
                    err_at(&tokens[2], format!("bad #pragma typetrack: \"{value}\""))
                })?;
                if !self.type_tracking && on {
                    self.known.reset();
                }
                self.type_tracking = on;
                Ok(())
            }
            key => Err(err_at(&tokens[0], format!("unsupported pragma directive: \"{key}\""))),
        }
    }

    pub(super) fn define(&mut self, tokens: &[Token]) -> AsmResult {
        if tokens[0].s != "#define" {
            return Err(err_at(&tokens[0], format!("invalid syntax: {}", tokens[0].s)));
        }
        if tokens.len() < 3 {
            return Err(err_at(
                &tokens[tokens.len() - 1],
                "define directive requires a name and body",
            ));
        }
        let name = tokens[1].s.clone();
        self.check_macro_name(&name, self.version).map_err(|m| err_at(&tokens[1], m))?;
        let saved = self.macros.insert(name.clone(), tokens[1..].to_vec());
        if let Some(cycle) = self.cycle(&name, &mut Vec::new()) {
            match saved {
                Some(s) => {
                    self.macros.insert(name.clone(), s);
                }
                None => {
                    self.macros.remove(&name);
                }
            }
            return Err(err_at(
                &tokens[1],
                format!("macro expansion cycle discovered: {}", cycle.join(" -> ")),
            ));
        }
        Ok(())
    }

    fn cycle(&self, macro_name: &str, previous: &mut Vec<String>) -> Option<Vec<String>> {
        let repl = self.macros.get(macro_name)?;
        if !previous.is_empty() && macro_name == previous[0] {
            let mut found = previous.clone();
            found.push(macro_name.to_string());
            return Some(found);
        }
        if previous.len() > 1000 {
            return None;
        }
        for t in &repl[1..] {
            previous.push(macro_name.to_string());
            let found = self.cycle(&t.s, previous);
            previous.pop();
            if found.is_some() {
                return found;
            }
        }
        None
    }

    pub(super) fn recheck_macro_names(&mut self) -> bool {
        let mut ok = true;
        let names: Vec<String> = self.macros.keys().cloned().collect();
        for n in names {
            if let Err(m) = self.check_macro_name(&n, self.version) {
                let t = self.macros[&n][0].clone();
                self.record(err_at(&t, m));
                self.macros.remove(&n);
                ok = false;
            }
        }
        ok
    }

    fn check_macro_name(&self, name: &str, version: u64) -> Result<(), String> {
        const OTHER: &str = "+-*/^%&|~!><=?_";
        let chars: Vec<char> = name.chars().collect();
        for &c in &chars {
            if !c.is_alphanumeric() && !OTHER.contains(c) {
                return Err(format!("{c} character not allowed in macro name"));
            }
        }
        if chars.first().is_some_and(|c| c.is_numeric()) {
            return Err(format!("Cannot begin macro name with number: {name}"));
        }
        if chars.len() > 1 && (chars[0] == '-' || chars[0] == '+') && chars[1].is_numeric() {
            return Err(format!("Cannot begin macro name with number: {name}"));
        }
        if matches!(name, "b64" | "base64" | "b32" | "base32") {
            return Err(format!("Cannot use {name} as macro name"));
        }
        if fields::TXN_TYPE_NAMES.contains(&name)
            || fields::TXN_TYPE_DESCRIPTIONS.contains(&name)
            || fields::ON_COMPLETION_NAMES.contains(&name)
        {
            return Err(format!("Named constants cannot be used as macro names: {name}"));
        }
        if is_pseudo_name(name) {
            return Err(format!("Macro names cannot be pseudo-ops: {name}"));
        }
        if version != NO_VERSION {
            let v = u8::try_from(version).unwrap_or(u8::MAX);
            if opcodes::lookup(name, v).is_some() {
                return Err(format!("Macro names cannot be opcodes: {name}"));
            }
            let mut seen = HashSet::new();
            for s in opcodes::OPS.iter().filter(|s| s.version <= v.max(1)) {
                for imm in s.immediates {
                    if let Some(g) = imm.group
                        && seen.insert(g)
                        && g.names().contains(&name)
                    {
                        return Err(format!("Macro names cannot be field names: {name}"));
                    }
                }
            }
        }
        if self.labels.contains_key(name) {
            return Err(format!("Labels cannot be used as macro names: {name}"));
        }
        Ok(())
    }
}
