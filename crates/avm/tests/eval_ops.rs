//! Unit tests of the evaluator, per opcode family, on programs assembled by
//! the crate's own assembler and run against the in-memory test host.
//! (The go-algorand differential vectors live in `eval_vectors.rs`.)

use bitfox_avm::eval::testing::TestHost;
use bitfox_avm::eval::{
    BoxRef, Delta, EvalError, Globals, GroupContext, Outcome, Txn, TxnType, Value, app_address,
    eval_app,
};

const APP: u64 = 1000;
const SENDER: [u8; 32] = [7; 32];
const OTHER: [u8; 32] = [9; 32];

struct Setup {
    host: TestHost,
    txn: Txn,
    pad: usize,
}

impl Setup {
    fn new() -> Setup {
        let mut host = TestHost::with_app(APP, SENDER, 4, 4);
        host.fund(SENDER, 10_000_000);
        let txn = Txn {
            sender: SENDER,
            fee: 1000,
            first_valid: 1,
            last_valid: 1000,
            ty: TxnType::Appl,
            application_id: APP,
            ..Txn::default()
        };
        Setup { host, txn, pad: 0 }
    }

    fn run(&mut self, body: &str) -> Result<Outcome, EvalError> {
        let src = format!("#pragma version 9\n#pragma typetrack false\n{body}\n");
        let program = bitfox_avm::assemble(&src).expect("assembles").bytecode;
        let mut txns = vec![self.txn.clone()];
        for _ in 0..self.pad {
            txns.push(Txn { ty: TxnType::Appl, application_id: 900, fee: 1000, ..Txn::default() });
        }
        let mut cx = GroupContext::new(txns, Globals::default());
        eval_app(&program, 0, APP, &mut cx, &mut self.host)
    }
}

fn run(body: &str) -> Result<Outcome, EvalError> {
    Setup::new().run(body)
}

/// Runs `body` (which must leave exactly one value) and returns that value.
fn value(body: &str) -> Value {
    let out = run(&format!("{body}\nstore 0\nint 1")).expect("runs");
    assert!(out.pass);
    out.scratch[0].clone()
}

fn uint(body: &str) -> u64 {
    match value(body) {
        Value::Uint(u) => u,
        v => panic!("expected uint, got {v:?}"),
    }
}

fn bytes(body: &str) -> Vec<u8> {
    match value(body) {
        Value::Bytes(b) => b,
        v => panic!("expected bytes, got {v:?}"),
    }
}

/// Asserts that `body` fails at opcode `op` with a message containing `msg`.
fn fails(body: &str, op: &str, msg: &str) {
    match run(body) {
        Err(e) => {
            assert_eq!(e.opcode, op, "wrong opcode in {e}");
            assert!(e.message.contains(msg), "{e} does not mention {msg:?}");
        }
        Ok(o) => panic!("{body:?} should fail, got {o:?}"),
    }
}

// ----- integer arithmetic ----------------------------------------------------

#[test]
fn integer_overflow_panics() {
    fails("int 18446744073709551615\nint 1\n+", "+", "+ overflowed");
    fails("int 1\nint 2\n-", "-", "- would result negative");
    fails("int 4294967296\nint 4294967296\n*", "*", "* overflowed");
    fails("int 1\nint 0\n/", "/", "/ 0");
    fails("int 1\nint 0\n%", "%", "% 0");
    assert_eq!(uint("int 18446744073709551614\nint 1\n+"), u64::MAX);
    assert_eq!(uint("int 17\nint 5\n%"), 2);
}

#[test]
fn exp_rules() {
    fails("int 0\nint 0\nexp", "exp", "0^0 is undefined");
    assert_eq!(uint("int 0\nint 5\nexp"), 0);
    assert_eq!(uint("int 7\nint 0\nexp"), 1);
    assert_eq!(uint("int 1\nint 1000\nexp"), 1);
    assert_eq!(uint("int 2\nint 63\nexp"), 1 << 63);
    fails("int 2\nint 64\nexp", "exp", "2^64 overflow");
    fails("int 3\nint 41\nexp", "exp", "overflow");
}

