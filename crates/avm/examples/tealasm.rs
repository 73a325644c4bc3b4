//! Assemble TEAL from stdin; prints hex bytecode or the errors (exit 1).
use std::io::Read;

fn main() {
    let mut src = String::new();
    std::io::stdin().read_to_string(&mut src).expect("read stdin");
    match bitfox_avm::assemble(&src) {
        Ok(a) => println!("{}", a.bytecode.iter().map(|b| format!("{b:02x}")).collect::<String>()),
        Err(e) => {
            for l in &e.errors {
                eprintln!("{l}");
            }
            std::process::exit(1);
        }
    }
}
