//! Hashes (`sha256 keccak256 sha512_256 sha3_256`) and signature checks
//! (`ed25519verify ed25519verify_bare`).

use sha2::{Digest, Sha256, Sha512_256};

use super::{Machine, OpResult, bool_v};
use crate::eval::host::Value;

impl Machine<'_> {
    /// Runs a hash or signature opcode.
    pub(super) fn exec_crypto(&mut self, op: u8) -> OpResult {
        match op {
            0x01 => self.hash(0),
            0x02 => self.hash(2),
            0x03 => self.hash(1),
            0x04 => self.ed25519verify(),
            0x84 => self.ed25519verify_bare(),
            0x98 => self.hash(3),
            _ => unreachable!("opcode 0x{op:02x} is not in the crypto family"),
        }
    }

    fn hash(&mut self, which: u8) -> OpResult {
        let data = self.pop_bytes();
        let out: Vec<u8> = match which {
            0 => Sha256::digest(&data).to_vec(),
            1 => Sha512_256::digest(&data).to_vec(),
            2 => sha3::Keccak256::digest(&data).to_vec(),
            _ => sha3::Sha3_256::digest(&data).to_vec(),
        };
        self.push(Value::Bytes(out));
        Ok(())
    }

    fn ed25519verify(&mut self) -> OpResult {
        let pk = self.pop_bytes();
        let sig = self.pop_bytes();
        let data = self.pop_bytes();
        let program = self.program;
        let mut h = Sha512_256::new();
        h.update(b"Program");
        h.update(program);
        let mut msg = b"ProgData".to_vec();
        msg.extend_from_slice(&h.finalize());
        msg.extend_from_slice(&data);
        let ok = verify_ed25519(&pk, &sig, &msg)?;
        self.push(bool_v(ok));
        Ok(())
    }

    fn ed25519verify_bare(&mut self) -> OpResult {
        let pk = self.pop_bytes();
        let sig = self.pop_bytes();
        let data = self.pop_bytes();
        let ok = verify_ed25519(&pk, &sig, &data)?;
        self.push(bool_v(ok));
        Ok(())
    }
}

fn verify_ed25519(pk: &[u8], sig: &[u8], msg: &[u8]) -> Result<bool, String> {
    let pk: [u8; 32] = pk.try_into().map_err(|_| "invalid public key".to_string())?;
    let sig: [u8; 64] = sig.try_into().map_err(|_| "invalid signature".to_string())?;
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&pk) else {
        return Ok(false);
    };
    let sig = ed25519_dalek::Signature::from_bytes(&sig);
    Ok(key.verify_strict(msg, &sig).is_ok())
}