#[test]
fn wide_arithmetic() {
    let out =
        run("int 18446744073709551615\nint 18446744073709551615\nmulw\nstore 1\nstore 0\nint 1")
            .unwrap();
    assert_eq!(out.scratch[0], Value::Uint(u64::MAX - 1));
    assert_eq!(out.scratch[1], Value::Uint(1));
    let out = run("int 18446744073709551615\nint 2\naddw\nstore 1\nstore 0\nint 1").unwrap();
    assert_eq!((out.scratch[0].clone(), out.scratch[1].clone()), (Value::Uint(1), Value::Uint(1)));
    // (2^64 + 5) / (0*2^64 + 2) = 2^63 + 2 rem 1
    let out = run("int 1\nint 5\nint 0\nint 2\ndivmodw\nstore 3\nstore 2\nstore 1\nstore 0\nint 1")
        .unwrap();
    let s = &out.scratch;
    assert_eq!(
        [&s[0], &s[1], &s[2], &s[3]],
        [&Value::Uint(0), &Value::Uint((1 << 63) + 2), &Value::Uint(0), &Value::Uint(1)]
    );
    fails("int 1\nint 1\nint 0\nint 0\ndivmodw", "divmodw", "/ 0");
    // expw: 2^127 fits, 2^128 does not
    let out = run("int 2\nint 127\nexpw\nstore 1\nstore 0\nint 1").unwrap();
    assert_eq!(
        (out.scratch[0].clone(), out.scratch[1].clone()),
        (Value::Uint(1 << 63), Value::Uint(0))
    );
    fails("int 2\nint 128\nexpw", "expw", "overflow");
    fails("int 0\nint 0\nexpw", "expw", "0^0");
    assert_eq!(uint("int 1\nint 0\nint 2\ndivw"), 1 << 63);
    fails("int 2\nint 0\nint 2\ndivw", "divw", "divw overflow");
    fails("int 0\nint 0\nint 0\ndivw", "divw", "divw 0");
}

#[test]
fn shifts_sqrt_bitlen() {
    assert_eq!(uint("int 1\nint 63\nshl"), 1 << 63);
    fails("int 1\nint 64\nshl", "shl", "shl arg too big");
    fails("int 1\nint 64\nshr", "shr", "shr arg too big");
    assert_eq!(uint("int 18446744073709551615\nsqrt"), 4_294_967_295);
    assert_eq!(uint("int 15\nsqrt"), 3);
    assert_eq!(uint("int 0\nbitlen"), 0);
    assert_eq!(uint("int 256\nbitlen"), 9);
    assert_eq!(uint("byte 0x0001ff\nbitlen"), 9);
    assert_eq!(uint("byte 0x0000\nbitlen"), 0);
}

// ----- bytes -------------------------------------------------------------------

#[test]
fn substring_bounds() {
    assert_eq!(bytes("byte 0x0102030405\nsubstring 1 3"), vec![2, 3]);
    assert_eq!(bytes("byte 0x0102\nsubstring 2 2"), Vec::<u8>::new());
    fails("byte 0x0102\nsubstring 1 3", "substring", "beyond length");
    fails("byte 0x0102\nint 2\nint 1\nsubstring3", "substring3", "end before start");
    fails("byte 0x0102\nint 0\nint 4294967296\nsubstring3", "substring3", "beyond length");
}

#[test]
fn extract_family() {
    // length 0 means "to the end"
    assert_eq!(bytes("byte 0x0102030405\nextract 2 0"), vec![3, 4, 5]);
    assert_eq!(bytes("byte 0x0102\nextract 2 0"), Vec::<u8>::new());
    fails("byte 0x0102\nextract 3 0", "extract", "extraction start 3 is beyond length: 2");
    fails("byte 0x0102\nint 1\nint 2\nextract3", "extract3", "extraction end 3");
    fails("byte 0x0102\nint 1\nint 18446744073709551615\nextract3", "extract3", "exceeds uint64");
    assert_eq!(uint("byte 0x00010203\nint 1\nextract_uint16"), 0x0102);
    assert_eq!(uint("byte 0x0001020304\nint 1\nextract_uint32"), 0x0102_0304);
    fails("byte 0x01020304\nint 0\nextract_uint64", "extract_uint64", "beyond length");
    assert_eq!(bytes("byte 0x01020304\nbyte 0xaabb\nreplace2 1"), vec![1, 0xaa, 0xbb, 4]);
    fails("byte 0x0102\nint 1\nbyte 0xaabb\nreplace3", "replace3", "replacement end 3");
}

