//! Lane-parallel SHA-256 and SHA-1 PBKDF2 loops, generic over a vector of 32-bit lanes.
//!
//! Each lane carries a different password's job. AVX2 (8 lanes) and AVX-512 (16 lanes) supply
//! the vector type; everything here is `#[inline(always)]` so that it is compiled inside the
//! caller's `#[target_feature]` function and gets that ISA's instructions.
//!
//! The 64 (or 80) rounds are unrolled by macro with literal round numbers, so the constant half
//! of the iteration block (padding and length) folds away: e.g. W[t]+K[t] for t in 8..15 is a
//! compile-time constant, and schedule terms over zero words vanish.

use crate::jobs::{Job1, Job256, SHA1_ITER_BITS, SHA256_ITER_BITS};
use crate::reference::{K1, K256};

/// A vector of 32-bit lanes. Methods are unsafe because implementations use ISA intrinsics:
/// callers must run on a CPU with that ISA (guaranteed by the kernels' runtime detection).
pub(crate) trait U32x: Copy {
    const LANES: usize;
    unsafe fn splat(x: u32) -> Self;
    /// Loads `LANES` words from `src` (which must have at least that many).
    unsafe fn load(src: &[u32]) -> Self;
    unsafe fn store(self, dst: &mut [u32]);
    unsafe fn add(self, o: Self) -> Self;
    unsafe fn xor(self, o: Self) -> Self;
    unsafe fn and(self, o: Self) -> Self;
    unsafe fn or(self, o: Self) -> Self;
    /// Rotate right by R; L must be 32 - R (stable Rust cannot compute it from R).
    unsafe fn ror<const R: i32, const L: i32>(self) -> Self;
    unsafe fn shr<const R: i32>(self) -> Self;
    /// The value as it is, computed here: a fence the compiler does not reassociate sums
    /// across, so the order of the additions written in the rounds is the order that runs.
    #[inline(always)]
    unsafe fn pin(self) -> Self {
        self
    }
    /// x ^ y ^ z.
    #[inline(always)]
    unsafe fn xor3(self, y: Self, z: Self) -> Self {
        self.xor(y).xor(z)
    }
    /// SHA "choose": per bit, y where x is set, else z.
    #[inline(always)]
    unsafe fn ch(self, y: Self, z: Self) -> Self {
        z.xor(self.and(y.xor(z)))
    }
    /// SHA "majority" of x, y, z.
    #[inline(always)]
    unsafe fn maj(self, y: Self, z: Self) -> Self {
        self.and(y).or(z.and(self.or(y)))
    }
}

/// Big enough for any lane count used (16).
const MAX_LANES: usize = 16;

/// Loads word `w` of each lane's array (one job per lane) into one vector.
#[inline(always)]
unsafe fn gather<V: U32x, const W: usize>(arrays: &[&[u32; W]]) -> [V; W] {
    let mut out = [V::splat(0); W];
    for (w, o) in out.iter_mut().enumerate() {
        let mut tmp = [0u32; MAX_LANES];
        for (lane, a) in arrays.iter().enumerate() {
            tmp[lane] = a[w];
        }
        *o = V::load(&tmp);
    }
    out
}

#[inline(always)]
unsafe fn scatter<V: U32x, const W: usize>(v: &[V; W], lane: usize) -> [u32; W] {
    let mut out = [0u32; W];
    for (w, o) in out.iter_mut().enumerate() {
        let mut tmp = [0u32; MAX_LANES];
        v[w].store(&mut tmp);
        *o = tmp[lane];
    }
    out
}

// ---------------------------------------------------------------------------------------------
// SHA-256

#[inline(always)]
unsafe fn big_sigma0<V: U32x>(a: V) -> V {
    a.ror::<2, 30>().xor3(a.ror::<13, 19>(), a.ror::<22, 10>())
}
#[inline(always)]
unsafe fn big_sigma1<V: U32x>(e: V) -> V {
    e.ror::<6, 26>().xor3(e.ror::<11, 21>(), e.ror::<25, 7>())
}
#[inline(always)]
unsafe fn small_sigma0<V: U32x>(x: V) -> V {
    x.ror::<7, 25>().xor3(x.ror::<18, 14>(), x.shr::<3>())
}
#[inline(always)]
unsafe fn small_sigma1<V: U32x>(x: V) -> V {
    x.ror::<17, 15>().xor3(x.ror::<19, 13>(), x.shr::<10>())
}

