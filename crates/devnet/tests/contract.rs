//! The project's own contract (`contracts/bitfox.teal`) on the devnet: assembled by the
//! project's assembler, run by its AVM, a full rental settled with the exact amounts of
//! the domain crate's billing math.

use std::path::PathBuf;

use bitfox_avm::eval::{Value, app_address};
use bitfox_devnet::node::{DevAccount, Node, transaction};
use bitfox_devnet::txn::{AppCall, BoxRef, StateSchema, Transaction, TxnKind, group_id};
use bitfox_domain::billing::{self, FeeBps, PricePerMinute};
use bitfox_domain::{Address, MicroAlgos};
use sha2::{Digest, Sha512_256};

const FEE_BPS: u64 = 250;
const PRICE: u64 = 1_000;
const MINUTES: u64 = 10;
const RENTAL_MBR: u64 = 38_100;
const LISTING_MBR: u64 = 28_500;

fn program(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../contracts").join(name);
    bitfox_avm::assemble(&std::fs::read_to_string(path).unwrap()).unwrap().bytecode
}

fn selector(signature: &str) -> Vec<u8> {
    Sha512_256::digest(signature.as_bytes())[..4].to_vec()
}

fn u64_arg(n: u64) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

fn key(prefix: u8, id: u64) -> Vec<u8> {
    let mut k = vec![prefix];
    k.extend_from_slice(&id.to_be_bytes());
    k
}

struct Chain {
    node: Node,
    notes: u64,
}

impl Chain {
    fn txn(&mut self, from: &DevAccount, fee: u64, kind: TxnKind) -> Transaction {
        self.notes += 1;
        let mut txn = transaction(
            from.address(),
            self.node.round() + 1,
            self.notes.to_be_bytes().to_vec(),
            kind,
        );
        txn.fee = fee;
        txn
    }

    /// Groups, signs (each by its sender's dev account) and submits; returns the last
    /// transaction's return value logs.
    fn submit(&mut self, txns: Vec<(Transaction, &DevAccount)>) -> Result<Vec<Vec<u8>>, String> {
        let mut txns = txns;
        if txns.len() > 1 {
            let ids: Vec<_> = txns.iter().map(|(t, _)| t.id_bytes()).collect();
            let gid = group_id(&ids);
            for (t, _) in &mut txns {
                t.group = Some(gid);
            }
        }
        let bytes: Vec<u8> = txns.iter().flat_map(|(t, k)| k.sign(t.clone()).encode()).collect();
        let first = self.node.submit(&bytes).map_err(|e| e.to_string())?;
        let round = self.node.confirmed(&first).unwrap().round;
        let last = self.node.transactions().iter().rev().find(|t| t.round == round).unwrap();
        Ok(last.apply.logs.clone())
    }

    fn balance(&self, a: &Address) -> u64 {
        self.node.state().account(a).balance
    }
}

fn returned(logs: &[Vec<u8>]) -> Vec<u64> {
    let last = logs.last().expect("a return value");
    assert_eq!(&last[..4], &[0x15, 0x1f, 0x7c, 0x75], "ARC-4 return prefix");
    last[4..].chunks(8).map(|c| u64::from_be_bytes(c.try_into().unwrap())).collect()
}

fn call(app_id: u64, args: Vec<Vec<u8>>, accounts: Vec<Address>, boxes: Vec<Vec<u8>>) -> TxnKind {
    TxnKind::AppCall(AppCall {
        app_id,
        args,
        accounts,
        boxes: boxes.into_iter().map(|name| BoxRef { app_index: 0, name }).collect(),
        ..AppCall::default()
    })
}

/// The group that rents `listing` for [`MINUTES`] minutes as `who`.
fn rent_group<'a>(
    chain: &mut Chain,
    who: &'a DevAccount,
    app_id: u64,
    listing: u64,
) -> Vec<(Transaction, &'a DevAccount)> {
    let app = Address::from_public_key(app_address(app_id));
    let amount = PRICE * MINUTES + RENTAL_MBR;
    let pay =
        chain.txn(who, 1_000, TxnKind::Payment { receiver: Some(app), amount, close_to: None });
    let args = vec![selector("rent(uint64,uint64,pay)uint64"), u64_arg(listing), u64_arg(MINUTES)];
    let boxes = vec![key(b'l', listing), key(b'r', listing)];
    let rent = chain.txn(who, 1_000, call(app_id, args, vec![], boxes));
    vec![(pay, who), (rent, who)]
}

