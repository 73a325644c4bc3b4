//! Encoding of each op: the `int byte addr method` pseudo-ops, the push ops,
//! immediates (fields, byte-sized values, int8, constant lists, labels) and
//! the ops with special rules (`intcblock bytecblock intc bytec arg switch
//! match substring itxn gitxn itxn_field`).

use super::{
    AsmResult, BACK_BRANCH_VERSION, OpStream, join_ints_on_or, pseudo_qualified, pseudo_variants,
};
use crate::asm::LineError;
use crate::asm::lexer::{Token, err_after, err_at};
use crate::asm::literals::{
    byte_imm, decode_address, parse_binary_args, parse_int8, parse_string_literal, parse_uint_base0,
};
use crate::asm::write_varuint;
use crate::fields;
use crate::opcodes::{self, ImmKind, OpSpec};

impl OpStream {
    fn check_arg_count(
        &self,
        name: &str,
        mnemonic: &Token,
        args: &[Token],
        expected: usize,
    ) -> AsmResult {
        if args.len() == expected {
            return Ok(());
        }
        let msg = if expected == 1 {
            format!("{name} expects 1 immediate argument")
        } else {
            format!("{name} expects {expected} immediate arguments")
        };
        if args.len() > expected {
            Err(err_at(&args[expected], msg))
        } else {
            let last = args.last().unwrap_or(mnemonic);
            Err(err_after(last, msg))
        }
    }

    pub(super) fn asm_int(&mut self, mnemonic: &Token, args: &[Token]) -> AsmResult {
        self.check_arg_count("int", mnemonic, args, 1)?;
        if (self.cnt_intc_block > 0 && self.version >= BACK_BRANCH_VERSION)
            || (self.cnt_intc_block > 1 && self.has_op("pushint"))
        {
            return self.asm_push_int(self.op("pushint"), "int", mnemonic, args);
        }
        if self.cnt_intc_block > 1 {
            return Err(err_at(
                mnemonic,
                format!("int {} used with manual intcblocks. Use intc.", args[0].s),
            ));
        }
        let val = match fields::named_int_constant(&args[0].s) {
            Some(v) => v,
            None => parse_uint_base0(&args[0].s).ok_or_else(|| {
                err_at(&args[0], format!("unable to parse \"{}\" as integer", args[0].s))
            })?,
        };
        self.int_literal(val).map_err(|m| err_at(&args[0], m))
    }

    pub(super) fn asm_byte(&mut self, mnemonic: &Token, args: &[Token]) -> AsmResult {
        if args.is_empty() {
            return Err(err_after(mnemonic, "byte needs byte literal argument"));
        }
        if (self.cnt_bytec_block > 0 && self.version >= BACK_BRANCH_VERSION)
            || (self.cnt_bytec_block > 1 && self.has_op("pushbytes"))
        {
            return self.asm_push_bytes(self.op("pushbytes"), "byte", mnemonic, args);
        }
        if self.cnt_bytec_block > 1 {
            return Err(err_at(
                &args[0],
                format!("byte {} used with manual bytecblocks. Use bytec.", args[0].s),
            ));
        }
        let (val, consumed) =
            parse_binary_args(args).map_err(|(i, m)| err_at(&args[i], format!("byte {m}")))?;
        if consumed != args.len() {
            return Err(err_at(&args[consumed], "byte with extraneous argument"));
        }
        self.byte_literal(val).map_err(|m| err_at(&args[0], m))
    }

    pub(super) fn asm_addr(&mut self, mnemonic: &Token, args: &[Token]) -> AsmResult {
        self.check_arg_count("addr", mnemonic, args, 1)?;
        let a = decode_address(&args[0].s).map_err(|m| err_at(&args[0], m))?;
        self.byte_literal(a.to_vec()).map_err(|m| err_at(&args[0], m))
    }