#[test]
fn bits_and_bytes() {
    // setbit on a uint counts from the least significant bit...
    assert_eq!(uint("int 0\nint 3\nint 1\nsetbit"), 8);
    // ...on bytes from the most significant bit of the first byte.
    assert_eq!(bytes("byte 0x0000\nint 3\nint 1\nsetbit"), vec![0x10, 0]);
    assert_eq!(uint("byte 0x10\nint 3\ngetbit"), 1);
    assert_eq!(uint("int 8\nint 3\ngetbit"), 1);
    fails("int 0\nint 64\nint 1\nsetbit", "setbit", "setbit index > 63");
    fails("byte 0x00\nint 8\nint 1\nsetbit", "setbit", "beyond byteslice");
    fails("int 0\nint 1\nint 2\nsetbit", "setbit", "setbit value > 1");
    assert_eq!(bytes("byte 0x0000\nint 1\nint 255\nsetbyte"), vec![0, 255]);
    fails("byte 0x0000\nint 1\nint 256\nsetbyte", "setbyte", "> 255");
    assert_eq!(uint("byte 0x0a0b\nint 1\ngetbyte"), 11);
    assert_eq!(uint("byte 0x0000000000000102\nbtoi"), 258);
    fails("byte 0x000000000000000001\nbtoi", "btoi", "btoi arg too long");
    assert_eq!(bytes("int 258\nitob"), vec![0, 0, 0, 0, 0, 0, 1, 2]);
    fails("int 4097\nbzero", "bzero", "too large");
    fails("int 4096\nbzero\nbyte 0x00\nconcat", "concat", "too big (4097)");
}

#[test]
fn byte_math() {
    assert_eq!(bytes("byte 0xff\nbyte 0x01\nb+"), vec![1, 0]);
    // 64-byte operands are allowed, 65 are not; results may be 65 bytes.
    let max = "int 64\nbzero\nb~";
    assert_eq!(bytes(&format!("{max}\n{max}\nb+")).len(), 65);
    fails("int 65\nbzero\nbyte 0x01\nb+", "b+", "math attempted on large byte-array");
    fails("byte 0x01\nint 65\nbzero\nb==", "b==", "large byte-array");
    assert_eq!(bytes(&format!("{max}\n{max}\nb*")).len(), 128);
    fails("byte 0x01\nbyte 0x02\nb-", "b-", "byte math would have negative result");
    assert_eq!(bytes("byte 0x05\nbyte 0x05\nb-"), Vec::<u8>::new());
    fails("byte 0x01\nbyte 0x\nb/", "b/", "division by zero");
    fails("byte 0x01\nbyte 0x0000\nb%", "b%", "modulo by zero");
    assert_eq!(bytes("byte 0x0100\nbyte 0x03\nb%"), vec![1]);
    assert_eq!(bytes("byte 0x0100\nbsqrt"), vec![16]);
    assert_eq!(bytes("byte 0x\nbsqrt"), Vec::<u8>::new());
    assert_eq!(uint("byte 0x0001\nbyte 0x01\nb=="), 1);
    assert_eq!(uint("byte 0x0002\nbyte 0x01\nb>"), 1);
    assert_eq!(uint("byte 0x00\nbyte 0x\nb<="), 1);
    assert_eq!(bytes("byte 0x0f\nbyte 0xf000\nb|"), vec![0xf0, 0x0f]);
    assert_eq!(bytes("byte 0x00ff\nb~"), vec![0xff, 0]);
}

#[test]
fn hashes_and_base64() {
    let h = bytes("byte \"\"\nsha256");
    assert_eq!(h[..4], [0xe3, 0xb0, 0xc4, 0x42]);
    let k = bytes("byte \"\"\nkeccak256");
    assert_eq!(k[..4], [0xc5, 0xd2, 0x46, 0x01]);
    let s = bytes("byte \"\"\nsha3_256");
    assert_eq!(s[..4], [0xa7, 0xff, 0xc6, 0xf8]);
    assert_eq!(bytes("byte \"aGk=\"\nbase64_decode StdEncoding"), b"hi".to_vec());
    assert_eq!(bytes("byte \"aGk\"\nbase64_decode URLEncoding"), b"hi".to_vec());
    fails("byte \"aGl=\"\nbase64_decode StdEncoding", "base64_decode", "illegal base64");
}

