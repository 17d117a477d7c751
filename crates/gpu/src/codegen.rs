//! One source for both GPU kernels: the SHA-256 and SHA-1 round code, and the five kernels built
//! from it, are written once here in Rust and printed as WGSL (wgpu) or CUDA C (NVRTC).
//!
//! The generator works on values that are either known constants or names of GPU variables.
//! Operations on constants are folded here, so the fixed HMAC padding words of the iteration loop
//! (`0x80000000`, zeros and the bit length) and the parts of the message schedule that depend only
//! on them never reach the GPU compiler. Everything else is emitted as straight-line code, fully
//! unrolled, one `let` per round variable.
//!
//! The two languages differ only in a handful of spellings ([`Target`]): declarations, the loop
//! header, rotations (CUDA has a funnel-shift instruction) and the kernel signatures. Arithmetic
//! and literals (`0x…u`) are written the same way in both.

use sesame_kernels::reference::{K1, K256, SHA1_IV};
use std::fmt::Write as _;

/// The language a kernel is printed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// WGSL, for wgpu (Vulkan, Metal, DX12).
    Wgsl,
    /// CUDA C, compiled at run time by NVRTC.
    Cuda,
}

/// A 32-bit value: a constant known while generating, or an expression over GPU variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    /// Known now; folded.
    C(u32),
    /// A GPU expression: a plain name, or a parenthesised expression.
    E(String),
}

impl Val {
    fn is_name(&self) -> bool {
        matches!(self, Val::E(s) if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    }
    fn text(&self) -> String {
        match self {
            Val::C(c) => format!("0x{c:08x}u"),
            Val::E(s) => s.clone(),
        }
    }
}

/// Counts of the 32-bit operations emitted, to relate a measured rate to the GPU's integer
/// throughput. A rotation is one funnel shift on CUDA and two shifts and an OR in WGSL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpCount {
    /// Additions.
    pub add: u32,
    /// Bitwise operations (AND, OR, XOR, NOT) and shifts.
    pub logic: u32,
    /// Rotations.
    pub rot: u32,
}

impl OpCount {
    /// Integer instructions, taking a rotation as one instruction (CUDA's `SHF`) and ignoring the
    /// fusions a GPU compiler can still make (three-input `LOP3`, `IADD3`).
    pub fn total(&self) -> u32 {
        self.add + self.logic + self.rot
    }
}

/// A growing piece of kernel code.
pub struct Code {
    target: Target,
    out: String,
    next: usize,
    depth: usize,
    /// Operations emitted so far.
    pub ops: OpCount,
}

impl Code {
    /// Empty code for `target`.
    pub fn new(target: Target) -> Self {
        Code {
            target,
            out: String::new(),
            next: 0,
            depth: 1,
            ops: OpCount::default(),
        }
    }

    /// The code generated so far.
    pub fn finish(self) -> String {
        self.out
    }

    fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// Binds `v` to a fresh immutable name unless it is a constant or already a name.
    pub fn bind(&mut self, v: Val) -> Val {
        if matches!(v, Val::C(_)) || v.is_name() {
            return v;
        }
        let name = format!("v{}", self.next);
        self.next += 1;
        let decl = match self.target {
            Target::Wgsl => format!("let {name} = {};", v.text()),
            Target::Cuda => format!("const uint32_t {name} = {};", v.text()),
        };
        self.line(&decl);
        Val::E(name)
    }

    /// Declares a mutable variable.
    pub fn var(&mut self, name: &str, init: &Val) {
        let decl = match self.target {
            Target::Wgsl => format!("var {name}: u32 = {};", init.text()),
            Target::Cuda => format!("uint32_t {name} = {};", init.text()),
        };
        self.line(&decl);
    }

    /// Declares mutable variables `{prefix}0..` initialised to `init`; returns their names.
    pub fn vars(&mut self, prefix: &str, init: &[Val]) -> Vec<Val> {
        init.iter()
            .enumerate()
            .map(|(j, v)| {
                let name = format!("{prefix}{j}");
                self.var(&name, v);
                Val::E(name)
            })
            .collect()
    }