    pub(super) fn asm_method(&mut self, mnemonic: &Token, args: &[Token]) -> AsmResult {
        self.check_arg_count("method", mnemonic, args, 1)?;
        let arg = &args[0].s;
        if arg.len() > 1 && arg.starts_with('"') && arg.ends_with('"') {
            let sig = parse_string_literal(arg).map_err(|m| err_at(&args[0], m))?;
            let sel = bitfox_domain::protocol::selector(&sig);
            return self.byte_literal(sel.to_vec()).map_err(|m| err_at(&args[0], m));
        }
        Err(err_at(&args[0], "unable to parse method signature"))
    }

    fn asm_push_int(
        &mut self,
        spec: &OpSpec,
        name: &str,
        mnemonic: &Token,
        args: &[Token],
    ) -> AsmResult {
        self.check_arg_count(name, mnemonic, args, 1)?;
        let v = parse_uint_base0(&args[0].s).ok_or_else(|| {
            err_at(&args[0], format!("unable to parse \"{}\" as integer", args[0].s))
        })?;
        self.pending.push(spec.opcode);
        write_varuint(&mut self.pending, v);
        Ok(())
    }

    fn asm_push_bytes(
        &mut self,
        spec: &OpSpec,
        name: &str,
        mnemonic: &Token,
        args: &[Token],
    ) -> AsmResult {
        if args.is_empty() {
            return Err(err_after(mnemonic, format!("{name} needs byte literal argument")));
        }
        let (val, consumed) =
            parse_binary_args(args).map_err(|(i, m)| err_at(&args[i], format!("{name} {m}")))?;
        if consumed != args.len() {
            return Err(err_at(&args[consumed], format!("{name} with extraneous argument")));
        }
        self.pending.push(spec.opcode);
        write_varuint(&mut self.pending, val.len() as u64);
        self.pending.extend_from_slice(&val);
        Ok(())
    }