/// Word `t` (16 or more) of the SHA-256 message schedule, in place in the 16-word window.
#[inline(always)]
unsafe fn schedule256<V: U32x>(w: &mut [V; 16], t: usize) {
    w[t % 16] = w[t % 16]
        .add(small_sigma0(w[(t + 1) % 16]))
        .add(w[(t + 9) % 16])
        .add(small_sigma1(w[(t + 14) % 16]));
}

/// One SHA-256 round on the working words `[a, b, c, d, e, f, g, h]`, `kw` being K[t] + W[t]:
/// the new d and h (the caller renames the words for the next round). The additions run in
/// the order that keeps each round's dependency chain short: `h + kw` and `d + h + kw` do not
/// wait for `e`, so the new e is three operations after it; `pin` keeps the compiler from
/// reassociating them back.
#[inline(always)]
unsafe fn round256<V: U32x>([a, b, c, d, e, f, g, h]: [V; 8], kw: V) -> (V, V) {
    let hkw = h.add(kw).pin();
    let q = d.add(hkw).pin();
    let ch = e.ch(f, g);
    let s1 = big_sigma1(e);
    let t1 = hkw.add(ch).pin().add(s1);
    let new_d = q.add(ch).pin().add(s1);
    let new_h = a.maj(b, c).add(t1).pin().add(big_sigma0(a));
    (new_d, new_h)
}

/// One SHA-256 compression of the fixed iteration block: the 8-word digest `msg` followed by
/// constant padding, starting from `state`.
#[inline(always)]
unsafe fn compress256<V: U32x>(state: &[V; 8], msg: &[V; 8]) -> [V; 8] {
    let mut w = [V::splat(0); 16];
    w[..8].copy_from_slice(msg);
    w[8] = V::splat(0x8000_0000);
    w[15] = V::splat(SHA256_ITER_BITS);
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;

    macro_rules! round {
        ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $t:expr) => {
            if $t >= 16 {
                schedule256(&mut w, $t);
            }
            let kw = V::splat(K256[$t]).add(w[$t % 16]);
            ($d, $h) = round256([$a, $b, $c, $d, $e, $f, $g, $h], kw);
        };
    }
    macro_rules! eight {
        ($t:expr) => {
            round!(a, b, c, d, e, f, g, h, $t);
            round!(h, a, b, c, d, e, f, g, $t + 1);
            round!(g, h, a, b, c, d, e, f, $t + 2);
            round!(f, g, h, a, b, c, d, e, $t + 3);
            round!(e, f, g, h, a, b, c, d, $t + 4);
            round!(d, e, f, g, h, a, b, c, $t + 5);
            round!(c, d, e, f, g, h, a, b, $t + 6);
            round!(b, c, d, e, f, g, h, a, $t + 7);
        };
    }
    eight!(0);
    eight!(8);
    eight!(16);
    eight!(24);
    eight!(32);
    eight!(40);
    eight!(48);
    eight!(56);

    let out = [a, b, c, d, e, f, g, h];
    core::array::from_fn(|i| state[i].add(out[i]))
}

/// Runs `rounds` PBKDF2-HMAC-SHA256 iterations on every job, `V::LANES` jobs at a time. A
/// partial last group is padded with copies of its first job, whose results are discarded.
#[inline(always)]
pub(crate) unsafe fn sha256_iterate<V: U32x>(jobs: &mut [Job256], rounds: u32) {
    for group in jobs.chunks_mut(V::LANES) {
        let lane_job = |l: usize| &group[if l < group.len() { l } else { 0 }];
        let pick = |f: fn(&Job256) -> &[u32; 8]| -> [V; 8] {
            let arrays: Vec<&[u32; 8]> = (0..V::LANES).map(|l| f(lane_job(l))).collect();
            gather::<V, 8>(&arrays)
        };
        let istate = pick(|j| &j.istate);
        let ostate = pick(|j| &j.ostate);
        let mut u = pick(|j| &j.u);
        let mut acc = pick(|j| &j.acc);
        for _ in 0..rounds {
            let inner = compress256(&istate, &u);
            u = compress256(&ostate, &inner);
            for (a, x) in acc.iter_mut().zip(&u) {
                *a = a.xor(*x);
            }
        }
        for (lane, job) in group.iter_mut().enumerate() {
            job.u = scatter(&u, lane);
            job.acc = scatter(&acc, lane);
        }
    }
}