#[test]
fn a_rental_settles_on_the_devnet_with_the_domain_amounts() {
    let mut chain = Chain { node: Node::in_memory(), notes: 0 };
    let (admin, provider, renter, treasury) =
        (DevAccount::new(0), DevAccount::new(1), DevAccount::new(2), DevAccount::new(3));

    // Deploy and fund the app.
    let create = TxnKind::AppCall(AppCall {
        args: vec![
            selector("create(address,uint64)void"),
            treasury.address().public_key().to_vec(),
            u64_arg(FEE_BPS),
        ],
        approval_program: program("bitfox.teal"),
        clear_program: program("clear.teal"),
        global_schema: StateSchema { num_uint: 6, num_byte_slice: 2 },
        extra_pages: 1,
        ..AppCall::default()
    });
    let t = chain.txn(&admin, 1_000, create);
    chain.submit(vec![(t, &admin)]).unwrap();
    let app_id = chain.node.transactions().last().unwrap().apply.application_id;
    let app = Address::from_public_key(app_address(app_id));
    let fund = chain.txn(
        &admin,
        1_000,
        TxnKind::Payment { receiver: Some(app), amount: 100_000, close_to: None },
    );
    chain.submit(vec![(fund, &admin)]).unwrap();

    // The provider lists a GPU.
    let provider_start = chain.balance(&provider.address());
    let mbr = chain.txn(
        &provider,
        1_000,
        TxnKind::Payment { receiver: Some(app), amount: LISTING_MBR, close_to: None },
    );
    let register = chain.txn(
        &provider,
        1_000,
        call(
            app_id,
            vec![selector("register_listing(uint64,uint64,pay)uint64"), u64_arg(PRICE), u64_arg(0)],
            vec![],
            vec![key(b'l', 1)],
        ),
    );
    let listing =
        returned(&chain.submit(vec![(mbr, &provider), (register, &provider)]).unwrap())[0];
    assert_eq!(listing, 1);

    // The renter rents it for ten minutes.
    let renter_start = chain.balance(&renter.address());
    let deposit = PRICE * MINUTES;
    let group = rent_group(&mut chain, &renter, app_id, listing);
    let rental = returned(&chain.submit(group).unwrap())[0];
    let start = chain.node.header(chain.node.round() - 1).unwrap().timestamp;
    // A second rent of the same GPU is refused by the contract.
    let group = rent_group(&mut chain, &admin, app_id, listing);
    assert!(chain.submit(group).is_err());

    // 61 seconds later (a block stamped then makes it the chain's "now"), the renter stops.
    chain.node.set_offset(61);
    let tick = chain.txn(
        &admin,
        1_000,
        TxnKind::Payment { receiver: Some(admin.address()), amount: 0, close_to: None },
    );
    chain.submit(vec![(tick, &admin)]).unwrap();
    let stop = chain.txn(
        &renter,
        3_000,
        call(
            app_id,
            vec![
                selector("stop(uint64,uint64)(uint64,uint64,uint64,uint64)"),
                u64_arg(listing),
                u64_arg(rental),
            ],
            vec![renter.address(), provider.address()],
            vec![key(b'r', listing), key(b'l', listing)],
        ),
    );
    let amounts = returned(&chain.submit(vec![(stop, &renter)]).unwrap());
    let now = chain.node.header(chain.node.round() - 1).unwrap().timestamp;

    let price = PricePerMinute::new(PRICE).unwrap();
    let end = billing::max_end(start, price, MicroAlgos(deposit));
    let expected = billing::Settlement::compute(
        price,
        MicroAlgos(deposit),
        billing::elapsed(start, end, now),
        FeeBps::new(FEE_BPS as u16).unwrap(),
    );
    assert!(now - start >= 61, "elapsed {}", now - start);
    assert_eq!(
        amounts,
        vec![
            expected.cost.get(),
            expected.fee.get(),
            expected.provider.get(),
            expected.refund.get()
        ]
    );
    // Balances to the microAlgo: the provider got its share; the renter paid the cost and
    // the fees of its three transactions, and got the rental box's minimum balance back.
    assert_eq!(
        chain.balance(&provider.address()),
        provider_start - LISTING_MBR - 2_000 + expected.provider.get()
    );
    assert_eq!(
        chain.balance(&renter.address()),
        renter_start - expected.cost.get() - 2_000 - 3_000
    );
    let global = &chain.node.state().apps[&app_id].global;
    assert_eq!(global.get(b"fees_owed".as_slice()), Some(&Value::Uint(expected.fee.get())));
    assert!(
        !chain.node.state().boxes.contains_key(&(app_id, key(b'r', listing))),
        "rental box deleted"
    );
}