// ----- flow ----------------------------------------------------------------------

#[test]
fn proto_arity_and_frames() {
    fails("int 1\ncallsub f\nint 1\nreturn\nf:\nproto 2 1\nretsub", "proto", "requires 2 args");
    fails("int 1\nint 2\ncallsub f\nreturn\nf:\nproto 2 1\nretsub", "retsub", "no return values");
    fails(
        "int 1\nint 2\ncallsub f\nreturn\nf:\nproto 2 2\nint 5\nretsub",
        "retsub",
        "1 return values",
    );
    fails("int 1\nproto 0 0", "proto", "without a callsub");
    fails(
        "int 1\ncallsub f\nreturn\nf:\nproto 1 1\nframe_dig -2",
        "frame_dig",
        "in sub with 1 args",
    );
    fails("retsub", "retsub", "empty callstack");
    // frames: args are replaced by the return values
    assert_eq!(
        uint(
            "int 10\nint 3\ncallsub f\nb end\nf:\nproto 2 1\nframe_dig -2\nframe_dig -1\n-\nretsub\nend:"
        ),
        7
    );
}

#[test]
fn switch_and_match() {
    let prog =
        |sel: &str| format!("{sel}\nswitch a b\nint 99\nb end\na:\nint 1\nb end\nb:\nint 2\nend:");
    assert_eq!(uint(&prog("int 0")), 1);
    assert_eq!(uint(&prog("int 1")), 2);
    // out of range falls through to the next instruction
    assert_eq!(uint(&prog("int 2")), 99);
    let m = |v: &str| {
        format!("int 5\nint 6\n{v}\nmatch a b\nint 99\nb end\na:\nint 1\nb end\nb:\nint 2\nend:")
    };
    assert_eq!(uint(&m("int 6")), 2);
    assert_eq!(uint(&m("int 7")), 99);
    // different types never match
    assert_eq!(uint(&m("byte 0x05")), 99);
}

#[test]
fn stack_ops() {
    assert_eq!(uint("int 1\nint 2\nint 3\ncover 2\npop\npop"), 3);
    assert_eq!(uint("int 1\nint 2\nint 3\nuncover 2\nswap\npop\nswap\npop"), 1);
    fails("int 1\nbury 0", "bury", "bury outside stack");
    fails("int 1\ndig 1", "dig", "dig 1 with stack size = 1");
    fails("int 1\ndupn 250\ndupn 250\ndupn 250\ndupn 250", "dupn", "stack overflow");
    fails("int 1\nbyte 0x01\n+", "+", "+ arg 1 wanted uint64 but got []byte");
    fails("int 1\nbyte 0x01\n==", "==", "cannot compare");
    fails("err", "err", "err opcode executed");
    fails("int 0\nassert", "assert", "assert failed");
}

#[test]
fn program_end_conditions() {
    assert!(!run("int 0").unwrap().pass);
    assert!(run("int 1\nint 2").is_err());
    assert!(run("byte 0x01").is_err());
    let e = run("loop:\nb loop").unwrap_err();
    assert!(e.message.contains("dynamic cost budget exceeded"), "{e}");
    assert_eq!(e.pc, 1);
    // pooled budget: two extra app calls give 2100
    let mut s = Setup::new();
    s.pad = 2;
    let out = s.run("global OpcodeBudget\nint 2099\n==").unwrap();
    assert!(out.pass);
}

#[test]
fn costs() {
    assert_eq!(run("int 1").unwrap().cost, 1);
    assert_eq!(run("byte 0x01\nsha256\npop\nint 1").unwrap().cost, 1 + 35 + 1 + 1);
    assert_eq!(run("byte 0x01\nkeccak256\npop\nint 1").unwrap().cost, 1 + 130 + 1 + 1);
    // base64_decode: 1 + 1 per 16 bytes of input
    let out =
        run("byte \"aGVsbG8gd29ybGQgaGVsbG8=\"\nbase64_decode StdEncoding\npop\nint 1").unwrap();
    assert_eq!(out.cost, 1 + (1 + 2) + 1 + 1);
    assert_eq!(run("byte 0x01\nbyte 0x02\nb+\npop\nint 1").unwrap().cost, 1 + 1 + 10 + 1 + 1);
}