/// [`compress256`] in a compact form: rounds 0-15 unrolled (where the constant padding words
/// fold away), rounds 16-63 as a loop of three 16-round blocks with the round constants read
/// from memory. About a third of the code: where the fully unrolled pair of compressions
/// (about 4,300 instructions, 28 KB) overflows the core's decoded-instruction cache, the front
/// end rather than the vector pipes sets the pace.
#[inline(always)]
unsafe fn compress256_compact<V: U32x>(state: &[V; 8], msg: &[V; 8], blocks: usize) -> [V; 8] {
    let mut w = [V::splat(0); 16];
    w[..8].copy_from_slice(msg);
    w[8] = V::splat(0x8000_0000);
    w[15] = V::splat(SHA256_ITER_BITS);
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;

    macro_rules! round {
        ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $t:expr, $k:expr) => {
            if $t >= 16 {
                schedule256(&mut w, $t);
            }
            let kw = V::splat($k).add(w[$t % 16]);
            ($d, $h) = round256([$a, $b, $c, $d, $e, $f, $g, $h], kw);
        };
    }
    // $t: the round's place in the 16-word schedule window (>= 16 once it is computed);
    // $k: its constant.
    macro_rules! eight {
        ($t:expr, $k:expr) => {
            round!(a, b, c, d, e, f, g, h, $t, $k[0]);
            round!(h, a, b, c, d, e, f, g, $t + 1, $k[1]);
            round!(g, h, a, b, c, d, e, f, $t + 2, $k[2]);
            round!(f, g, h, a, b, c, d, e, $t + 3, $k[3]);
            round!(e, f, g, h, a, b, c, d, $t + 4, $k[4]);
            round!(d, e, f, g, h, a, b, c, $t + 5, $k[5]);
            round!(c, d, e, f, g, h, a, b, $t + 6, $k[6]);
            round!(b, c, d, e, f, g, h, a, $t + 7, $k[7]);
        };
    }
    eight!(0, K256[0..8]);
    eight!(8, K256[8..16]);
    // `blocks` is 3, passed in from outside the loop so that the compiler keeps this a loop.
    for blk in 0..blocks {
        let k = &K256[16 + 16 * blk..32 + 16 * blk];
        eight!(16, k[0..8]);
        eight!(24, k[8..16]);
    }

    let out = [a, b, c, d, e, f, g, h];
    core::array::from_fn(|i| state[i].add(out[i]))
}

/// [`sha256_iterate`] with [`compress256_compact`]; the inner and outer compressions share one
/// copy of the code too.
#[inline(always)]
pub(crate) unsafe fn sha256_iterate_compact<V: U32x>(jobs: &mut [Job256], rounds: u32) {
    let blocks = core::hint::black_box(3usize);
    let passes = core::hint::black_box(2usize);
    for group in jobs.chunks_mut(V::LANES) {
        let lane_job = |l: usize| &group[if l < group.len() { l } else { 0 }];
        let pick = |f: fn(&Job256) -> &[u32; 8]| -> [V; 8] {
            let arrays: Vec<&[u32; 8]> = (0..V::LANES).map(|l| f(lane_job(l))).collect();
            gather::<V, 8>(&arrays)
        };
        let states = [pick(|j| &j.istate), pick(|j| &j.ostate)];
        let mut u = pick(|j| &j.u);
        let mut acc = pick(|j| &j.acc);
        for _ in 0..rounds {
            for p in 0..passes {
                u = compress256_compact(&states[p & 1], &u, blocks);
            }
            for (a, x) in acc.iter_mut().zip(&u) {
                *a = a.xor(*x);
            }
        }
        for (lane, job) in group.iter_mut().enumerate() {
            job.u = scatter(&u, lane);
            job.acc = scatter(&acc, lane);
        }
    }
}

