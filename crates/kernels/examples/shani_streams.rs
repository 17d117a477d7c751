//! Picks the SHA-NI stream count: times 120 jobs (a multiple of every count tried) at each
//! stream count, printing the load average before and after. SHA-256 tries 1..=6 and 8
//! streams, SHA-1 1..=4. Usage: `cargo run --release -p sesame-kernels --example
//! shani_streams [-- ROUNDS]`.
fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .map_or(50_000, |s| s.parse().expect("ROUNDS"));
    let jobs = 120;
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("loadavg before: {}", load().trim());
    let per = |d: std::time::Duration| d.as_nanos() as f64 / (jobs as f64 * rounds as f64 * 2.0);
    for streams in [1, 2, 3, 4, 5, 6, 8] {
        let Some(a) = sesame_kernels::tuning::shani_sha256(jobs, rounds, streams) else {
            println!("SHA-NI not available");
            return;
        };
        let ns = per(a);
        // Guesses/s at 10,000,000 iterations (2 compressions each), SHA-256 stage only.
        let gps = 1e9 / (ns * 2.0 * 1e7);
        print!("streams {streams}: sha256 {ns:.2} ns/compression ({gps:.3} g/s at 10M)");
        if streams <= 4 {
            let b = sesame_kernels::tuning::shani_sha1(jobs, rounds, streams).expect("SHA-NI");
            print!(", sha1 {:.2} ns/compression", per(b));
        }
        println!();
    }
    println!("loadavg after: {}", load().trim());
}