    /// `name = v;`
    pub fn assign(&mut self, name: &Val, v: &Val) {
        let s = format!("{} = {};", name.text(), v.text());
        self.line(&s);
    }

    /// `buf[index]`, bound to a name.
    pub fn load(&mut self, buf: &str, index: &str) -> Val {
        self.bind(Val::E(format!("{buf}[{index}]")))
    }

    /// `buf[index] = v;`
    pub fn store(&mut self, buf: &str, index: &str, v: &Val) {
        let s = format!("{buf}[{index}] = {};", v.text());
        self.line(&s);
    }

    /// Opens `for (k = 0; k < bound; k++) {`.
    pub fn begin_loop(&mut self, k: &str, bound: &str) {
        let s = match self.target {
            Target::Wgsl => format!("for (var {k}: u32 = 0u; {k} < {bound}; {k} = {k} + 1u) {{"),
            Target::Cuda => format!("for (uint32_t {k} = 0u; {k} < {bound}; {k} = {k} + 1u) {{"),
        };
        self.line(&s);
        self.depth += 1;
    }

    /// Closes a block.
    pub fn end(&mut self) {
        self.depth -= 1;
        self.line("}");
    }

    /// Any statement written the same way in both languages.
    pub fn raw(&mut self, s: &str) {
        self.line(s);
    }

    /// Sum modulo 2^32; constants are folded, zeros dropped.
    pub fn add(&mut self, xs: &[Val]) -> Val {
        self.fold(xs, " + ", 0, u32::wrapping_add, true)
    }

    /// XOR; constants are folded, zeros dropped.
    pub fn xor(&mut self, xs: &[Val]) -> Val {
        self.fold(xs, " ^ ", 0, |a, b| a ^ b, false)
    }

    fn fold(
        &mut self,
        xs: &[Val],
        op: &str,
        zero: u32,
        f: fn(u32, u32) -> u32,
        is_add: bool,
    ) -> Val {
        let mut c = zero;
        let mut terms = Vec::new();
        for x in xs {
            match x {
                Val::C(k) => c = f(c, *k),
                Val::E(s) => terms.push(s.clone()),
            }
        }
        if terms.is_empty() {
            return Val::C(c);
        }
        if c != zero {
            terms.push(Val::C(c).text());
        }
        if terms.len() == 1 {
            return Val::E(terms.pop().expect("one term"));
        }
        let count = (terms.len() - 1) as u32;
        if is_add {
            self.ops.add += count;
        } else {
            self.ops.logic += count;
        }
        Val::E(format!("({})", terms.join(op)))
    }

    /// AND of two values.
    pub fn and(&mut self, a: &Val, b: &Val) -> Val {
        match (a, b) {
            (Val::C(x), Val::C(y)) => Val::C(x & y),
            (Val::C(0), _) | (_, Val::C(0)) => Val::C(0),
            (Val::C(u32::MAX), v) | (v, Val::C(u32::MAX)) => v.clone(),
            _ => {
                self.ops.logic += 1;
                Val::E(format!("({} & {})", a.text(), b.text()))
            }
        }
    }

    /// OR of two values.
    pub fn or(&mut self, a: &Val, b: &Val) -> Val {
        match (a, b) {
            (Val::C(x), Val::C(y)) => Val::C(x | y),
            (Val::C(0), v) | (v, Val::C(0)) => v.clone(),
            _ => {
                self.ops.logic += 1;
                Val::E(format!("({} | {})", a.text(), b.text()))
            }
        }
    }

    /// Right rotation by `n` (0 < n < 32).
    pub fn rotr(&mut self, a: &Val, n: u32) -> Val {
        if let Val::C(x) = a {
            return Val::C(x.rotate_right(n));
        }
        let a = self.bind(a.clone());
        self.ops.rot += 1;
        let t = a.text();
        match self.target {
            Target::Wgsl => Val::E(format!("(({t} >> {n}u) | ({t} << {}u))", 32 - n)),
            Target::Cuda => Val::E(format!("__funnelshift_r({t}, {t}, {n}u)")),
        }
    }