/// Two independent compressions of the iteration block (two 16-lane groups of passwords),
/// interleaved round by round. The rounds of one SHA-256 compression form a dependency chain
/// (each round's e and a need the last round's); where a core has more vector units than one
/// chain keeps busy, the second chain fills them. Same arithmetic as [`compress256`], with the
/// eight working words in an array whose roles rotate by index instead of by renaming.
/// The round is written out here, not called through [`round256`]: through the helper the
/// compiler spilled more in this form (9,331 instructions a loop against 8,586, `objdump -d`).
#[inline(always)]
unsafe fn compress256_x2<V: U32x>(state: &[[V; 8]; 2], msg: &[[V; 8]; 2]) -> [[V; 8]; 2] {
    let mut w = [[V::splat(0); 16]; 2];
    for k in 0..2 {
        w[k][..8].copy_from_slice(&msg[k]);
        w[k][8] = V::splat(0x8000_0000);
        w[k][15] = V::splat(SHA256_ITER_BITS);
    }
    let mut s = *state;

    macro_rules! round {
        ($t:expr) => {
            for k in 0..2 {
                // Word j of the round (a = 0 .. h = 7) lives at this index in round t.
                let at = |j: usize| (j + 8 - ($t % 8)) % 8;
                if $t >= 16 {
                    w[k][$t % 16] = w[k][$t % 16]
                        .add(small_sigma0(w[k][($t + 1) % 16]))
                        .add(w[k][($t + 9) % 16])
                        .add(small_sigma1(w[k][($t + 14) % 16]));
                }
                let (a, b, c, d) = (s[k][at(0)], s[k][at(1)], s[k][at(2)], s[k][at(3)]);
                let (e, f, g, h) = (s[k][at(4)], s[k][at(5)], s[k][at(6)], s[k][at(7)]);
                let hkw = h.add(V::splat(K256[$t]).add(w[k][$t % 16])).pin();
                let q = d.add(hkw).pin();
                let ch = e.ch(f, g);
                let s1 = big_sigma1(e);
                let t1 = hkw.add(ch).pin().add(s1);
                s[k][at(3)] = q.add(ch).pin().add(s1);
                s[k][at(7)] = a.maj(b, c).add(t1).pin().add(big_sigma0(a));
            }
        };
    }
    macro_rules! eight {
        ($t:expr) => {
            round!($t);
            round!($t + 1);
            round!($t + 2);
            round!($t + 3);
            round!($t + 4);
            round!($t + 5);
            round!($t + 6);
            round!($t + 7);
        };
    }
    eight!(0);
    eight!(8);
    eight!(16);
    eight!(24);
    eight!(32);
    eight!(40);
    eight!(48);
    eight!(56);

    // After 64 rounds (a multiple of 8) every word is back at its own index.
    core::array::from_fn(|k| core::array::from_fn(|i| state[k][i].add(s[k][i])))
}

