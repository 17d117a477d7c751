//! Picks the SHA-NI stream count: times 12 jobs (a multiple of 1..=4 streams) at each count.
fn main() {
    let rounds = 100_000;
    for streams in 1..=4 {
        let (Some(a), Some(b)) = (
            sesame_kernels::tuning::shani_sha256(12, rounds, streams),
            sesame_kernels::tuning::shani_sha1(12, rounds, streams),
        ) else {
            println!("SHA-NI not available");
            return;
        };
        let per = |d: std::time::Duration| d.as_nanos() as f64 / (12.0 * rounds as f64 * 2.0);
        println!(
            "streams {streams}: sha256 {:.1} ns/compression, sha1 {:.1} ns/compression",
            per(a),
            per(b)
        );
    }
}