    /// Left rotation by `n` (0 < n < 32).
    pub fn rotl(&mut self, a: &Val, n: u32) -> Val {
        self.rotr(a, 32 - n)
    }

    /// Logical right shift by `n`.
    pub fn shr(&mut self, a: &Val, n: u32) -> Val {
        match a {
            Val::C(x) => Val::C(x >> n),
            _ => {
                self.ops.logic += 1;
                Val::E(format!("({} >> {n}u)", a.text()))
            }
        }
    }
}

/// One SHA-256 compression of the block `w` into `state`; returns the new state (bound names or
/// constants).
pub fn sha256_compress(c: &mut Code, state: &[Val], w: &[Val]) -> Vec<Val> {
    assert_eq!((state.len(), w.len()), (8, 16));
    let mut w: Vec<Val> = w.to_vec();
    let mut s: Vec<Val> = state.iter().map(|v| c.bind(v.clone())).collect();
    for t in 0..64 {
        if t >= 16 {
            let (w2, w15) = (w[t - 2].clone(), w[t - 15].clone());
            let s1 = {
                let (a, b, d) = (c.rotr(&w2, 17), c.rotr(&w2, 19), c.shr(&w2, 10));
                c.xor(&[a, b, d])
            };
            let s0 = {
                let (a, b, d) = (c.rotr(&w15, 7), c.rotr(&w15, 18), c.shr(&w15, 3));
                c.xor(&[a, b, d])
            };
            let wt = c.add(&[s1, w[t - 7].clone(), s0, w[t - 16].clone()]);
            let wt = c.bind(wt);
            w.push(wt);
        }
        let [a, b, cc, d, e, f, g, h] = [0, 1, 2, 3, 4, 5, 6, 7].map(|i| s[i].clone());
        let big_s1 = {
            let (x, y, z) = (c.rotr(&e, 6), c.rotr(&e, 11), c.rotr(&e, 25));
            c.xor(&[x, y, z])
        };
        // Ch(e, f, g) = g ^ (e & (f ^ g))
        let ch = {
            let fg = c.xor(&[f.clone(), g.clone()]);
            let efg = c.and(&e, &fg);
            c.xor(&[g.clone(), efg])
        };
        let t1 = c.add(&[h, big_s1, ch, Val::C(K256[t]), w[t].clone()]);
        let t1 = c.bind(t1);
        let big_s0 = {
            let (x, y, z) = (c.rotr(&a, 2), c.rotr(&a, 13), c.rotr(&a, 22));
            c.xor(&[x, y, z])
        };
        // Maj(a, b, c) = (a & b) | (c & (a | b))
        let maj = {
            let ab = c.and(&a, &b);
            let aob = c.or(&a, &b);
            let cab = c.and(&cc, &aob);
            c.or(&ab, &cab)
        };
        let t2 = c.add(&[big_s0, maj]);
        let new_e = c.add(&[d, t1.clone()]);
        let new_e = c.bind(new_e);
        let new_a = c.add(&[t1, t2]);
        let new_a = c.bind(new_a);
        s = vec![new_a, a, b, cc, new_e, e, f, g];
    }
    state
        .iter()
        .zip(s)
        .map(|(x, y)| {
            let v = c.add(&[x.clone(), y]);
            c.bind(v)
        })
        .collect()
}