/// [`sha256_iterate`] on two groups of `V::LANES` jobs at once ([`compress256_x2`]). A partial
/// last pair of groups is padded with copies of its first job, whose results are discarded.
#[inline(always)]
pub(crate) unsafe fn sha256_iterate_x2<V: U32x>(jobs: &mut [Job256], rounds: u32) {
    for pair in jobs.chunks_mut(2 * V::LANES) {
        let lane_job = |l: usize| &pair[if l < pair.len() { l } else { 0 }];
        let pick = |f: fn(&Job256) -> &[u32; 8]| -> [[V; 8]; 2] {
            core::array::from_fn(|k| {
                let arrays: Vec<&[u32; 8]> = (0..V::LANES)
                    .map(|l| f(lane_job(k * V::LANES + l)))
                    .collect();
                gather::<V, 8>(&arrays)
            })
        };
        let istate = pick(|j| &j.istate);
        let ostate = pick(|j| &j.ostate);
        let mut u = pick(|j| &j.u);
        let mut acc = pick(|j| &j.acc);
        for _ in 0..rounds {
            let inner = compress256_x2(&istate, &u);
            u = compress256_x2(&ostate, &inner);
            for k in 0..2 {
                for (a, x) in acc[k].iter_mut().zip(&u[k]) {
                    *a = a.xor(*x);
                }
            }
        }
        for (l, job) in pair.iter_mut().enumerate() {
            let (k, lane) = (l / V::LANES, l % V::LANES);
            job.u = scatter(&u[k], lane);
            job.acc = scatter(&acc[k], lane);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SHA-1

/// Word `t` (16 or more) of the SHA-1 message schedule, in place in the 16-word window.
#[inline(always)]
unsafe fn schedule1<V: U32x>(w: &mut [V; 16], t: usize) {
    w[t % 16] = w[(t + 13) % 16]
        .xor3(w[(t + 8) % 16], w[(t + 2) % 16])
        .xor(w[t % 16])
        .ror::<31, 1>();
}

/// SHA-1 round `t` on the working words `[a, b, c, d, e]` with message word `wt`: the new e and
/// b (the caller renames). The rotate of `a`, the only term on the chain from one round's a to
/// the next, is added last; `pin` keeps that order.
#[inline(always)]
unsafe fn round1<V: U32x>([a, b, c, d, e]: [V; 5], t: usize, wt: V) -> (V, V) {
    let f = match t / 20 {
        0 => b.ch(c, d),
        2 => b.maj(c, d),
        _ => b.xor3(c, d),
    };
    let new_e = e
        .add(V::splat(K1[t / 20]).add(wt))
        .pin()
        .add(f)
        .pin()
        .add(a.ror::<27, 5>());
    (new_e, b.ror::<2, 30>())
}

/// One SHA-1 compression of the fixed iteration block (5-word digest, then padding).
#[inline(always)]
unsafe fn compress1<V: U32x>(state: &[V; 5], msg: &[V; 5]) -> [V; 5] {
    let mut w = [V::splat(0); 16];
    w[..5].copy_from_slice(msg);
    w[5] = V::splat(0x8000_0000);
    w[15] = V::splat(SHA1_ITER_BITS);
    let [mut a, mut b, mut c, mut d, mut e] = *state;

    macro_rules! round {
        ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $t:expr) => {
            if $t >= 16 {
                schedule1(&mut w, $t);
            }
            ($e, $b) = round1([$a, $b, $c, $d, $e], $t, w[$t % 16]);
        };
    }
    macro_rules! five {
        ($t:expr) => {
            round!(a, b, c, d, e, $t);
            round!(e, a, b, c, d, $t + 1);
            round!(d, e, a, b, c, $t + 2);
            round!(c, d, e, a, b, $t + 3);
            round!(b, c, d, e, a, $t + 4);
        };
    }
    five!(0);
    five!(5);
    five!(10);
    five!(15);
    five!(20);
    five!(25);
    five!(30);
    five!(35);
    five!(40);
    five!(45);
    five!(50);
    five!(55);
    five!(60);
    five!(65);
    five!(70);
    five!(75);

    let out = [a, b, c, d, e];
    core::array::from_fn(|i| state[i].add(out[i]))
}

/// Two independent SHA-1 compressions interleaved round by round (see [`compress256_x2`]).
/// The round is written out for the same reason as there (through [`round1`]: 4,672
/// instructions a loop against 3,930).
#[inline(always)]
unsafe fn compress1_x2<V: U32x>(state: &[[V; 5]; 2], msg: &[[V; 5]; 2]) -> [[V; 5]; 2] {
    let mut w = [[V::splat(0); 16]; 2];
    for k in 0..2 {
        w[k][..5].copy_from_slice(&msg[k]);
        w[k][5] = V::splat(0x8000_0000);
        w[k][15] = V::splat(SHA1_ITER_BITS);
    }
    let mut s = *state;

    macro_rules! round {
        ($t:expr) => {
            for k in 0..2 {
                // Word j of the round (a = 0 .. e = 4) lives at this index in round t.
                let at = |j: usize| (j + 5 - ($t % 5)) % 5;
                if $t >= 16 {
                    w[k][$t % 16] = w[k][($t + 13) % 16]
                        .xor3(w[k][($t + 8) % 16], w[k][($t + 2) % 16])
                        .xor(w[k][$t % 16])
                        .ror::<31, 1>();
                }
                let (a, b, c, d) = (s[k][at(0)], s[k][at(1)], s[k][at(2)], s[k][at(3)]);
                let f = match $t / 20 {
                    0 => b.ch(c, d),
                    2 => b.maj(c, d),
                    _ => b.xor3(c, d),
                };
                s[k][at(4)] = s[k][at(4)]
                    .add(V::splat(K1[$t / 20]).add(w[k][$t % 16]))
                    .pin()
                    .add(f)
                    .pin()
                    .add(a.ror::<27, 5>());
                s[k][at(1)] = b.ror::<2, 30>();
            }
        };
    }
    macro_rules! five {
        ($t:expr) => {
            round!($t);
            round!($t + 1);
            round!($t + 2);
            round!($t + 3);
            round!($t + 4);
        };
    }
    five!(0);
    five!(5);
    five!(10);
    five!(15);
    five!(20);
    five!(25);
    five!(30);
    five!(35);
    five!(40);
    five!(45);
    five!(50);
    five!(55);
    five!(60);
    five!(65);
    five!(70);
    five!(75);

    // After 80 rounds (a multiple of 5) every word is back at its own index.
    core::array::from_fn(|k| core::array::from_fn(|i| state[k][i].add(s[k][i])))
}

/// [`sha1_iterate`] on two groups of `V::LANES` jobs at once ([`compress1_x2`]).
#[inline(always)]
pub(crate) unsafe fn sha1_iterate_x2<V: U32x>(jobs: &mut [Job1], rounds: u32) {
    for pair in jobs.chunks_mut(2 * V::LANES) {
        let lane_job = |l: usize| &pair[if l < pair.len() { l } else { 0 }];
        let pick = |f: fn(&Job1) -> &[u32; 5]| -> [[V; 5]; 2] {
            core::array::from_fn(|k| {
                let arrays: Vec<&[u32; 5]> = (0..V::LANES)
                    .map(|l| f(lane_job(k * V::LANES + l)))
                    .collect();
                gather::<V, 5>(&arrays)
            })
        };
        let istate = pick(|j| &j.istate);
        let ostate = pick(|j| &j.ostate);
        let mut u = pick(|j| &j.u);
        let mut acc = pick(|j| &j.acc);
        for _ in 0..rounds {
            let inner = compress1_x2(&istate, &u);
            u = compress1_x2(&ostate, &inner);
            for k in 0..2 {
                for (a, x) in acc[k].iter_mut().zip(&u[k]) {
                    *a = a.xor(*x);
                }
            }
        }
        for (l, job) in pair.iter_mut().enumerate() {
            let (k, lane) = (l / V::LANES, l % V::LANES);
            job.u = scatter(&u[k], lane);
            job.acc = scatter(&acc[k], lane);
        }
    }
}

#[inline(always)]
pub(crate) unsafe fn sha1_iterate<V: U32x>(jobs: &mut [Job1], rounds: u32) {
    for group in jobs.chunks_mut(V::LANES) {
        let lane_job = |l: usize| &group[if l < group.len() { l } else { 0 }];
        let pick = |f: fn(&Job1) -> &[u32; 5]| -> [V; 5] {
            let arrays: Vec<&[u32; 5]> = (0..V::LANES).map(|l| f(lane_job(l))).collect();
            gather::<V, 5>(&arrays)
        };
        let istate = pick(|j| &j.istate);
        let ostate = pick(|j| &j.ostate);
        let mut u = pick(|j| &j.u);
        let mut acc = pick(|j| &j.acc);
        for _ in 0..rounds {
            let inner = compress1(&istate, &u);
            u = compress1(&ostate, &inner);
            for (a, x) in acc.iter_mut().zip(&u) {
                *a = a.xor(*x);
            }
        }
        for (lane, job) in group.iter_mut().enumerate() {
            job.u = scatter(&u, lane);
            job.acc = scatter(&acc, lane);
        }
    }
}
