//! Where each password comes (1-based) in its mask's likeliest-first order:
//! `cargo run --release -p sesame-guess --example mask_rank -- MASK PASSWORD ...`
use sesame_guess::markov::Likeliest;
use sesame_guess::mask::Mask;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mask = Mask::parse(&args[0], [None; 4]).expect("mask");
    let t = std::time::Instant::now();
    let order = Likeliest::new(mask.positions()).expect("orderable");
    let built = t.elapsed();
    for want in &args[1..] {
        match order.position_of(want.as_bytes()) {
            Some(r) => println!("{}\t{}\t{}", args[0], want, r + 1),
            None => println!("{}\t{}\tnot in the mask", args[0], want),
        }
    }
    eprintln!("table built in {built:?}");
}