/// One SHA-1 compression of the block `w` into `state`; returns the new state.
pub fn sha1_compress(c: &mut Code, state: &[Val], w: &[Val]) -> Vec<Val> {
    assert_eq!((state.len(), w.len()), (5, 16));
    let mut w: Vec<Val> = w.to_vec();
    let mut s: Vec<Val> = state.iter().map(|v| c.bind(v.clone())).collect();
    for t in 0..80 {
        if t >= 16 {
            let x = c.xor(&[
                w[t - 3].clone(),
                w[t - 8].clone(),
                w[t - 14].clone(),
                w[t - 16].clone(),
            ]);
            let x = c.rotl(&x, 1);
            let x = c.bind(x);
            w.push(x);
        }
        let [a, b, cc, d, e] = [0, 1, 2, 3, 4].map(|i| s[i].clone());
        let f = match t / 20 {
            // Ch(b, c, d) = d ^ (b & (c ^ d))
            0 => {
                let cd = c.xor(&[cc.clone(), d.clone()]);
                let bcd = c.and(&b, &cd);
                c.xor(&[d.clone(), bcd])
            }
            // Maj(b, c, d) = (b & c) | (d & (b | c))
            2 => {
                let bc = c.and(&b, &cc);
                let boc = c.or(&b, &cc);
                let dbc = c.and(&d, &boc);
                c.or(&bc, &dbc)
            }
            _ => c.xor(&[b.clone(), cc.clone(), d.clone()]),
        };
        let a5 = c.rotl(&a, 5);
        let temp = c.add(&[a5, f, e, Val::C(K1[t / 20]), w[t].clone()]);
        let temp = c.bind(temp);
        let b30 = c.rotl(&b, 30);
        let b30 = c.bind(b30);
        s = vec![temp, a, b30, cc, d];
    }
    state
        .iter()
        .zip(s)
        .map(|(x, y)| {
            let v = c.add(&[x.clone(), y]);
            c.bind(v)
        })
        .collect()
}

/// Words of the state buffers, per lane (structure of arrays: word `k` of lane `i` is at
/// `k * lanes + i`). SHA-256 lanes are passwords; SHA-1 lanes are (password, output block) pairs,
/// two per password, since a 32-byte key needs two 20-byte SHA-1 blocks.
pub mod layout {
    /// SHA-256 lane: inner state, outer state, U, T.
    pub const ST256_WORDS: usize = 32;
    /// SHA-1 lane: inner state, outer state, U, T.
    pub const ST1_WORDS: usize = 20;
    /// Offsets within a SHA-256 lane.
    pub const S256_I: usize = 0;
    /// Outer state.
    pub const S256_O: usize = 8;
    /// U, the latest HMAC output.
    pub const S256_U: usize = 16;
    /// T, the XOR of all U: the PBKDF2 output block.
    pub const S256_T: usize = 24;
    /// Offsets within a SHA-1 lane.
    pub const S1_I: usize = 0;
    /// Outer state.
    pub const S1_O: usize = 5;
    /// U.
    pub const S1_U: usize = 10;
    /// T.
    pub const S1_T: usize = 15;
}
use layout::*;

/// The kernels, by entry-point name.
pub const KERNELS: [&str; 5] = [
    "sha256_start",
    "sha256_loop",
    "sha1_keysetup",
    "sha1_start",
    "sha1_loop",
];

/// Threads per workgroup / CUDA block.
pub const WORKGROUP: u32 = 64;

/// Padding words of a one-block HMAC message that carries a `digest_words`-word digest after the
/// 64-byte key block: the digest, 0x80, zeros, and the length in bits.
fn hmac_pad_block(digest: &[Val]) -> Vec<Val> {
    let mut w: Vec<Val> = digest.to_vec();
    w.push(Val::C(0x8000_0000));
    while w.len() < 15 {
        w.push(Val::C(0));
    }
    w.push(Val::C(((64 + 4 * digest.len()) * 8) as u32));
    w
}

fn idx(word: usize, lane: &str) -> String {
    format!("{word}u * lanes + {lane}")
}

fn load_words(c: &mut Code, buf: &str, base: usize, n: usize, lane: &str) -> Vec<Val> {
    (0..n).map(|k| c.load(buf, &idx(base + k, lane))).collect()
}

fn store_words(c: &mut Code, buf: &str, base: usize, vals: &[Val], lane: &str) {
    for (k, v) in vals.iter().enumerate() {
        c.store(buf, &idx(base + k, lane), v);
    }
}

