//! x86-64 SIMD kernels. Each is compiled for its CPU feature with `#[target_feature]` and only
//! entered after runtime detection of that feature.

pub(crate) mod avx2;
pub(crate) mod avx512;
mod lanes;
pub(crate) mod shani;