    fn asm_int_imm_args(&mut self, args: &[Token]) -> Vec<u64> {
        write_varuint(&mut self.pending, args.len() as u64);
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            let v = match parse_uint_base0(&a.s) {
                Some(v) => v,
                None => {
                    self.record(err_at(a, format!("unable to parse \"{}\" as integer", a.s)));
                    0
                }
            };
            write_varuint(&mut self.pending, v);
            vals.push(v);
        }
        vals
    }

    fn asm_byte_imm_args(&mut self, name: &str, args: &[Token]) -> Result<Vec<Vec<u8>>, LineError> {
        let mut vals = Vec::new();
        let mut rest = args;
        while !rest.is_empty() {
            let (v, consumed) = parse_binary_args(rest)
                .map_err(|(_, m)| err_at(&rest[0], format!("{name} {m}")))?;
            vals.push(v);
            rest = &rest[consumed..];
        }
        write_varuint(&mut self.pending, vals.len() as u64);
        for v in &vals {
            write_varuint(&mut self.pending, v.len() as u64);
            self.pending.extend_from_slice(v);
        }
        Ok(vals)
    }

    pub(super) fn asm_spec(
        &mut self,
        spec: &'static OpSpec,
        name: &str,
        mnemonic: &Token,
        args: &[Token],
    ) -> AsmResult {
        match spec.name {
            "intcblock" => {
                self.pending.push(spec.opcode);
                let vals = self.asm_int_imm_args(args);
                if !self.known.deadcode {
                    if self.has_pseudo_int {
                        return Err(err_at(mnemonic, "intcblock following int"));
                    }
                    self.intc_refs.clear();
                    self.intc = vals;
                    self.cnt_intc_block += 1;
                }
                Ok(())
            }
            "bytecblock" => {
                self.pending.push(spec.opcode);
                let vals = self.asm_byte_imm_args(spec.name, args)?;
                if !self.known.deadcode {
                    if self.has_pseudo_byte {
                        return Err(err_at(mnemonic, "bytecblock following byte/addr/method"));
                    }
                    self.bytec_refs.clear();
                    self.bytec = vals;
                    self.cnt_bytec_block += 1;
                }
                Ok(())
            }
            "intc" | "bytec" => {
                self.check_arg_count(spec.name, mnemonic, args, 1)?;
                let idx = byte_imm(&args[0].s, "constant").map_err(|m| err_at(&args[0], m))?;
                let r = if spec.name == "intc" {
                    self.write_intc(idx as usize)
                } else {
                    self.write_bytec(idx as usize)
                };
                r.map_err(|m| err_at(&args[0], m))
            }
            "arg" => {
                self.check_arg_count(spec.name, mnemonic, args, 1)?;
                let v = byte_imm(&args[0].s, "argument").map_err(|m| err_at(&args[0], m))?;
                if v < 4 {
                    let alt = self.op(&format!("arg_{v}"));
                    return self.asm_default(alt, alt.name, mnemonic, &[]);
                }
                self.asm_default(spec, name, mnemonic, args)
            }
            "pushint" => self.asm_push_int(spec, spec.name, mnemonic, args),
            "pushbytes" => self.asm_push_bytes(spec, spec.name, mnemonic, args),
            "pushints" => {
                self.pending.push(spec.opcode);
                self.asm_int_imm_args(args);
                Ok(())
            }
            "pushbytess" => {
                self.pending.push(spec.opcode);
                self.asm_byte_imm_args(spec.name, args).map(|_| ())
            }
            "bnz" | "bz" | "b" | "callsub" => {
                self.check_arg_count(spec.name, mnemonic, args, 1)?;
                let p = self.pending.len();
                self.add_label_ref(p + 1, &args[0], p + 3);
                self.pending.extend_from_slice(&[spec.opcode, 0, 0]);
                Ok(())
            }
            "switch" | "match" => {
                if args.len() > 255 {
                    return Err(err_at(
                        &args[255],
                        format!("{} cannot take more than 255 labels", spec.name),
                    ));
                }
                self.pending.push(spec.opcode);
                self.pending.push(args.len() as u8);
                let end = self.pending.len() + 2 * args.len();
                for a in args {
                    let p = self.pending.len();
                    self.add_label_ref(p, a, end);
                    self.pending.extend_from_slice(&[0, 0]);
                }
                Ok(())
            }
            "substring" => {
                self.asm_default(spec, name, mnemonic, args)?;
                let s = parse_uint_base0(&args[0].s).unwrap_or(0);
                let e = parse_uint_base0(&args[1].s).unwrap_or(0);
                if e < s {
                    return Err(err_at(&args[0], "substring end is before start"));
                }
                Ok(())
            }
            "itxn" => match args.len() {
                1 => self.asm_default(spec, name, mnemonic, args),
                2 => {
                    let alt = self.op("itxna");
                    self.asm_default(alt, alt.name, mnemonic, args)
                }
                _ => Err(err_at(
                    mnemonic,
                    format!("{} expects 1 or 2 immediate arguments", spec.name),
                )),
            },
            "gitxn" => match args.len() {
                2 => self.asm_default(spec, name, mnemonic, args),
                3 => {
                    let alt = self.op("gitxna");
                    self.asm_default(alt, alt.name, mnemonic, args)
                }
                _ => Err(err_at(
                    mnemonic,
                    format!("{} expects 2 or 3 immediate arguments", spec.name),
                )),
            },
            "itxn_field" => {
                self.check_arg_count(spec.name, mnemonic, args, 1)?;
                let f = &args[0].s;
                let (value, tf) = fields::txn_field(f).ok_or_else(|| {
                    err_at(&args[0], format!("{} unknown field: \"{f}\"", spec.name))
                })?;
                if tf.itxn_version == 0 {
                    return Err(err_at(&args[0], format!("{} \"{f}\" is not allowed.", spec.name)));
                }
                if tf.itxn_version as u64 > self.version {
                    return Err(err_at(
                        &args[0],
                        format!(
                            "{} {f} field was introduced in v{}. Missed #pragma version?",
                            spec.name, tf.itxn_version
                        ),
                    ));
                }
                self.pending.push(spec.opcode);
                self.pending.push(value);
                Ok(())
            }
            _ => self.asm_default(spec, name, mnemonic, args),
        }
    }

    fn asm_default(
        &mut self,
        spec: &'static OpSpec,
        name: &str,
        mnemonic: &Token,
        args: &[Token],
    ) -> AsmResult {
        self.check_arg_count(name, mnemonic, args, spec.immediates.len())?;
        self.pending.push(spec.opcode);
        for (i, imm) in spec.immediates.iter().enumerate() {
            let a = &args[i];
            match imm.kind {
                ImmKind::Uint8 => match imm.group {
                    Some(group) => {
                        let Some(fi) = group.lookup(&a.s) else {
                            return Err(err_at(a, self.field_complaint(spec, name, args, i)));
                        };
                        let ft = opcodes::stack_type(fi.ty);
                        if ft.typed() {
                            self.returns(spec, ft);
                        }
                        if fi.version as u64 > self.version {
                            return Err(err_at(
                                a,
                                format!(
                                    "{name} {} field was introduced in v{}. Missed #pragma version?",
                                    a.s, fi.version
                                ),
                            ));
                        }
                        self.pending.push(fi.value);
                    }
                    None => {
                        let v = match byte_imm(&a.s, imm.name) {
                            Ok(v) => v,
                            Err(m) => {
                                let other = spec
                                    .immediates
                                    .iter()
                                    .enumerate()
                                    .filter(|(_, o)| {
                                        o.group.is_some_and(|g| g.lookup(&a.s).is_some())
                                    })
                                    .map(|(j, _)| (j + 1).to_string())
                                    .collect::<Vec<_>>();
                                if m.contains("unable to parse") && !other.is_empty() {
                                    let qualified = pseudo_qualified(name, args.len());
                                    let msg = format!(
                                        "{qualified} can only use \"{}\" as immediate {}",
                                        a.s,
                                        other.join(" or ")
                                    );
                                    return Err(err_at(a, msg));
                                }
                                return Err(err_at(a, format!("{name} {m}")));
                            }
                        };
                        self.pending.push(v);
                    }
                },
                ImmKind::Int8 => {
                    let v = parse_int8(&a.s).ok_or_else(|| {
                        err_at(
                            a,
                            format!("{name} unable to parse {} \"{}\" as int8", imm.name, a.s),
                        )
                    })?;
                    self.pending.push(v as u8);
                }
                other => {
                    return Err(err_at(a, format!("unable to assemble immediate kind {other:?}")));
                }
            }
        }
        Ok(())
    }

    fn field_complaint(&self, spec: &OpSpec, name: &str, args: &[Token], i: usize) -> String {
        let f = &args[i].s;
        if byte_imm(f, "").is_ok() {
            let others: Vec<String> = spec
                .immediates
                .iter()
                .enumerate()
                .filter(|(_, o)| o.kind == ImmKind::Uint8 && o.group.is_none())
                .map(|(j, _)| (j + 1).to_string())
                .collect();
            if !others.is_empty() {
                let qualified = pseudo_qualified(name, args.len());
                return format!(
                    "{qualified} can only use \"{f}\" as immediate {}",
                    others.join(" or ")
                );
            }
        }
        if let Some(variants) = pseudo_variants(name) {
            let mut counts = Vec::new();
            for (n, real) in variants {
                if let Some(s) = opcodes::lookup(real, opcodes::MAX_VERSION)
                    && s.immediates.iter().any(|im| im.group.is_some_and(|g| g.lookup(f).is_some()))
                {
                    counts.push(*n);
                }
            }
            if !counts.is_empty() {
                return format!(
                    "\"{f}\" field of {name} can only be used with {}",
                    join_ints_on_or("immediate", &counts)
                );
            }
        }
        format!("{name} unknown field: \"{f}\"")
    }
}