type Compress = fn(&mut Code, &[Val], &[Val]) -> Vec<Val>;

/// PBKDF2 first iteration: U1 = HMAC(key, salt || INT(block)) from the lane's inner and outer
/// states and the pre-padded message blocks in `msg` (at word `msg_base`, `nblocks` blocks).
fn body_start(
    c: &mut Code,
    buf: &str,
    words: usize,
    compress: Compress,
    msg_base: &str,
    nblocks: &str,
) {
    let (i_off, o_off, u_off, t_off) = (0, words, 2 * words, 3 * words);
    let inner = load_words(c, buf, i_off, words, "i");
    let outer = load_words(c, buf, o_off, words, "i");
    let s = c.vars("s", &inner);
    c.begin_loop("b", nblocks);
    let base = c.bind(Val::E(format!("({msg_base} + b * 16u)")));
    let w: Vec<Val> = (0..16)
        .map(|j| c.load("msg", &format!("{} + {j}u", base.text())))
        .collect();
    let next = compress(c, &s, &w);
    for (x, y) in s.iter().zip(&next) {
        c.assign(x, y);
    }
    c.end();
    let u = compress(c, &outer, &hmac_pad_block(&s));
    store_words(c, buf, u_off, &u, "i");
    store_words(c, buf, t_off, &u, "i");
}

/// `count` PBKDF2 iterations: U = HMAC(key, U); T ^= U, with U and T kept in registers.
fn body_loop(c: &mut Code, buf: &str, words: usize, compress: Compress) {
    let (i_off, o_off, u_off, t_off) = (0, words, 2 * words, 3 * words);
    let inner = load_words(c, buf, i_off, words, "i");
    let outer = load_words(c, buf, o_off, words, "i");
    let u0 = load_words(c, buf, u_off, words, "i");
    let t0 = load_words(c, buf, t_off, words, "i");
    let u = c.vars("u", &u0);
    let t = c.vars("t", &t0);
    c.begin_loop("k", "count");
    let ih = compress(c, &inner, &hmac_pad_block(&u));
    let oh = compress(c, &outer, &hmac_pad_block(&ih));
    for j in 0..words {
        c.assign(&u[j], &oh[j]);
        let x = c.xor(&[t[j].clone(), oh[j].clone()]);
        c.assign(&t[j], &x);
    }
    c.end();
    store_words(c, buf, u_off, &u, "i");
    store_words(c, buf, t_off, &t, "i");
}

/// HMAC-SHA1 key setup for the SHA-1 stage from the SHA-256 stage's 32-byte output T: inner and
/// outer states, written to both SHA-1 lanes of the password.
fn body_keysetup(c: &mut Code) {
    let key = (0..8)
        .map(|k| c.load("st256", &format!("{}u * n + i", S256_T + k)))
        .collect::<Vec<_>>();
    for (pad, off) in [(0x3636_3636u32, S1_I), (0x5c5c_5c5c, S1_O)] {
        let mut w: Vec<Val> = key
            .iter()
            .map(|k| c.xor(&[k.clone(), Val::C(pad)]))
            .collect();
        w.resize(16, Val::C(pad));
        let iv: Vec<Val> = SHA1_IV.iter().map(|&x| Val::C(x)).collect();
        let st = sha1_compress(c, &iv, &w);
        for lane in ["(2u * i)", "(2u * i + 1u)"] {
            for (k, v) in st.iter().enumerate() {
                c.store("st1", &format!("{}u * (2u * n) + {lane}", off + k), v);
            }
        }
    }
}