#[test]
fn logs_limits() {
    let out = run("byte 0x01\nlog\nbyte 0x0203\nlog\nint 1").unwrap();
    assert_eq!(out.logs, vec![vec![1], vec![2, 3]]);
    fails("int 1025\nbzero\nlog", "log", "program logs too large");
}

#[test]
fn unsupported_opcode_is_named() {
    let e = run("byte \"{}\"\nbyte \"a\"\njson_ref JSONUint64").unwrap_err();
    assert_eq!(e.opcode, "json_ref");
    assert!(e.message.contains("not supported"), "{e}");
}

// ----- state through the host -----------------------------------------------------

#[test]
fn global_state_and_deltas() {
    let mut s = Setup::new();
    s.host.globals.get_mut(&APP).unwrap().insert(b"same".to_vec(), Value::Uint(3));
    s.host.globals.get_mut(&APP).unwrap().insert(b"gone".to_vec(), Value::Uint(4));
    let out = s
        .run("byte \"a\"\nint 5\napp_global_put\nbyte \"same\"\nint 3\napp_global_put\nbyte \"gone\"\napp_global_del\nbyte \"a\"\napp_global_get")
        .unwrap();
    assert!(out.pass);
    assert_eq!(out.global_delta.get(b"a".as_slice()), Some(&Delta::Set(Value::Uint(5))));
    assert_eq!(out.global_delta.get(b"gone".as_slice()), Some(&Delta::Delete));
    assert!(!out.global_delta.contains_key(b"same".as_slice()));
    let mut s = Setup::new();
    s.host.apps.get_mut(&APP).unwrap().global_num_uint = 1;
    let e = s
        .run("byte \"a\"\nint 1\napp_global_put\nbyte \"b\"\nint 1\napp_global_put\nint 1")
        .unwrap_err();
    assert!(e.message.contains("exceeds schema integer count 1"), "{e}");
}

#[test]
fn local_state() {
    let mut s = Setup::new();
    s.host.apps.get_mut(&APP).unwrap().local_num_uint = 2;
    s.host.locals.insert((SENDER, APP), Default::default());
    let out = s
        .run("txn Sender\nbyte \"n\"\nint 9\napp_local_put\nint 0\nbyte \"n\"\napp_local_get\nint 9\n==")
        .unwrap();
    assert!(out.pass);
    assert_eq!(
        out.local_deltas.get(&SENDER).and_then(|d| d.get(b"n".as_slice())),
        Some(&Delta::Set(Value::Uint(9)))
    );
    // not opted in
    let e = Setup::new().run("txn Sender\nbyte \"n\"\nint 9\napp_local_put\nint 1").unwrap_err();
    assert!(e.message.contains("not opted in"), "{e}");
}

#[test]
fn balances_and_accounts() {
    let mut s = Setup::new();
    s.host.fund(app_address(APP), 777);
    s.txn.accounts = vec![OTHER];
    s.host.fund(OTHER, 555);
    assert!(s.run("global CurrentApplicationAddress\nbalance\nint 777\n==").unwrap().pass);
    // v9: an account may be named by index or address
    assert!(s.run("int 1\nbalance\nint 555\n==").unwrap().pass);
    assert!(s.run("txna Accounts 1\nbalance\nint 555\n==").unwrap().pass);
    let e = s.run("int 2\nbalance").unwrap_err();
    assert!(e.message.contains("invalid Account reference 2"), "{e}");
}

#[test]
fn boxes() {
    let mut s = Setup::new();
    s.txn.boxes = vec![BoxRef { index: 0, name: b"b".to_vec() }];
    let out = s
        .run("byte \"b\"\nint 4\nbox_create\nassert\nbyte \"b\"\nint 1\nbyte 0xffff\nbox_replace\nbyte \"b\"\nbox_get\nassert\nbyte 0x00ffff00\n==")
        .unwrap();
    assert!(out.pass);
    assert_eq!(s.host.boxes.get(&(APP, b"b".to_vec())), Some(&vec![0, 0xff, 0xff, 0]));
    let e = s.run("byte \"c\"\nint 4\nbox_create").unwrap_err();
    assert!(e.message.contains("invalid Box reference"), "{e}");
    let e = s.run("byte \"b\"\nint 2000\nbox_create").unwrap_err();
    assert!(e.message.contains("box size mismatch"), "{e}");
}

