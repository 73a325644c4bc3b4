//! Boxes: `box_create box_extract box_replace box_del box_len box_get
//! box_put`, the box references of the group and its box I/O budget.

use super::{
    MAX_BOX_SIZE, MAX_KEY_LEN, Machine, OpResult, bool_v, extract_carefully, hex, replace_carefully,
};
use crate::eval::host::Value;

impl Machine<'_> {
    fn box_arg_check(name: &[u8], size: u64) -> OpResult {
        if name.is_empty() {
            return Err("box names may not be zero length".into());
        }
        if name.len() > MAX_KEY_LEN {
            return Err(format!(
                "name too long: length was {}, maximum is {MAX_KEY_LEN}",
                name.len()
            ));
        }
        if size > MAX_BOX_SIZE {
            return Err(format!("box size too large: {size}, maximum is {MAX_BOX_SIZE}"));
        }
        Ok(())
    }

    /// go's `availableBox`: reference check and write budget accounting.
    fn available_box(
        &mut self,
        name: &[u8],
        op: u8,
        create_size: u64,
    ) -> Result<Option<Vec<u8>>, String> {
        if self.txn().on_completion == 3 {
            return Err("boxes may not be accessed from ClearState program".into());
        }
        let key = (self.app_id, name.to_vec());
        let mut dirty = *self
            .cx
            .boxes
            .get(&key)
            .ok_or_else(|| format!("invalid Box reference 0x{}", hex(name)))?;
        let content = self.host.box_get(self.app_id, name);
        match op {
            // create
            0 if content.is_some() => {
                let len = content.as_ref().map_or(0, Vec::len) as u64;
                if create_size != len {
                    return Err(format!("box size mismatch {len} {create_size}"));
                }
                return Ok(content);
            }
            // create (new) or write
            0 | 1 => {
                let size = content.as_ref().map_or(create_size, |c| c.len() as u64);
                if !dirty {
                    self.cx.dirty_bytes += size;
                }
                dirty = true;
            }
            // delete
            2 => {
                if dirty {
                    self.cx.dirty_bytes = self
                        .cx
                        .dirty_bytes
                        .saturating_sub(content.as_ref().map_or(0, Vec::len) as u64);
                }
                dirty = false;
            }
            _ => {}
        }
        self.cx.boxes.insert(key, dirty);
        if self.cx.dirty_bytes > self.cx.io_budget {
            return Err(format!(
                "write budget ({}) exceeded {}",
                self.cx.io_budget, self.cx.dirty_bytes
            ));
        }
        Ok(content)
    }

    pub(super) fn box_op(&mut self, op: u8) -> OpResult {
        const CREATE: u8 = 0;
        const WRITE: u8 = 1;
        const DELETE: u8 = 2;
        const READ: u8 = 3;
        match op {
            0xb9 => {
                let size = self.pop_uint();
                let name = self.pop_bytes();
                Self::box_arg_check(&name, size)?;
                let existing = self.available_box(&name, CREATE, size)?;
                if existing.is_none() {
                    self.host.box_put(self.app_id, &name, vec![0; size as usize])?;
                }
                self.push(bool_v(existing.is_none()));
                Ok(())
            }
            0xba => {
                let len = self.pop_uint();
                let start = self.pop_uint();
                let name = self.pop_bytes();
                Self::box_arg_check(&name, start.saturating_add(len))?;
                let c = self.available_box(&name, READ, 0)?;
                let c = c.ok_or_else(|| format!("no such box 0x{}", hex(&name)))?;
                let out = extract_carefully(&c, start, len)?;
                self.push(Value::Bytes(out));
                Ok(())
            }
            0xbb => {
                let repl = self.pop_bytes();
                let start = self.pop_uint();
                let name = self.pop_bytes();
                Self::box_arg_check(&name, start.saturating_add(repl.len() as u64))?;
                let c = self.available_box(&name, WRITE, 0)?;
                let c = c.ok_or_else(|| format!("no such box 0x{}", hex(&name)))?;
                let out = replace_carefully(&c, &repl, start)?;
                self.host.box_put(self.app_id, &name, out)
            }
            0xbc => {
                let name = self.pop_bytes();
                Self::box_arg_check(&name, 0)?;
                let c = self.available_box(&name, DELETE, 0)?;
                if c.is_some() {
                    self.host.box_del(self.app_id, &name)?;
                }
                self.push(bool_v(c.is_some()));
                Ok(())
            }
            0xbd | 0xbe => {
                let name = self.pop_bytes();
                Self::box_arg_check(&name, 0)?;
                let c = self.available_box(&name, READ, 0)?;
                let found = c.is_some();
                let c = c.unwrap_or_default();
                if op == 0xbd {
                    self.push(Value::Uint(c.len() as u64));
                } else {
                    self.push(Value::Bytes(c));
                }
                self.push(bool_v(found));
                Ok(())
            }
            _ => {
                let value = self.pop_bytes();
                let name = self.pop_bytes();
                Self::box_arg_check(&name, value.len() as u64)?;
                let c = self.available_box(&name, WRITE, value.len() as u64)?;
                if let Some(c) = c
                    && c.len() != value.len()
                {
                    return Err(format!(
                        "attempt to box_put wrong size {} != {}",
                        c.len(),
                        value.len()
                    ));
                }
                self.host.box_put(self.app_id, &name, value)
            }
        }
    }
}