/// Source of all five kernels ([`KERNELS`]) for `target`.
pub fn kernels(target: Target) -> String {
    let mut src = String::new();
    match target {
        Target::Wgsl => src.push_str(
            "// Generated by sesame-gpu's codegen.rs: do not edit.\n\
             struct Params { n: u32, count: u32, nb256: u32, nb1: u32 }\n\
             @group(0) @binding(0) var<uniform> p: Params;\n\
             @group(0) @binding(1) var<storage, read_write> st256: array<u32>;\n\
             @group(0) @binding(2) var<storage, read_write> st1: array<u32>;\n\
             @group(0) @binding(3) var<storage, read> msg: array<u32>;\n",
        ),
        Target::Cuda => src.push_str(
            "// Generated by sesame-gpu's codegen.rs: do not edit.\n\
             typedef unsigned int uint32_t;\n",
        ),
    }
    for name in KERNELS {
        let mut c = Code::new(target);
        // Lanes of this kernel: passwords for SHA-256 and key setup, twice that for SHA-1.
        let lanes = if name.starts_with("sha1_") && name != "sha1_keysetup" {
            "2u * n"
        } else {
            "n"
        };
        match name {
            "sha256_start" => body_start(&mut c, "st256", 8, sha256_compress, "0u", "nb256"),
            "sha256_loop" => body_loop(&mut c, "st256", 8, sha256_compress),
            "sha1_keysetup" => body_keysetup(&mut c),
            "sha1_start" => body_start(
                &mut c,
                "st1",
                5,
                sha1_compress,
                "(16u * nb256 + (i & 1u) * 16u * nb1)",
                "nb1",
            ),
            "sha1_loop" => body_loop(&mut c, "st1", 5, sha1_compress),
            _ => unreachable!(),
        }
        let body = c.finish();
        match target {
            Target::Wgsl => {
                let _ = write!(
                    src,
                    "\n@compute @workgroup_size({WORKGROUP})\n\
                     fn {name}(@builtin(global_invocation_id) gid: vec3<u32>) {{\n    \
                     let i = gid.x;\n    let n = p.n;\n    let count = p.count;\n    \
                     let nb256 = p.nb256;\n    let nb1 = p.nb1;\n    let lanes = {lanes};\n    \
                     if (i >= lanes) {{ return; }}\n{body}}}\n"
                );
            }
            Target::Cuda => {
                let _ = write!(
                    src,
                    "\nextern \"C\" __global__ void __launch_bounds__({WORKGROUP}) {name}(\
                     uint32_t n, uint32_t count, uint32_t nb256, uint32_t nb1, \
                     uint32_t* __restrict__ st256, uint32_t* __restrict__ st1, \
                     const uint32_t* __restrict__ msg) {{\n    \
                     const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;\n    \
                     const uint32_t lanes = {lanes};\n    \
                     if (i >= lanes) {{ return; }}\n    \
                     (void)count; (void)nb256; (void)nb1; (void)st256; (void)st1; (void)msg;\n{body}}}\n"
                );
            }
        }
    }
    src
}

/// The CUDA kernels for thread blocks of `block` threads (their `__launch_bounds__`, which bounds
/// the registers NVRTC may give each thread); [`kernels`] is the same for [`WORKGROUP`].
pub fn cuda_kernels(block: u32) -> String {
    kernels(Target::Cuda).replace(
        &format!("__launch_bounds__({WORKGROUP})"),
        &format!("__launch_bounds__({block})"),
    )
}

/// 32-bit operations in one PBKDF2 iteration (two compressions, and the XOR into T) of the
/// SHA-256 and SHA-1 loops, as generated (after constant folding).
pub fn loop_ops() -> (OpCount, OpCount) {
    let mut c = Code::new(Target::Cuda);
    let names = |p: &str, n: usize| {
        (0..n)
            .map(|j| Val::E(format!("{p}{j}")))
            .collect::<Vec<_>>()
    };
    let ih = sha256_compress(&mut c, &names("is", 8), &hmac_pad_block(&names("u", 8)));
    sha256_compress(&mut c, &names("os", 8), &hmac_pad_block(&ih));
    let op256 = c.ops;
    let mut c = Code::new(Target::Cuda);
    let ih = sha1_compress(&mut c, &names("is", 5), &hmac_pad_block(&names("u", 5)));
    sha1_compress(&mut c, &names("os", 5), &hmac_pad_block(&ih));
    (op256, c.ops)
}