#[test]
fn inner_payment() {
    let mut s = Setup::new();
    s.host.fund(app_address(APP), 1_000_000);
    s.host.fund(OTHER, 0);
    s.txn.accounts = vec![OTHER];
    s.txn.fee = 2000; // covers the inner fee
    let out = s
        .run("itxn_begin\nint pay\nitxn_field TypeEnum\nint 1\ntxnas Accounts\nitxn_field Receiver\nint 5000\nitxn_field Amount\nitxn_submit\nitxn Fee")
        .unwrap();
    assert!(!out.pass, "inner fee must be 0 (pooled)");
    assert_eq!(out.inner.len(), 1);
    assert_eq!(out.inner[0].sender, app_address(APP));
    assert_eq!(s.host.accounts[&OTHER].balance, 5000);
    assert_eq!(s.host.accounts[&app_address(APP)].balance, 995_000);
}

#[test]
fn inner_asset_creation() {
    let mut s = Setup::new();
    s.host.fund(app_address(APP), 1_000_000);
    let out = s
        .run("itxn_begin\nint acfg\nitxn_field TypeEnum\nint 100\nitxn_field ConfigAssetTotal\nbyte \"FOX\"\nitxn_field ConfigAssetUnitName\nitxn_submit\nitxn CreatedAssetID\ndup\nstore 0\nasset_params_get AssetTotal\nassert\nint 100\n==")
        .unwrap();
    assert!(out.pass);
    let id = match out.scratch[0] {
        Value::Uint(u) => u,
        _ => panic!(),
    };
    assert_eq!(s.host.assets[&id].unit_name, b"FOX".to_vec());
    // appl inner transactions are refused with a clear error
    let e = s
        .run("itxn_begin\nint appl\nitxn_field TypeEnum\nint 5\nitxn_field ApplicationID")
        .unwrap_err();
    assert!(e.message.contains("not supported"), "{e}");
}

#[test]
fn version_gating() {
    // box_create does not exist before v8
    let program =
        bitfox_avm::assemble("#pragma version 8\nbyte \"b\"\nint 1\nbox_create").unwrap().bytecode;
    let mut patched = program.clone();
    patched[0] = 7;
    let mut s = Setup::new();
    let mut cx = GroupContext::new(vec![s.txn.clone()], Globals::default());
    let e = eval_app(&patched, 0, APP, &mut cx, &mut s.host).unwrap_err();
    assert!(e.message.contains("illegal opcode 0xb9"), "{e}");
    let mut v10 = program;
    v10[0] = 10;
    let e = eval_app(&v10, 0, APP, &mut cx, &mut s.host).unwrap_err();
    assert!(e.message.contains("greater than max supported version 9"), "{e}");
}

// ----- robustness ------------------------------------------------------------------

/// Random and mutated bytecode must fail cleanly, never panic.
#[test]
fn random_bytecode_never_panics() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let base = bitfox_avm::assemble(
        "#pragma version 9\nint 1\nbyte 0x0102\ncallsub f\npop\nb end\nf:\nproto 1 1\nframe_dig -1\nlen\nswitch a b\na:\nint 7\nretsub\nb:\nint 8\nretsub\nend:\nint 3\nint 4\nmatch x y\nx:\ny:\nbyte \"k\"\nint 5\napp_global_put\nint 1\nreturn",
    )
    .unwrap()
    .bytecode;
    for round in 0..20_000 {
        let mut program = if round % 2 == 0 {
            let len = (next() % 40) as usize;
            let mut p = vec![1 + (next() % 9) as u8];
            p.extend((0..len).map(|_| next() as u8));
            p
        } else {
            let mut p = base.clone();
            for _ in 0..1 + next() % 3 {
                let i = 1 + (next() as usize) % (p.len() - 1);
                p[i] = next() as u8;
            }
            p
        };
        if round % 7 == 0 {
            program.truncate(1 + (next() as usize) % program.len());
        }
        let mut s = Setup::new();
        s.txn.boxes = vec![BoxRef { index: 0, name: b"k".to_vec() }];
        let mut cx = GroupContext::new(vec![s.txn.clone()], Globals::default());
        let _ = eval_app(&program, 0, APP, &mut cx, &mut s.host);
    }
}
